import { writeSweepIndex } from '@sweepq/report';
import type { Logger } from '@sweepq/runtime';
import type { ArtifactStore } from '@sweepq/storage';

/**
 * Rewrites `sweeps/index.html` in the background when a sweep starts or ends: at most one rewrite at a time per
 * coordinator, and requests made during one are folded into a single rewrite after it. A failure is logged; the index
 * is a view of the bucket, never worth failing a sweep for.
 */
export class IndexRefresher {
  #running: Promise<void> | undefined;
  #again = false;

  constructor(
    private readonly store: ArtifactStore,
    private readonly log: Logger,
  ) {}

  request(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        try {
          const t0 = Date.now();
          const r = await writeSweepIndex(this.store);
          this.log.debug({ sweeps: r.sweeps, bytes: r.bytes, ms: Date.now() - t0 }, 'sweep index written');
        } catch (err) {
          this.log.warn({ err: (err as Error).message }, 'could not write sweeps/index.html');
        }
      } while (this.#again);
      this.#running = undefined;
    })();
  }

  /** Wait for a rewrite in progress (shutdown). */
  async idle(): Promise<void> {
    await this.#running;
  }
}
