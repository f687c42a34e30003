// Defined here, beside the metric names a spec targets, so @sweepq/results can store it without depending on the
// model package that produces it.

/** Metrics of one finished epoch (Keras `History` names). */
export interface EpochLog {
  /** 1-based epoch number. */
  epoch: number;
  /** Mean training loss over the epoch's samples (the loss of each batch before its update, as Keras reports). */
  loss: number;
  /** Mean training accuracy over the epoch's samples. */
  accuracy: number;
  /** Validation loss after the epoch. */
  val_loss: number;
  /** Validation accuracy after the epoch. */
  val_accuracy: number;
  /** Wall-clock seconds of the epoch, validation included. */
  seconds: number;
  /** Training samples per second (training batches only, validation excluded). */
  samplesPerSec: number;
  /**
   * Only for a model that masks padding (batches trimmed, see `trainModel` in @sweepq/model): the mean over the epoch's samples
   * of the sequence length their batch was trimmed to (the model's work per sample scales with it).
   */
  meanSeqLen?: number;
}
