// Value types the configuration schemas share, each as the upstream program parses it.
import { z } from 'zod';

/** A reference the program fills from its environment when it reads the file: `${NAME}` (Loki, Tempo with -config.expand-env=true). */
export const ENV_REFERENCE = /^\$\{[A-Z_][A-Z0-9_]*\}$/;
/** The Collector's form, `${env:NAME}` (https://opentelemetry.io/docs/collector/configuration/#environment-variables). */
export const COLLECTOR_ENV_REFERENCE = /\$\{env:[A-Z_][A-Z0-9_]*\}/;

const envReference = z.string().regex(ENV_REFERENCE);

/** Go's time.Duration ("5m", "1h30m", "336h"; no days): Tempo's durations, the Collector's. */
export const GoDuration = z.string().regex(/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/, { error: 'must be a Go duration such as "5m" or "336h" (no "d")' });
/** Prometheus's model.Duration ("24h", "7d", "1w"): Loki's durations. */
export const PromDuration = z.string().regex(/^(\d+(ms|s|m|h|d|w|y))+$/, { error: 'must be a duration such as "24h" or "7d"' });

/** A duration written as such, or a `${NAME}` the program expands at start. */
export const GoDurationOrEnv = z.union([GoDuration, envReference], { error: 'must be a Go duration such as "336h" or a ${NAME} reference' });
export const PromDurationOrEnv = z.union([PromDuration, envReference], { error: 'must be a duration such as "7d" or a ${NAME} reference' });

export const Port = z.int().min(1).max(65535);
/** host:port as Go's net.Listen and gRPC dialers take it; the host may be a `${env:NAME}` reference. */
export const HostPort = z.string().regex(/^(\$\{env:[A-Z_][A-Z0-9_]*\}|[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):\d{1,5}$/, { error: 'must be host:port' });
export const AbsolutePath = z.string().regex(/^\/[^\s]*$/, { error: 'must be an absolute path' });
export const LogLevel = z.enum(['debug', 'info', 'warn', 'error']);
