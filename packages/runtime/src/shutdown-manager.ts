import { setMaxListeners } from 'node:events';
import type { Logger } from './logger.js';

/** A step run on shutdown; steps run in registration order. */
export interface ShutdownStep {
  name: string;
  run: (signal: AbortSignal) => Promise<void> | void;
}

/** Options for {@link ShutdownManager}. */
export interface ShutdownManagerOptions {
  logger: Logger;
  /** Milliseconds the whole shutdown may take before the process is forced out; default 25 000 (below Kubernetes' 30 s grace). */
  deadlineMs?: number;
  /** Ends the process; the service passes `process.exit` (packages never exit by themselves). */
  exit: (code: number) => void;
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/**
 * One per process. Stops work in order on SIGTERM/SIGINT: the registered steps run one after another
 * (stop taking work -> let training checkpoint -> close queues -> quit Redis). It is idempotent, a second
 * signal forces an immediate exit, and a deadline bounds the whole thing. Exit code is 128 + signal number.
 *
 * The manager installs signal handlers only when {@link install} is called, which only services do.
 */
export class ShutdownManager {
  readonly #log: Logger;
  readonly #deadlineMs: number;
  readonly #exit: (code: number) => void;
  readonly #steps: ShutdownStep[] = [];
  readonly #controller = new AbortController();
  #running: Promise<void> | undefined;

  constructor(opts: ShutdownManagerOptions) {
    this.#log = opts.logger;
    this.#deadlineMs = opts.deadlineMs ?? 25_000;
    this.#exit = opts.exit;
    // Every task in flight listens to this one signal (a worker with concurrency 32 runs 32 trials), so the
    // default limit of 10 listeners would warn of a leak that is not one.
    setMaxListeners(0, this.#controller.signal);
  }

  /** Aborted as soon as shutdown starts; long-running work watches it. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Add a step. Steps run in the order they were added. */
  register(name: string, run: ShutdownStep['run']): void {
    this.#steps.push({ name, run });
  }

  /** Install SIGTERM/SIGINT handlers on the current process. */
  install(): void {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      process.on(sig, () => {
        if (this.#running) {
          this.#log.warn({ signal: sig }, 'second signal: exiting now');
          this.#exit(128 + (SIGNAL_NUMBERS[sig] ?? 0));
          return;
        }
        void this.shutdown(sig).then((code) => this.#exit(code));
      });
    }
  }

  /** Run the shutdown steps once; later calls return the first run. Resolves to the exit code. */
  async shutdown(reason: string): Promise<number> {
    const code = 128 + (SIGNAL_NUMBERS[reason] ?? -128);
    if (!this.#running) {
      this.#log.info({ reason, deadlineMs: this.#deadlineMs }, 'shutting down');
      this.#controller.abort(new Error(`shutdown: ${reason}`));
      this.#running = this.#runSteps();
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), this.#deadlineMs);
      timer.unref();
    });
    const outcome = await Promise.race([this.#running.then(() => 'done' as const), deadline]);
    clearTimeout(timer);
    if (outcome === 'deadline') {
      this.#log.error({ deadlineMs: this.#deadlineMs }, 'shutdown deadline passed; forcing exit');
      return 1;
    }
    return code < 128 ? 0 : code;
  }

  async #runSteps(): Promise<void> {
    for (const step of this.#steps) {
      try {
        await step.run(this.#controller.signal);
        this.#log.debug({ step: step.name }, 'shutdown step done');
      } catch (err) {
        this.#log.error({ step: step.name, err }, 'shutdown step failed');
      }
    }
  }
}
