import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of a worker process. */
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly trials = new Counter({
    name: 'sweepq_worker_trials_total',
    help: 'Trials this worker finished, by final state',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });
  readonly running = new Gauge({ name: 'sweepq_worker_trials_running', help: 'Trials training now', registers: [this.registry] });
  readonly epochSeconds = new Histogram({
    name: 'sweepq_worker_epoch_duration_seconds',
    help: 'Wall time of one training epoch, validation included',
    buckets: [0.1, 0.5, 1, 5, 15, 60, 180, 600, 1800],
    registers: [this.registry],
  });
  readonly samplesPerSec = new Gauge({
    name: 'sweepq_worker_samples_per_second',
    help: 'Training throughput of the last finished epoch',
    registers: [this.registry],
  });
  readonly checkpointSeconds = new Histogram({
    name: 'sweepq_worker_checkpoint_seconds',
    help: 'Time to write one epoch checkpoint to the bucket',
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 20],
    registers: [this.registry],
  });
  readonly uploadSeconds = new Histogram({
    name: 'sweepq_worker_upload_seconds',
    help: 'Time to upload a finished model and its result',
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 20],
    registers: [this.registry],
  });
  readonly enqueueToStartSeconds = new Histogram({
    name: 'sweepq_worker_enqueue_to_start_seconds',
    help: 'Time from a trial being enqueued to this worker starting it',
    buckets: [0.01, 0.1, 1, 10, 60, 600, 3600],
    registers: [this.registry],
  });

  constructor(opts: { backend: string; workerId: string }) {
    this.registry.setDefaultLabels({ worker: opts.workerId, backend: opts.backend });
    collectDefaultMetrics({ register: this.registry });
  }
}
