export { SweepLifecycle, SweepDoc, emptyCounts, type LifecycleDeps, type Liveness, type StrandedSweep, type SweepOwner, type TrialCounts } from './sweep-lifecycle.js';
export { TrialLifecycle, type JobLease, type TrialLifecycleDeps } from './trial-lifecycle.js';
export { effectiveSpec, finalizeSweep, plannedFromBucket, type FinalizeOptions, type PlannedTrialRef, type SweepSummary } from './finalize.js';
export { SWEEP_TRANSITIONS, SWEEP_TRANSITION_CAUSES, TRIAL_TRANSITIONS, assertSweepTransition, sweepTransitionTable } from './transitions.js';
export { parseSweepRecord, readSweepRecord, readTrialResult, readTrialResultAt, committedTrialIds, trialFiles, sweepRecordSchema, trialResultSchema } from './records.js';
export { LifecycleError, LifecycleErrorCode, LockLostError } from './errors.js';
export { rebuildRungs } from './rebuild-rungs.js';
export { VersionedJson, newWriteId, type Versioned } from './versioned-json.js';
export { ownerViews } from './owner-views.js';
