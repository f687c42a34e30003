import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueName, connectProducer, trialJobId } from '@sweepq/queue';
import type { Leaderboard, TrialResult } from '@sweepq/results';
import { layout } from '@sweepq/storage';
import type { ManagedProcess } from '@sweepq/cli';
import { REDIS_URL, createWorld, waitFor, type TestWorld } from './helpers/env.js';
import { submitYaml, uploadToyDataset, waitForSweep } from './helpers/sweeps.js';

let world: TestWorld;
beforeAll(async () => {
  world = await createWorld();
});
afterAll(async () => {
  await world?.cleanup();
});

const EPOCHS = 5;
// Short locks so a killed worker's trial is recovered within seconds in the test (default 30 s).
const FAST_RECOVERY = { WORKER_LOCK_MS: '5000' };

describe('chaos: SIGKILL busy workers mid-sweep', () => {
  it('completes every trial exactly once, resuming killed trials from their checkpoints', async () => {
    const uri = await uploadToyDataset(world, 3000);
    world.start('coordinator', 'coordinator');
    const workers = new Map<string, ManagedProcess>();
    let next = 1;
    const startWorker = () => {
      const id = `w${next++}`;
      workers.set(id, world.start('worker', `worker-${id}`, { WORKER_ID: id, ...FAST_RECOVERY }));
    };
    for (let i = 0; i < 3; i++) startWorker();

    const sweepId = await submitYaml(world, [
      'name: chaos',
      'method: grid',
      'parameters:',
      '  lstm_units: {values: [8, 16]}',
      '  learning_rate: {values: [0.003, 0.01, 0.03]}',
      '  embedding_dim: {value: 16}',
      '  max_words: {value: 60}',
      '  max_len: {value: 40}',
      '  batch_size: {value: 16}',
      `  epochs: {value: ${EPOCHS}}`,
      'dataset:',
      `  uri: ${uri}`,
    ]);

    const redis = await connectProducer(REDIS_URL);
    const trials = new Queue(QueueName.Trials, { connection: redis, prefix: world.prefix });
    const killed: { worker: string; trialId: string; checkpointEpoch: number }[] = [];
    try {
      // Twice: find a trial that is running and has a checkpoint, SIGKILL its worker, start a replacement.
      for (let round = 0; round < 2; round++) {
        const victim = await waitFor(
          'a running trial with a checkpoint',
          async () => {
            for (const job of await trials.getJobs(['active'])) {
              const trialId = (job.data as { trialId: string }).trialId;
              if (killed.some((k) => k.trialId === trialId) || !job.processedBy) continue;
              const state = (await world.store.getJson<{ checkpoint?: { epoch: number } }>(layout.checkpointState(sweepId, trialId)))?.checkpoint;
              if (state && state.epoch >= 1 && state.epoch < EPOCHS - 1 && workers.has(job.processedBy)) {
                return { worker: job.processedBy, trialId, checkpointEpoch: state.epoch };
              }
            }
            return undefined;
          },
          180_000,
          200,
        );
        workers.get(victim.worker)!.child.kill('SIGKILL');
        workers.delete(victim.worker);
        killed.push(victim);
        startWorker();
      }

      const record = await waitForSweep(world, sweepId);
      expect(record.state, record.error).toBe('completed');
      expect(record.trials).toMatchObject({ total: 6, completed: 6, failed: 0 });

      // One result per trial, each with exactly one metrics line per epoch.
      const results: TrialResult[] = [];
      for (let i = 0; i < 6; i++) {
        const t = `t${String(i).padStart(4, '0')}`;
        const r = (await world.store.getJson<TrialResult>(layout.result(sweepId, t)))!;
        expect(r.state).toBe('completed');
        const lines = (await world.store.getText(layout.metrics(sweepId, t)))!.trim().split('\n');
        expect(lines.map((l) => (JSON.parse(l) as { epoch: number }).epoch)).toEqual([1, 2, 3, 4, 5]);
        results.push(r);
        // The checkpoint is removed once the result is committed.
        expect(await world.store.list(layout.checkpointPrefix(sweepId, t))).toEqual([]);
        expect((await world.store.list(layout.trialOutputsPrefix(sweepId, t))).filter((k) => k.includes('/checkpoint/'))).toEqual([]);
      }
      // The killed trials resumed from their checkpoints instead of starting over.
      for (const k of killed) {
        const r = results.find((x) => x.trialId === k.trialId)!;
        expect(r.resumes?.length, `${k.trialId} resumes`).toBeGreaterThanOrEqual(1);
        expect(r.resumes![0]!.fromEpoch).toBeGreaterThanOrEqual(k.checkpointEpoch);
        expect(r.worker).not.toBe(k.worker);
        // Only the partial epoch in flight at the kill was lost.
        expect(r.epochsTrained).toBeLessThanOrEqual(EPOCHS);
      }
      // BullMQ agrees: 6 completed jobs, none failed, none duplicated.
      const counts = await trials.getJobCounts('completed', 'failed', 'active', 'waiting', 'delayed');
      expect(counts).toMatchObject({ completed: 6, failed: 0, active: 0, waiting: 0, delayed: 0 });
      for (let i = 0; i < 6; i++) expect(await trials.getJobState(trialJobId(sweepId, `t${String(i).padStart(4, '0')}`))).toBe('completed');

      const lb = (await world.store.getJson<Leaderboard>(layout.leaderboardJson(sweepId)))!;
      expect(new Set(lb.rows.map((r) => r.trialId)).size).toBe(6);
      expect(lb.rows).toHaveLength(6);
      console.log(
        `chaos: ${killed.length} SIGKILLs (${killed.map((k) => `${k.trialId}@epoch${k.checkpointEpoch}`).join(', ')}), ` +
          `6/6 trials completed, epochs trained ${results.reduce((a, r) => a + (r.epochsTrained ?? 0), 0)} for ${6 * EPOCHS} planned, ` +
          `resumes ${results.reduce((a, r) => a + (r.resumes?.length ?? 0), 0)}`,
      );
    } finally {
      await trials.close();
      redis.disconnect();
    }
  });
});
