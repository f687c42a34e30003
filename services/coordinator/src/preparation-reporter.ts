import type { PreparationProgress } from '@sweepq/results';
import type { Logger } from '@sweepq/runtime';

/**
 * Writes the preparation's progress into sweep.json (through the sweep's own fenced writer, as every state the
 * coordinator reports), one write at a time: a report that arrives while one is being written replaces any that
 * waits. A failed write is logged and skipped; losing the sweep shows at the next heartbeat.
 *
 * A preparation that ends within {@link QUIET_MS} (a dataset of a few MB, or one prepared before) writes no progress
 * of its own: `status` polls far less often than that, and each write is a compare-and-set round trip on the sweep's
 * start-up path. What was last reported then waits in {@link pending}, for the write that records the dataset.
 */
export class PreparationReporter {
  #writing: Promise<void> = Promise.resolve();
  #next: PreparationProgress | undefined;
  #busy = false;
  readonly #quietUntil: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly doc: { save(patch: { preparation: PreparationProgress }): Promise<void> },
    private readonly log: Logger,
    quietMs = QUIET_MS,
  ) {
    this.#quietUntil = Date.now() + quietMs;
  }

  report(p: PreparationProgress): void {
    this.#next = p;
    if (this.#busy || this.#timer) return;
    const wait = this.#quietUntil - Date.now();
    if (wait > 0) {
      // The first write, should the preparation still run then; unref'd and cleared at flush, so it never holds the process.
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#write();
      }, wait);
      this.#timer.unref();
      return;
    }
    this.#write();
  }

  #write(): void {
    if (this.#busy || this.#next === undefined) return;
    this.#busy = true;
    this.#writing = (async () => {
      while (this.#next !== undefined) {
        const preparation = this.#next;
        this.#next = undefined;
        await this.doc.save({ preparation }).catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'could not record the preparation progress'));
      }
      this.#busy = false;
    })();
  }

  /** Wait for the write in flight (before the next write of the sweep's record); a report still unwritten stays {@link pending}. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return this.#writing;
  }

  /** The last report not yet written, as a patch for the caller's next write of the record. */
  pending(): { preparation?: PreparationProgress } {
    const p = this.#next;
    this.#next = undefined;
    return p ? { preparation: p } : {};
  }
}

/** A preparation shorter than this writes no progress of its own (see {@link PreparationReporter}). */
export const QUIET_MS = 1000;
