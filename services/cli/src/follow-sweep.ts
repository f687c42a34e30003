import { setTimeout as sleep } from 'node:timers/promises';
import { QueueEvents } from 'bullmq';
import { QueueName, createWorkerConnection, trialProgressSchema } from '@sweepq/queue';
import { isFinalSweepState, type SweepRecord } from '@sweepq/results';
import type { CliContext } from './context.js';
import { ProgressView } from './progress-view.js';
import { readSweep } from './sweep-reads.js';
import { preparationLine } from './sweep-status.js';

/**
 * Show a sweep's progress until it reaches a final state (or `signal` aborts): bars fed by BullMQ
 * progress events, and a line whenever the trial counts change.
 */
export async function followSweep(
  ctx: CliContext,
  sweepId: string,
  opts: { signal?: AbortSignal; view?: ProgressView; pollMs?: number } = {},
): Promise<SweepRecord> {
  const view = opts.view ?? new ProgressView();
  const connection = createWorkerConnection(ctx.env.REDIS_URL);
  connection.on('error', () => undefined);
  const events = new QueueEvents(QueueName.Trials, { connection, prefix: ctx.env.SWEEPQ_QUEUE_PREFIX });
  events.on('error', () => undefined);
  events.on('progress', ({ data }) => {
    const p = trialProgressSchema.safeParse(data);
    if (p.success && p.data.sweepId === sweepId) view.update(p.data);
  });
  let lastLine = '';
  try {
    for (;;) {
      const sweep = await readSweep(ctx, sweepId);
      const t = sweep.trials;
      const line = t
        ? `${sweep.state}: ${t.completed}/${t.total} completed, ${t.running} running, ${t.queued} queued, ${t.failed} failed, ${t.cancelled} cancelled`
        : (preparationLine(sweep) ?? sweep.state);
      if (line !== lastLine) {
        lastLine = line;
        view.log(line);
      }
      if (isFinalSweepState(sweep.state) || opts.signal?.aborted) return sweep;
      await sleep(opts.pollMs ?? 1000);
    }
  } finally {
    view.stop();
    await events.close();
    await connection.quit().catch(() => connection.disconnect());
  }
}
