// Building blocks of the environment model: quantities, whole numbers, container resources and
// workloads, each with messages that say what to write instead.
import { z } from 'zod';
import { cidrError } from '../lib/cidr';
import { crossField } from './follow-on';
import { cronScheduleError } from '../lib/cron';
import { isQuantity, parseQuantity } from '../lib/quantity';

/** A quantity's value; NaN for a malformed one (already reported), so comparisons with it are false. */
export const num = (text: string): number => parseQuantity(text) ?? Number.NaN;

export const quantityOf = (example: string) =>
  z.string({ error: `must be a Kubernetes quantity string such as "${example}"` }).refine(isQuantity, {
    error: (issue) =>
      `"${String(issue.input)}" is not a Kubernetes quantity: write it like "${example}" (a number with an optional suffix m, Ki, Mi, Gi, Ti, k, M, G)`,
  });
export const Cpu = quantityOf('500m');
export const Memory = quantityOf('512Mi');
export const Storage = quantityOf('10Gi');

/** An IPv4 or IPv6 CIDR block, parsed by ipaddr.js (lib/cidr.ts). */
export const Cidr = z
  .string({ error: 'must be a CIDR such as "10.0.0.0/8"' })
  .refine((text) => cidrError(text) === undefined, { error: (issue) => cidrError(String(issue.input)) });

/** A CronJob schedule exactly as Kubernetes takes it, parsed by cron-parser (lib/cron.ts). */
export const CronSchedule = z
  .string({ error: 'must be a cron schedule such as "0 2 * * *"' })
  .refine((text) => cronScheduleError(text) === undefined, { error: (issue) => cronScheduleError(String(issue.input)) });

export const wholeNumber = (what: string, min: number) =>
  z
    .number({ error: `must be a whole number (${what})` })
    .int({ error: `must be a whole number (${what})` })
    .min(min, { error: (issue) => `must be ${min} or more (${what}), got ${String(issue.input)}` });

export const ResourceAmounts = z.strictObject({
  cpu: Cpu,
  memory: Memory,
  ephemeralStorage: Storage,
});

/** Requests and limits for one container; every value explicit, limits never below requests. */
export const Resources = z.strictObject({ requests: ResourceAmounts, limits: ResourceAmounts }).superRefine(
  crossField((r, ctx) => {
    for (const key of ['cpu', 'memory', 'ephemeralStorage'] as const) {
      if (num(r.limits[key]) < num(r.requests[key])) {
        ctx.addIssue({
          code: 'custom',
          path: ['limits', key],
          message: `limit ${r.limits[key]} is below the request ${r.requests[key]}: raise limits.${key} or lower requests.${key}`,
        });
      }
    }
  }),
);
export type Resources = z.infer<typeof Resources>;

/** How many pods of a multi-replica workload may be evicted at once (becomes its PodDisruptionBudget). */
export const Disruption = z.union([
  z.strictObject({ maxUnavailable: wholeNumber('pods that may be down during a drain', 1) }),
  z.strictObject({ minAvailable: wholeNumber('pods that must stay up during a drain', 0) }),
]);

/** The fields every component has: how many pods, how big each is, how it tolerates disruption. */
export const workloadShape = {
  replicas: wholeNumber('pods', 0),
  resources: Resources,
  /** @default { maxUnavailable: 1 } when a PDB is made (see lib/availability.ts) */
  disruption: Disruption.optional(),
};

/** A PodDisruptionBudget must leave at least one pod evictable, or nodes can never be drained. */
export const checkDisruption = crossField(function checkDisruption(
  w: { replicas: number; disruption?: z.infer<typeof Disruption> },
  ctx: z.RefinementCtx,
): void {
  if (w.disruption && 'minAvailable' in w.disruption && w.replicas > 0 && w.disruption.minAvailable >= w.replicas) {
    ctx.addIssue({
      code: 'custom',
      path: ['disruption', 'minAvailable'],
      message: `minAvailable ${w.disruption.minAvailable} with ${w.replicas} replica(s) blocks every eviction, so nodes can never be drained: set it below ${w.replicas} or use maxUnavailable: 1`,
    });
  }
});

/** One stateless component. */
export const Workload = z.strictObject(workloadShape).superRefine(checkDisruption);
export type Workload = z.infer<typeof Workload>;
