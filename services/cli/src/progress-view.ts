import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { TrialProgress } from '@sweepq/queue';
import { formatSignificant } from '@sweepq/results';

/**
 * Live progress of running trials: one bar per trial on a TTY, plain lines elsewhere (logs, CI).
 */
export class ProgressView {
  readonly #tty: boolean;
  readonly #multi: MultiBar | undefined;
  readonly #bars = new Map<string, SingleBar>();
  readonly #lastLine = new Map<string, string>();
  readonly #out: NodeJS.WriteStream;

  constructor(out: NodeJS.WriteStream = process.stdout) {
    this.#out = out;
    this.#tty = Boolean(out.isTTY);
    this.#multi = this.#tty
      ? new MultiBar(
          {
            format: ' {trial} |{bar}| epoch {epoch}/{epochs} {detail}',
            hideCursor: true,
            clearOnComplete: false,
            stopOnComplete: false,
            etaBuffer: 20,
          },
          Presets.shades_classic,
        )
      : undefined;
  }

  update(p: TrialProgress): void {
    const fraction = p.epochs > 0 ? (p.epoch + (p.batches ? (p.batch ?? 0) / p.batches : 0)) / p.epochs : 0;
    const detail = [
      p.loss !== undefined ? `loss ${formatSignificant(p.loss)}` : '',
      p.val_accuracy !== undefined ? `val_acc ${formatSignificant(p.val_accuracy)}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    const payload = { trial: p.trialId, epoch: p.epoch, epochs: p.epochs, detail };
    if (this.#multi) {
      const bar = this.#bars.get(p.trialId) ?? this.#multi.create(1000, 0, payload);
      this.#bars.set(p.trialId, bar);
      bar.update(Math.round(fraction * 1000), payload);
      return;
    }
    // Plain mode: one line per finished epoch, nothing per batch.
    if (p.batch !== undefined) return;
    const line = `${p.trialId} epoch ${p.epoch}/${p.epochs} ${detail}`;
    if (this.#lastLine.get(p.trialId) !== line) {
      this.#lastLine.set(p.trialId, line);
      this.#out.write(`${line}\n`);
    }
  }

  /** Print a message above the bars. */
  log(message: string): void {
    if (this.#multi) this.#multi.log(`${message}\n`);
    else this.#out.write(`${message}\n`);
  }

  stop(): void {
    this.#multi?.stop();
  }
}
