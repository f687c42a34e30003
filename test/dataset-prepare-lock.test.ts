import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSyntheticCsv } from '@sweepq/data';
import type { SweepRecord } from '@sweepq/results';
import { layout } from '@sweepq/storage';
import { createWorld, waitFor, type TestWorld } from './helpers/env.js';
import { runCli } from './helpers/cli.js';
import { submitYaml } from './helpers/sweeps.js';

// Preparing a dataset takes seconds of CPU on the coordinator. Before the streaming preparation it ran in one
// stretch on the event loop (13.6 s for 300,000 rows), so the sweep's lock expired and a standby coordinator took
// the sweep over mid-preparation. Here a generated file that takes several seconds to prepare, a short lock and a
// standby: ownership must never change hands, and the owner's ops endpoint keeps answering throughout.

// About 100 MB: 2 s of preparation on an idle core of the development machine (about 40 MB/s), longer under CI's
// load: longer than the lock's renewal interval, and long enough that progress is recorded (a preparation within the
// coordinator's quiet second records none). 60,000 rows were enough at 14 MB/s, not at 40 (0.7 s).
const ROWS = 240_000;
const LOCK_MS = 3000;
const coordinatorEnv = (id: string) => ({ COORDINATOR_ID: id, COORDINATOR_LOCK_MS: String(LOCK_MS), COORDINATOR_POLL_MS: '300', COORDINATOR_RECOVERY_MS: '3000' });
const LOST = ['could not renew lock', 'Missing lock', 'taking over sweep', 'sweep attempt failed', 'lock lost'];

describe('dataset preparation keeps the event loop turning', () => {
  let world: TestWorld;
  afterAll(async () => {
    await world?.cleanup();
  });

  it(`prepares ${ROWS} generated rows under a ${LOCK_MS} ms lock with a standby coordinator: one owner throughout`, async () => {
    world = await createWorld();
    const csv = join(world.dir, 'big.csv');
    const bytes = await writeSyntheticCsv(csv, { rows: ROWS, seed: 11 });
    await world.store.putFile('inputs/big.csv', csv);
    const logOf = (id: string) => readFile(join(world.dir, `coordinator-${id}.log`), 'utf8').catch(() => '');
    world.start('coordinator', 'coordinator-c1', coordinatorEnv('c1'));
    world.start('coordinator', 'coordinator-c2', coordinatorEnv('c2'));
    for (const id of ['c1', 'c2']) await waitFor(`coordinator ${id} to start`, async () => ((await logOf(id)).includes('coordinator started') ? true : undefined), 60_000, 200);
    const sweepId = await submitYaml(
      world,
      ['name: big-prep', 'method: grid', 'parameters:', '  epochs: {value: 1}', 'dataset:', `  uri: s3://${world.store.bucket}/inputs/big.csv`],
      undefined,
      { checkDataset: false },
    );
    const owner = await waitFor(
      'a coordinator to start the sweep',
      async () => {
        for (const id of ['c1', 'c2']) if ((await logOf(id)).includes('"msg":"sweep started"')) return id;
        return undefined;
      },
      60_000,
      100,
    );
    const standby = owner === 'c1' ? 'c2' : 'c1';
    const port = Number(/"opsPort":(\d+)/.exec(await logOf(owner))?.[1]);
    // Poll the owner's liveness endpoint all through the preparation: every request must be answered within a lock
    // period (a blocked event loop answers none until it is free again).
    let probes = 0;
    const failures: string[] = [];
    const prepared = waitFor('the dataset to be prepared', async () => ((await logOf(owner)).includes('"msg":"dataset prepared"') ? true : undefined), 600_000, 200);
    let done = false;
    void prepared.finally(() => (done = true));
    // The coordinator records its progress in sweep.json while it prepares (what `status` and `watch` show).
    const progress: NonNullable<SweepRecord['preparation']>[] = [];
    while (!done) {
      const seen = await world.store.getJson<SweepRecord>(layout.sweepJson(sweepId));
      if (seen?.state === 'preparing' && seen.preparation && seen.preparation.phase !== 'done') progress.push(seen.preparation);
      const r = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(LOCK_MS) }).catch((e: unknown) => e as Error);
      probes++;
      if (r instanceof Error) failures.push(r.message);
      await new Promise((res) => setTimeout(res, 200));
    }
    await prepared;
    // Past two stalled checks after the preparation: a lock lost during it would have been taken over by now.
    await new Promise((res) => setTimeout(res, 2 * LOCK_MS));

    const ownerLog = await logOf(owner);
    const standbyLog = await logOf(standby);
    for (const line of LOST) {
      expect(ownerLog, `${owner}: ${line}`).not.toContain(line);
      expect(standbyLog, `${standby}: ${line}`).not.toContain(line);
    }
    expect(standbyLog).not.toContain('"msg":"sweep started"');
    expect(failures).toEqual([]);
    expect(probes).toBeGreaterThan(3);
    const record = (await world.store.getJson<SweepRecord>(layout.sweepJson(sweepId)))!;
    expect(record.dataset?.rows).toBe(ROWS);
    const st = await runCli(['status', sweepId, '--json'], world.env);
    expect(st.status, st.stderr).toBe(0);
    const status = JSON.parse(st.stdout) as { owner: { coordinator: string }; preparation: SweepRecord['preparation'] };
    expect(status.owner.coordinator).toBe(owner);
    expect(status.preparation).toMatchObject({ phase: 'done', rows: ROWS });
    expect(status.preparation!.mbPerSec).toBeGreaterThan(0);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[0]!.rows).toBeGreaterThan(0);
    expect(progress[0]!.rows).toBeLessThanOrEqual(ROWS);
    const ms = /"msg":"dataset prepared"/.test(ownerLog) ? Number(/"ms":(\d+)[^\n]*"msg":"dataset prepared"/.exec(ownerLog)?.[1]) : NaN;
    console.log(`dataset prepared by ${owner} in ${(ms / 1000).toFixed(1)} s (${(bytes / 1e6).toFixed(0)} MB, ${ROWS} rows) under a ${LOCK_MS} ms lock; ${probes} health probes answered; ${standby} stayed standby`);
  });
});
