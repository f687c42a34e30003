import { SweepqError } from '@sweepq/runtime';

/** Why a report or best-model operation failed. */
export const ReportErrorCode = {
  /** `sweep.json` does not exist. */
  NoSweep: 'NO_SWEEP',
  /** A trial's model files are missing. */
  NoModel: 'NO_MODEL',
  /** The chart library could not be found to inline. */
  NoChartLibrary: 'NO_CHART_LIBRARY',
} as const;
export type ReportErrorCode = (typeof ReportErrorCode)[keyof typeof ReportErrorCode];

/** Error of the report package, with a code and a message that names what is missing. */
export class ReportError extends SweepqError {
  declare readonly code: ReportErrorCode;
  constructor(code: ReportErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
