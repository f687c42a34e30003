import { SweepqError } from '@sweepq/runtime/errors';

/** Codes of {@link SearchError}. */
export const SearchErrorCode = {
  /** Every configuration of a finite search space has been observed or is in flight. */
  SpaceExhausted: 'SPACE_EXHAUSTED',
  /** The spec does not describe what was asked (e.g. a TPE sampler for a spec without parameters to model). */
  InvalidSpec: 'INVALID_SPEC',
} as const;
export type SearchErrorCode = (typeof SearchErrorCode)[keyof typeof SearchErrorCode];

/** Thrown by the search package for conditions the caller must handle (not for programming errors). */
export class SearchError extends SweepqError {
  declare readonly code: SearchErrorCode;

  constructor(code: SearchErrorCode, message: string) {
    super(code, message);
  }
}
