// Environment settings of the product itself: the api (released by canary), the worker and the
// scheduler; which image each runs (environments/releases/<env>.json, written by `npm run
// promote`), the canary's steps and the analysis thresholds that decide a release.
import { z } from 'zod';
import { FULL_WEIGHT, minimumPodsFor, onePodShare } from '../lib/facts/canary';
import { GITHUB_REPOSITORY } from '../lib/release-signing';
import { Resources, wholeNumber } from './fields';
import { crossField } from './follow-on';
import { APP_COMPONENTS } from './names';
import { StatelessService } from './supabase';

export { APP_COMPONENTS, type AppComponent } from './names';

/** "registry/repo:tag", "registry/repo@sha256:<64 hex>" or "registry/repo:tag@sha256:<64 hex>". */
export const IMAGE_REF =
  /^(?<repository>[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)+)(:(?<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(@(?<digest>sha256:[a-f0-9]{64}))?$/;

export const ImageReference = z
  .string({ error: 'must be an image reference such as "ghcr.io/acme/api@sha256:<64 hex>"' })
  .regex(IMAGE_REF, {
    error: (i) => `"${String(i.input)}" is not an image reference: write registry/repository:tag, registry/repository@sha256:<64 hex> or both`,
  })
  .refine((ref) => /[:@]/.test(ref.slice(ref.lastIndexOf('/'))), {
    error: (i) => `"${String(i.input)}" has neither tag nor digest, which means "latest": add the version tag and, outside dev, the @sha256: digest`,
  })
  .refine((ref) => !/:latest(@|$)/.test(ref), { error: '"latest" is not a version: use the release tag and digest' });

/** The image each component runs; `npm run promote` rewrites this file, nothing else. */
export const Releases = z.strictObject({ api: ImageReference, worker: ImageReference, scheduler: ImageReference });
export type Releases = z.infer<typeof Releases>;

/** Rate window of the analysis queries (charts/app/canary.ts). */
export const ANALYSIS_WINDOW = '2m';

/** Seconds in a duration such as "90s", "10m" or "1h" (already validated). */
export const durationSeconds = (d: string) => Number(d.slice(0, -1)) * { s: 1, m: 60, h: 3600 }[d.slice(-1) as 's' | 'm' | 'h'];

const Duration = z.string().regex(/^[1-9]\d*(s|m|h)$/, { error: 'must be a duration such as "5m", "90s" or "1h"' });

/** One step of the canary before the last: a weight held for a pause (lib/facts/canary.ts). */
const CanaryStep = z.strictObject({
  /** Percent of the api's pods that run the new version during the step. */
  weight: wholeNumber('percent', 1).max(FULL_WEIGHT - 1, {
    error: `must be below ${FULL_WEIGHT}: the release ends at ${FULL_WEIGHT}% after the last step by itself`,
  }),
  /** How long the step lasts before the next one. */
  pause: Duration,
});

/**
 * The canary's steps, as { weight, pause } in order (the release ends at 100% after the last),
 * and how the analysis judges the canary. The Rollout's steps are derived from them
 * (charts/app/canary.ts), and so is the fewest api pods the first weight needs (AppConfig).
 */
export const Canary = z
  .strictObject({
    /** The weights the release goes through before 100%, rising, each with how long it lasts. */
    steps: z.array(CanaryStep).min(1, { error: 'must list at least one step, such as [{ weight: 10, pause: "10m" }]' }),
    analysis: z.strictObject({
      /** How often each query runs. @default "1m" */
      interval: Duration.default('1m'),
      /** Highest share of the canary's responses that may be 5xx (0.01 = 1%). */
      maxErrorRatio: z.number().gt(0, { error: 'must be above 0' }).lt(1, { error: 'must be below 1 (a ratio, 0.01 = 1%)' }),
      /** Highest p95 latency of the canary, in seconds. */
      maxP95Seconds: z.number().gt(0, { error: 'must be above 0 (seconds)' }),
      /** Failed measurements tolerated before the release aborts. @default 1 */
      failureLimit: wholeNumber('measurements', 0).default(1),
      /** Measurements in a row without data before the release pauses for a human. @default 3 */
      inconclusiveLimit: wholeNumber('measurements', 1).default(3),
    }),
  })
  .superRefine(
    crossField((c, ctx) => {
      // Each step must last long enough for one measurement whose whole rate window saw that
      // step's traffic; a shorter pause moves on before the analysis has judged the step.
      const needed = durationSeconds(ANALYSIS_WINDOW) + durationSeconds(c.analysis.interval);
      c.steps.forEach((step, i) => {
        if (durationSeconds(step.pause) < needed) {
          ctx.addIssue({
            code: 'custom',
            path: ['steps', i, 'pause'],
            message: `${step.pause} is shorter than one measurement of the step (the ${ANALYSIS_WINDOW} query window plus the ${c.analysis.interval} interval): make it at least ${needed / 60}m`,
          });
        }
        // A weight at or below the one before would move pods back to the old version mid-release.
        const previous = c.steps[i - 1];
        if (previous && step.weight <= previous.weight) {
          ctx.addIssue({
            code: 'custom',
            path: ['steps', i, 'weight'],
            message: `${step.weight} is not above the step before (${previous.weight}): the weights must rise`,
          });
        }
      });
    }),
  );
export type Canary = z.infer<typeof Canary>;

/** One hostname:port the worker and scheduler call (blockchain RPC), reached over TLS on 443. */
const RpcEndpoint = z.url({ protocol: /^https$/, error: 'must be an https:// URL of a blockchain RPC endpoint' });

export const AppConfig = z
  .strictObject({
    /** The api: HTTP behind Kong at /app/v1/, released by canary. */
    api: StatelessService,
    /** The worker: consumes jobs from Redis. */
    worker: StatelessService,
    /** The scheduler: always exactly one pod. */
    scheduler: z.strictObject({ resources: Resources }),
    releases: Releases,
    canary: Canary,
    /** Blockchain RPC endpoints the worker and scheduler call (internet egress on 443). */
    rpcEndpoints: z.array(RpcEndpoint).min(1, { error: 'must list at least one RPC endpoint' }),
    /**
     * Who must have signed the product's images: the release workflow of the platform repository
     * (.github/workflows/image-release.yml), called at one of that repository's release tags
     * (`@vX.Y.Z`), which is the Cosign keyless identity Kyverno checks at admission. The identity
     * and its issuer are derived from the repository in lib/release-signing.ts
     * (docs/decisions/0007-release-signing-identity.md).
     */
    signing: z.strictObject({
      /** The platform repository as owner/name, spelt as GitHub spells it, such as "example-defi/supabase-platform". */
      repository: z.string().regex(GITHUB_REPOSITORY, {
        error: 'must be the platform repository as owner/name, such as "example-defi/supabase-platform" (the release workflow\'s repository, not a URL)',
      }),
      /** Enforce rejects unsigned pods; Audit only reports them (dev, where images may be local builds). @default "Enforce" */
      failureAction: z.enum(['Enforce', 'Audit']).default('Enforce'),
    }),
    /**
     * The product's images are loaded onto the nodes (`kind load docker-image`, the README's quick
     * start) rather than pulled: the pods pull IfNotPresent, so the kubelet uses the loaded copy.
     * Dev only; elsewhere images come from the registry by digest. @default false
     */
    localImages: z.boolean().default(false),
    /** Connections each app pod may open to the rw PgBouncer pooler (DATABASE_POOL_SIZE). @default 10 */
    databasePoolSize: wholeNumber('connections', 1).default(10),
    /** The app's log level. @default "info" */
    logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  })
  .superRefine(
    crossField((c, ctx) => {
      // Without a traffic router Argo Rollouts splits traffic by pod count: the first step sends
      // at least one of N pods' share to the canary, which is the first weight only from
      // minimumPodsFor(weight) pods on.
      const first = c.canary.steps[0]?.weight;
      if (first === undefined) return;
      const pods = c.api.autoscaling?.minReplicas ?? c.api.replicas;
      const least = minimumPodsFor(first);
      if (pods < least) {
        ctx.addIssue({
          code: 'custom',
          path: c.api.autoscaling ? ['api', 'autoscaling', 'minReplicas'] : ['api', 'replicas'],
          message: `is ${pods}, but the canary weights traffic by pod count (Kong cannot split by version): with ${pods} pods the ${first}% step sends ${onePodShare(pods)}% of requests to the canary; run at least ${least} api pods`,
        });
      }
    }),
  );
export type AppConfig = z.infer<typeof AppConfig>;

/**
 * Whether an environment runs only images pinned by digest: every one but dev, whose image
 * policy only audits so that local builds run. Elsewhere Kyverno's verifyImages rule (verifyDigest,
 * charts/security/image-policy-chart.ts) refuses a pod whose image has no digest, and a tag can
 * be moved to other bytes.
 */
export const requiresDigest = (env: string): boolean => env !== 'dev';

/** Outside dev, every release is pinned by digest (see requiresDigest) and pulled from the registry. */
export function checkDigests(env: { name: string; app: AppConfig }, ctx: z.RefinementCtx): void {
  if (!requiresDigest(env.name)) return;
  if (env.app.localImages) {
    ctx.addIssue({
      code: 'custom',
      path: ['app', 'localImages'],
      message: `is for dev's local builds; ${env.name} pulls its images from the registry by digest: remove it`,
    });
  }
  for (const component of APP_COMPONENTS) {
    const ref = env.app.releases[component];
    if (!ref.includes('@sha256:')) {
      ctx.addIssue({
        code: 'custom',
        path: ['app', 'releases', component],
        message: `"${ref}" has no digest; ${env.name} runs only images pinned by @sha256: digest (its admission policy refuses a tag alone): promote the digest the image release printed`,
      });
    }
  }
}
