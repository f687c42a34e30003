import { DEFAULT_PARAMS, MAX_TRIALS, PARAMETER_NAMES, SpecError, applyConditions, paramsKey } from '@sweepq/sweep-config';
import type { ParamValue, SweepSpec, TrialParams } from '@sweepq/sweep-config';
import { gridCombinations } from './samplers/grid.js';
import { randomCombination } from './samplers/random.js';

/** One trial of a sweep as planned before it runs. */
export interface PlannedTrial {
  /** 0-based position in the plan. */
  index: number;
  /** `trialId(index)`. */
  trialId: string;
  params: TrialParams;
}

/**
 * Id of the trial at `index`: `t0000`, `t0001`, … `t9999`, `t10000` (at least 4 digits, zero padded).
 * Only [a-z0-9], so it is safe in BullMQ job ids (no `:`), S3 keys and file names.
 * @throws RangeError when index is not a non-negative safe integer.
 */
export function trialId(index: number): string {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`trial index must be a non-negative integer, got ${String(index)}`);
  return `t${String(index).padStart(4, '0')}`;
}

/** The seed of trial `index` (initializers, dropout, batch order): distinct per trial, fixed by the sweep's seed. */
export function trialSeed(sweepSeed: number, index: number): number {
  return sweepSeed * 1_000_003 + index;
}

function toTrialParams(combo: Readonly<Record<string, ParamValue>>): TrialParams {
  const params: Record<string, ParamValue> = {};
  for (const name of PARAMETER_NAMES) params[name] = Object.hasOwn(combo, name) ? (combo[name] as ParamValue) : DEFAULT_PARAMS[name];
  return params as unknown as TrialParams;
}

/** Redraws of an extension trial before the space counts as exhausted, and the stream offset between redraws. */
const MAX_REDRAWS = 1000;
const REDRAW_STRIDE = 10_000_019;

/** The trial's parameters as they will run (conditions applied), as a comparable key. */
function comboKey(spec: SweepSpec, combo: Readonly<Record<string, ParamValue>>): string {
  return paramsKey(applyConditions(spec, toTrialParams(combo)));
}

/**
 * Expands a validated spec into its trials; parameters the spec does not mention take DEFAULT_PARAMS.
 * - grid: the cartesian product in written key order, last key fastest, truncated to `run_cap`.
 * - random: `run_cap` trials drawn reproducibly from `seed` (trial k depends only on seed and k); from
 *   `no_repeats_from` on (an extended sweep), no trial repeats an earlier configuration, and the plan ends early when
 *   the space has none left.
 * - bayes: not planned up front; trials are proposed one at a time as results arrive (`TpeSampler`), so this throws.
 * Conditional parameters that do not apply to a trial take DEFAULT_PARAMS; a grid enumerates them only where they
 * apply, so no combination repeats. Pure and deterministic: the same spec always gives the same plan.
 * @throws SpecError for a spec that validateSpec would have rejected (random without run_cap, too many trials),
 *   and for method bayes.
 */
export function planTrials(spec: SweepSpec): PlannedTrial[] {
  const cap = spec.run_cap;
  if (cap !== undefined && (!Number.isSafeInteger(cap) || cap < 1 || cap > MAX_TRIALS)) {
    throw new SpecError([{ path: 'run_cap', message: `expected an integer in [1, ${MAX_TRIALS}], got ${String(cap)}` }]);
  }
  const trials: PlannedTrial[] = [];
  const push = (combo: Readonly<Record<string, ParamValue>>): void => {
    const index = trials.length;
    trials.push({ index, trialId: trialId(index), params: applyConditions(spec, toTrialParams(combo)) });
  };
  switch (spec.method) {
    case 'grid': {
      for (const combo of gridCombinations(spec.parameters, cap ?? MAX_TRIALS + 1)) push(combo);
      if (cap === undefined && trials.length > MAX_TRIALS) {
        throw new SpecError([{ path: 'parameters', message: `the grid has more than ${MAX_TRIALS} combinations; set run_cap or use fewer values` }]);
      }
      return trials;
    }
    case 'random': {
      if (cap === undefined) throw new SpecError([{ path: 'run_cap', message: 'required for method random; add e.g. run_cap: 20' }]);
      const from = spec.no_repeats_from ?? cap;
      const seen = new Set<string>();
      for (let i = 0; i < cap; i++) {
        let combo = randomCombination(spec.parameters, spec.seed, i);
        // An extension continues the sequence without repeating a configuration: a repeat is drawn again from a
        // stream of its own (still fixed by seed and index); a space with nothing left ends the plan there.
        for (let k = 1; i >= from && seen.has(comboKey(spec, combo)) && k <= MAX_REDRAWS; k++) {
          combo = randomCombination(spec.parameters, spec.seed, i + k * REDRAW_STRIDE);
        }
        if (i >= from && seen.has(comboKey(spec, combo))) break;
        seen.add(comboKey(spec, combo));
        push(combo);
      }
      return trials;
    }
    case 'bayes':
      throw new SpecError([{ path: 'method', message: 'bayes trials are proposed one at a time as results arrive (TpeSampler in @sweepq/search), not planned up front' }]);
  }
}
