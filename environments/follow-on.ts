// One refusal per mistake. A check that relates several fields (a limit against its request, the
// pods of a namespace against its quota, instances against nodes) runs after zod has checked each
// field on its own, and a field that failed there still holds its bad value: a negative replica
// count or a max_connections below the minimum would be reported once for itself and again by
// every check that computes with it. `followOn` runs such a check, notes every field it reads,
// and drops what it reports when one of those fields already failed: the field's own message is
// the one the user needs.
import type { z } from 'zod';

type Path = readonly PropertyKey[];

const startsWith = (path: Path, prefix: Path) => prefix.length <= path.length && prefix.every((key, i) => String(key) === String(path[i]));

/** `value` behind a proxy that records the path of every plain value read through it. */
function tracked<T>(value: T, path: Path, reads: Path[]): T {
  if (typeof value !== 'object' || value === null) return value;
  return new Proxy(value, {
    get(target, key, receiver) {
      const child: unknown = Reflect.get(target, key, receiver);
      if (typeof key === 'symbol' || !Object.hasOwn(target, key)) return child;
      if (typeof child === 'object' && child !== null) return tracked(child, [...path, key], reads);
      reads.push([...path, key]);
      return child;
    },
  });
}

/** What a cross-field issue records so that checks further up know which fields it involved. */
interface Involved {
  /** The issue's path where it was raised, relative to the object refined there. */
  readonly raisedAt: Path;
  /** The fields the check read, relative to the same object. */
  readonly reads: readonly Path[];
}

/** Every path an issue makes suspect, relative to the object `ctx` refines now. */
function suspects(issue: z.RefinementCtx['issues'][number]): Path[] {
  const path = issue.path ?? [];
  const involved = (issue as { params?: { involved?: Involved } }).params?.involved;
  if (!involved) return [path];
  // The issue bubbled up from a nested object: its path gained that object's path in front.
  const prefix = path.slice(0, path.length - involved.raisedAt.length);
  return [path, ...involved.reads.map((read) => [...prefix, ...read])];
}

/**
 * Runs `check` on `value`; keeps the issues it adds to `ctx` only when no field it read had an
 * issue before it ran (paths relative to the object `ctx` refines). With `involve`, an issue it
 * keeps also marks every field the check read as suspect for the checks that run after it: a
 * LimitRange whose default is above its max is one mistake, not one more per container above
 * that max.
 */
export function followOn<T>(ctx: z.RefinementCtx, value: T, check: (value: T) => void, involve = false): void {
  const failed = ctx.issues.flatMap(suspects);
  const before = ctx.issues.length;
  const reads: Path[] = [];
  const dependsOnFailure = () => reads.some((read) => failed.some((path) => startsWith(read, path) || startsWith(path, read)));
  try {
    check(tracked(value, [], reads));
  } catch (error) {
    // A check may throw on a value it expects to be valid (a CIDR it compares): when that
    // value already failed, its own message says it all.
    if (!dependsOnFailure()) throw error;
    ctx.issues.splice(before);
    return;
  }
  if (ctx.issues.length === before) return;
  if (dependsOnFailure()) {
    ctx.issues.splice(before);
    return;
  }
  if (involve) {
    for (const issue of ctx.issues.slice(before)) {
      const raised = issue as { path?: PropertyKey[]; params?: Record<string, unknown> };
      raised.params = { ...raised.params, involved: { raisedAt: raised.path ?? [], reads } satisfies Involved };
    }
  }
}

/**
 * A superRefine callback run through `followOn`, its issues involving every field it read:
 * `.superRefine(crossField((value, ctx) => ...))`. For checks within one object of the model.
 */
export function crossField<T>(check: (value: T, ctx: z.RefinementCtx) => void): (value: T, ctx: z.RefinementCtx<T>) => void {
  return (value, ctx) => followOn(ctx, value, (v) => check(v, ctx), true);
}
