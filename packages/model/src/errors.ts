import { SweepqError } from '@sweepq/runtime';

/** Base class of the errors this package raises on purpose (bad options, unavailable backend, bad state). */
export class ModelError extends SweepqError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * Training produced a non-finite loss. Deterministic for a given trial (same seed, same data), so callers
 * should not retry it (the worker maps it to BullMQ's `UnrecoverableError`).
 */
export class DivergedError extends ModelError {
  /** 1-based epoch in which the loss became non-finite. */
  readonly epoch: number;
  /** 0-based batch index within that epoch. */
  readonly batch: number;
  /** The offending loss value (NaN or ±Infinity). */
  readonly loss: number;
  /**
   * @param what what was found non-finite; default `loss`. The wasm backend's clipping can hide NaN in the loss,
   *   so the training loop also checks the output layer's weights (`weights`) and the validation loss.
   */
  constructor(epoch: number, batch: number, loss: number, what: 'loss' | 'weights' | 'validation loss' = 'loss') {
    super(
      'DIVERGED',
      what === 'weights'
        ? `training diverged: non-finite weights after epoch ${epoch}, batch ${batch} (batch loss ${String(loss)}); expected finite weights (try a lower learning_rate)`
        : `training diverged: ${what} is ${String(loss)} at epoch ${epoch}, batch ${batch}; expected a finite ${what} (try a lower learning_rate)`,
    );
    this.epoch = epoch;
    this.batch = batch;
    this.loss = loss;
  }
}
