import { SweepqError } from '@sweepq/runtime';

/** Thrown when training stopped because the process is shutting down; the job goes back to the queue. */
export class ShutdownInterrupt extends SweepqError {
  constructor() {
    super('WORKER_SHUTTING_DOWN', 'worker shutting down; trial released for another worker');
  }
}
