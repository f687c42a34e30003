import { committedTrialIds, type SweepLifecycle, type TrialLifecycle } from '@sweepq/lifecycle';
import { TrialState, objectiveValues } from '@sweepq/results';
import type { Logger } from '@sweepq/runtime';
import type { Observation } from '@sweepq/search';
import { outsideSpace, type SweepSpec } from '@sweepq/sweep-config';
import type { ArtifactStore } from '@sweepq/storage';
import { PriorSweepError, PriorSweepErrorCode } from './errors.js';


/**
 * Observations from the sweeps named in `prior_sweeps`, for the TPE sampler: every finished trial (completed, or
 * stopped early at its rung value) that lies inside this sweep's search space. A prior sweep that does not exist,
 * optimised another metric, or has no trial inside this space is an error naming it; trials outside the space are
 * left out with a notice naming the parameter, since their values are not comparable.
 */
export async function priorObservations(
  spec: SweepSpec,
  sweepId: string,
  deps: { store: ArtifactStore; lifecycle: SweepLifecycle; trialLifecycle: TrialLifecycle; logger: Logger },
): Promise<Observation[]> {
  const out: Observation[] = [];
  for (const prior of spec.prior_sweeps ?? []) {
    if (prior === sweepId) throw new PriorSweepError(PriorSweepErrorCode.Self, prior, `prior_sweeps: ${prior} is this sweep itself; name earlier sweeps (sweepq list)`);
    const record = await deps.lifecycle.read(prior);
    if (!record) throw new PriorSweepError(PriorSweepErrorCode.NotFound, prior, `prior_sweeps: no sweep "${prior}" in ${deps.store.uri('sweeps/')}; see sweepq list for the sweeps there`);
    if (record.metric && record.metric.name !== spec.metric.name) {
      throw new PriorSweepError(PriorSweepErrorCode.OtherMetric, prior, `prior_sweeps: ${prior} optimised ${record.metric.name}, this sweep ${spec.metric.name}; warm-starting needs the same metric`);
    }
    const outside = new Map<string, number>();
    let used = 0;
    let finished = 0;
    for (const trialId of await committedTrialIds(deps.store, prior)) {
      const r = await deps.trialLifecycle.result(prior, trialId);
      if (!r || (r.state !== TrialState.Completed && r.state !== TrialState.Stopped) || r.metric.value === null) continue;
      finished += 1;
      const name = outsideSpace(spec, r.params);
      if (name !== undefined) {
        outside.set(name, (outside.get(name) ?? 0) + 1);
        continue;
      }
      out.push({
        params: r.params,
        value: r.metric.value,
        // Every objective of this sweep, read from the prior's result whatever it optimised (costs included).
        ...(spec.objectives ? { values: objectiveValues(r, spec.objectives) } : {}),
        ...(r.state === TrialState.Stopped && r.stoppedAtEpoch ? { stoppedAtEpoch: r.stoppedAtEpoch } : {}),
      });
      used += 1;
    }
    const why = [...outside].map(([n, k]) => `${n} (${k})`).join(', ');
    if (used === 0) {
      throw new PriorSweepError(
        PriorSweepErrorCode.OutsideSpace,
        prior,
        `prior_sweeps: none of the ${finished} finished trials of ${prior} lies inside this sweep's search space${why ? `; parameters outside it: ${why}` : ''}; widen this sweep's ranges or values to include them, or drop ${prior}`,
      );
    }
    deps.logger.info({ prior, used, finished, ...(why ? { leftOut: why } : {}) }, `warm start: ${used} of ${finished} trials of ${prior}${why ? `; left out (outside this space): ${why}` : ''}`);
  }
  return out;
}
