/**
 * Optional timing of the kernels' parts (benchmarks: `packages/model/bench/profile-step.ts`). Off by default; while off,
 * {@link mark} returns 0 and {@link record} does nothing, so the hot paths pay one boolean test per part and their
 * signatures carry no profiling arguments.
 */
let on = false;
const times = new Map<string, { calls: number; ms: number }>();

/** Turn timing on or off. */
export function setProfiling(enabled: boolean): void {
  on = enabled;
}

/** Whether timing is on. */
export function profiling(): boolean {
  return on;
}

/** A start time for {@link record} (0 while timing is off). */
export function mark(): number {
  return on ? performance.now() : 0;
}

/** Add the time since `since` (from {@link mark}) to `label`. */
export function record(label: string, since: number): void {
  if (!on) return;
  const e = times.get(label) ?? { calls: 0, ms: 0 };
  e.calls++;
  e.ms += performance.now() - since;
  times.set(label, e);
}

/** Accumulated times per part since the last reset (empty while timing was off). */
export function profileTimes(reset = false): Record<string, { calls: number; ms: number }> {
  const out = Object.fromEntries(times);
  if (reset) times.clear();
  return out;
}
