// The typed client for scripts, published as `sweepq-client` (and re-exported by `sweepq`): see docs/install.md.
export {
  SweepqClient,
  type SweepHandle,
  type SweepqClientOptions,
  type SweepqS3Options,
  type SubmitOptions,
  type WaitOptions,
  type BestModel,
  type CancelOutcome,
  type SweepStatus,
  type TrialProgress,
} from './client.js';
export { SweepqClientError, SweepqClientErrorCode } from './errors.js';
export type { Leaderboard, LeaderboardRow, SweepRecord, TrialResult } from '@sweepq/results';
export type { BestModelInfo } from '@sweepq/report';
export type { SweepSpec } from '@sweepq/sweep-config';
export { SweepState, TrialState } from '@sweepq/results';
