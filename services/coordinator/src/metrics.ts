import type { Queue } from 'bullmq';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** Trials waiting for a worker plus those being trained: what an autoscaler should size the worker pool to. */
export interface Backlog {
  backlog: number;
  waiting: number;
  prioritized: number;
  active: number;
  delayed: number;
}

/**
 * Read the trials backlog from BullMQ. Counting active jobs too keeps an autoscaler from scaling away
 * workers that are busy training (scaling on the wait list alone is the classic mistake).
 */
export async function readBacklog(trials: Queue): Promise<Backlog> {
  const c = await trials.getJobCounts('waiting', 'prioritized', 'active', 'delayed');
  const waiting = c.waiting ?? 0;
  const prioritized = c.prioritized ?? 0;
  const active = c.active ?? 0;
  return { backlog: waiting + prioritized + active, waiting, prioritized, active, delayed: c.delayed ?? 0 };
}

/** Prometheus metrics of the coordinator, read from Redis on every scrape. */
export function coordinatorMetrics(queues: { trials: Queue; sweeps: Queue }): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'sweepq_trials_backlog',
    help: 'Trials waiting, prioritized or active: the worker count an autoscaler should aim for',
    registers: [registry],
    async collect() {
      this.set((await readBacklog(queues.trials)).backlog);
    },
  });
  new Gauge({
    name: 'sweepq_trials',
    help: 'Trial jobs by BullMQ state',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const c = await queues.trials.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed');
      for (const [state, n] of Object.entries(c)) this.set({ state }, n);
    },
  });
  new Gauge({
    name: 'sweepq_sweeps',
    help: 'Sweep jobs by BullMQ state',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const c = await queues.sweeps.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
      for (const [state, n] of Object.entries(c)) this.set({ state }, n);
    },
  });
  return registry;
}
