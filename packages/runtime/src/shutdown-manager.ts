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

/** The signals that shut a service down gracefully: SIGHUP too, which a closed terminal or session sends. */
const GRACEFUL_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

/**
 * One per process. Stops work in order on SIGTERM, SIGINT or SIGHUP: the registered steps run one after another
 * (stop taking work -> let training checkpoint -> close queues -> quit Redis). It is idempotent, a second
 * signal forces an immediate exit, and a deadline bounds the whole thing. Exit code is 128 + signal number.
 *
 * An unhandled promise rejection or an uncaught exception is fatal: it is logged and the same shutdown runs, ending
 * with exit code 1 (a process in an unknown state should not go on taking work, but its running trial should still
 * checkpoint and release its job). A second fatal error, or a signal, during that shutdown forces exit code 1 at once.
 *
 * The manager installs signal and error handlers only when {@link install} is called, which only services do.
 */
export class ShutdownManager {
  readonly #log: Logger;
  readonly #deadlineMs: number;
  readonly #exit: (code: number) => void;
  readonly #steps: ShutdownStep[] = [];
  readonly #controller = new AbortController();
  #running: Promise<void> | undefined;
  #fatal = 0;

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

  /**
   * Install handlers on the current process: SIGTERM, SIGINT and SIGHUP shut down gracefully; an unhandled rejection
   * or uncaught exception goes to {@link fatal}.
   */
  install(): void {
    for (const sig of GRACEFUL_SIGNALS) {
      process.on(sig, () => {
        if (this.#running) {
          this.#log.warn({ signal: sig }, 'second signal: exiting now');
          this.#exit(this.#fatal > 0 ? 1 : 128 + (SIGNAL_NUMBERS[sig] ?? 0));
          return;
        }
        void this.shutdown(sig).then((code) => this.#exit(code));
      });
    }
    process.on('unhandledRejection', (reason) => this.fatal(reason, 'unhandledRejection'));
    process.on('uncaughtException', (err, origin) => this.fatal(err, origin));
  }

  /**
   * A fatal error (what the installed `unhandledRejection`/`uncaughtException` handlers call): log it and shut down,
   * ending with exit code 1. If a shutdown is already running, that one ends with exit code 1 instead; a second fatal
   * error exits at once.
   */
  fatal(err: unknown, origin: string): void {
    this.#fatal += 1;
    const e = err instanceof Error ? err : new Error(String(err));
    if (this.#fatal > 1) {
      this.#log.error({ err: e, origin }, 'second fatal error during shutdown: exiting now');
      this.#exit(1);
      return;
    }
    this.#log.error({ err: e, origin }, this.#running ? 'fatal error during shutdown; exiting with code 1 when it ends' : 'fatal error; shutting down');
    void this.shutdown(origin).then((code) => this.#exit(code));
  }

  /**
   * Run the shutdown steps once; later calls return the first run. Resolves to the exit code: 128 + signal number for
   * a signal's name, 1 after a fatal error or when the deadline passed, else 0.
   */
  async shutdown(reason: string): Promise<number> {
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
    if (this.#fatal > 0) return 1;
    const signo = SIGNAL_NUMBERS[reason];
    return signo === undefined ? 0 : 128 + signo;
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
