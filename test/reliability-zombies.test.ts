import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { QueueName, connectProducer, redisKeys } from '@sweepq/queue';
import { isReopenedTrial, type Leaderboard, type SweepRecord, type TrialResult } from '@sweepq/results';
import { layout } from '@sweepq/storage';
import { SWEEP_TRANSITIONS } from '@sweepq/lifecycle';
import { REDIS_URL, createWorld, waitFor, type ObjectWrite, type TestWorld } from './helpers/env.js';
import { runCli } from './helpers/cli.js';
import { privateRedis, type PrivateRedis } from './helpers/private-redis.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';
import { submitYaml, uploadToyDataset, waitForSweep } from './helpers/sweeps.js';

// Processes that lose ownership without dying: paused (SIGSTOP) past their lock, cut off from Redis, or blocked on the
// bucket, then woken after a successor took over. Each scenario records every write the S3 server commits and checks
// invariants over the whole run, not only the end state: sweep.json's epoch never goes back and, within an epoch, its
// state never goes back; exactly one final write per finish; every committed result written once, naming the attempt
// whose folder holds its model; a cancel stays cancelled.

const spec = (name: string, uri: string, trials: number, epochs: number) => [
  `name: ${name}`,
  'method: grid',
  'parameters:',
  `  learning_rate: {values: [${Array.from({ length: trials }, (_, i) => (0.003 * (i + 1)).toFixed(3)).join(', ')}]}`,
  '  embedding_dim: {value: 8}',
  '  lstm_units: {value: 8}',
  '  max_words: {value: 60}',
  '  max_len: {value: 30}',
  '  batch_size: {value: 16}',
  `  epochs: {value: ${epochs}}`,
  'dataset:',
  `  uri: ${uri}`,
];

const fast = { COORDINATOR_LOCK_MS: '4000', COORDINATOR_POLL_MS: '300', COORDINATOR_RECOVERY_MS: '3000' };
const workerEnv = (id: string) => ({ WORKER_ID: id, WORKER_LOCK_MS: '5000' });
const TRIALS_CUT = 20;
const isFinal = (state: string) => state === 'completed' || state === 'failed' || state === 'cancelled';

/** Every write the world's S3 server committed, by key. */
class WriteLog {
  readonly writes: ObjectWrite[] = [];
  onWrite = (e: ObjectWrite): void => {
    this.writes.push(e);
  };
  of(key: string): ObjectWrite[] {
    return this.writes.filter((w) => w.key === key);
  }
  /** sweep.json as each write left it. */
  sweepHistory(sweepId: string): SweepRecord[] {
    return this.of(layout.sweepJson(sweepId)).map((w) => JSON.parse(w.body.toString('utf8')) as SweepRecord);
  }
}

/**
 * sweep.json's history: the epoch never decreases; every change of state is an edge of the transition table (a move
 * back to `queued` only by a rebuild, retry or extend); `finals` moves into a final state in all. Returns the history.
 */
function expectMonotonicHistory(log: WriteLog, sweepId: string, finals: number): SweepRecord[] {
  const history = log.sweepHistory(sweepId);
  expect(history.length).toBeGreaterThan(0);
  let intoFinal = 0;
  for (let i = 1; i < history.length; i++) {
    const [a, b] = [history[i - 1]!, history[i]!];
    const where = `write ${i} of sweep.json: epoch ${a.epoch}/${a.state} -> ${b.epoch}/${b.state}`;
    expect(b.epoch ?? 0, where).toBeGreaterThanOrEqual(a.epoch ?? 0);
    if (a.state !== b.state) {
      expect(SWEEP_TRANSITIONS[a.state].includes(b.state), where).toBe(true);
      if (isFinal(b.state)) intoFinal += 1;
    }
  }
  expect(intoFinal, 'moves into a final state').toBe(finals);
  return history;
}

/** Each trial: one committed result, written once, whose attempt folder holds its model; metrics one line per epoch. */
async function expectTrialsOnce(world: TestWorld, log: WriteLog, sweepId: string, n: number, epochs: number, state = 'completed', resultWrites = 1): Promise<TrialResult[]> {
  const results: TrialResult[] = [];
  const keys = new Set(await world.store.list(layout.trialsPrefix(sweepId)));
  for (let i = 0; i < n; i++) {
    const t = `t${String(i).padStart(4, '0')}`;
    const r = (await world.store.getJson<TrialResult>(layout.result(sweepId, t)))!;
    expect(r, `${t} has a result`).toBeDefined();
    // Once per finish (a retried trial finished twice: its first result moved aside, then its new one; the record
    // that reopened it in between is not a result).
    const writes = log.of(layout.result(sweepId, t)).filter((w) => !isReopenedTrial(JSON.parse(w.body.toString('utf8'))));
    expect(writes.length, `${t}: result.json writes`).toBeLessThanOrEqual(resultWrites);
    if (state === 'completed') {
      expect(r.state, `${t}: ${r.error ?? ''}`).toBe('completed');
      const dir = layout.resultModelPrefix(r);
      for (const f of ['model.json', 'weights.bin', 'vocab.json']) expect(keys.has(`${dir}${f}`), `${t}: ${dir}${f}`).toBe(true);
      const lines = (await world.store.getText(layout.metrics(sweepId, t)))!.trim().split('\n');
      expect(lines.map((l) => (JSON.parse(l) as { epoch: number }).epoch)).toEqual(Array.from({ length: epochs }, (_, e) => e + 1));
    }
    expect([...keys].filter((k) => k.startsWith(layout.checkpointPrefix(sweepId, t)) || (k.startsWith(layout.trialOutputsPrefix(sweepId, t)) && k.includes('/checkpoint/'))), `${t}: no checkpoint left`).toEqual([]);
    results.push(r);
  }
  const lb = (await world.store.getJson<Leaderboard>(layout.leaderboardJson(sweepId)))!;
  expect(lb.rows.map((row) => row.trialId).sort()).toEqual(results.map((r) => r.trialId));
  return results;
}

const logOf = (world: TestWorld, name: string) => readFile(join(world.dir, `${name}.log`), 'utf8').catch(() => '');
const count = (text: string, re: RegExp) => text.split('\n').filter((l) => re.test(l)).length;

/** The coordinators' logs once one of them logged the finish (logged just after the final state the test waited for). */
async function finishLogged(world: TestWorld, names: string[]): Promise<string> {
  const read = async () => (await Promise.all(names.map((n) => logOf(world, n)))).join('');
  await waitFor('the finish in a coordinator log', async () => (count(await read(), /"msg":"sweep finished"/) > 0 ? true : undefined), 30_000, 100);
  return read();
}

let world: TestWorld | undefined;
let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const p of world?.processes ?? []) if (p.child.exitCode === null) p.child.kill('SIGCONT');
  // The world first (it stops the processes, then clears its queues in Redis), then what the test started itself.
  await world?.cleanup();
  world = undefined;
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

describe('zombies: processes that pause or are cut off, then wake after a successor took over', () => {
  it('owner coordinator SIGSTOPped past its lock: the standby takes over, the woken one writes nothing, one finalize', async () => {
    const log = new WriteLog();
    world = await createWorld('sweepq-test', { onObjectWritten: log.onWrite });
    const uri = await uploadToyDataset(world, 900);
    const coords = { 'coord-a': world.start('coordinator', 'coord-a', { ...fast, COORDINATOR_ID: 'coord-a' }), 'coord-b': world.start('coordinator', 'coord-b', { ...fast, COORDINATOR_ID: 'coord-b' }) };
    for (const id of ['a', 'b']) world.start('worker', `worker-${id}`, workerEnv(id));
    const sweepId = await submitYaml(world, spec('stop-owner', uri, 16, 4));
    const running = await waitFor(
      'the sweep running with some results',
      async () => {
        const r = await world!.store.getJson<SweepRecord>(layout.sweepJson(sweepId));
        return r?.state === 'running' && (r.trials?.completed ?? 0) >= 1 && r.owner?.startsWith('coord-') ? r : undefined;
      },
      180_000,
      100,
    );
    const owner = running.owner as keyof typeof coords;
    const t0 = Date.now();
    coords[owner].child.kill('SIGSTOP');
    const taken = await waitFor(
      'the standby to take the sweep over',
      async () => {
        const r = await world!.store.getJson<SweepRecord>(layout.sweepJson(sweepId));
        return r && (r.epoch ?? 0) > (running.epoch ?? 0) && r.owner !== owner ? r : undefined;
      },
      120_000,
      200,
    );
    const takeoverSec = (Date.now() - t0) / 1000;
    // Let the standby write under its epoch before the paused one wakes.
    await waitFor('a write of the new owner', async () => (log.sweepHistory(sweepId).filter((r) => r.epoch === taken.epoch).length >= 2 ? true : undefined), 60_000, 100);
    coords[owner].child.kill('SIGCONT');
    const record = await waitForSweep(world, sweepId, 300_000);
    expect(record.state).toBe('completed');
    expect(record.trials).toMatchObject({ total: 16, completed: 16 });
    const history = expectMonotonicHistory(log, sweepId, 1);
    // Nothing of the paused owner's epoch landed after the takeover.
    const firstNew = history.findIndex((r) => r.epoch === taken.epoch);
    expect(history.slice(firstNew).filter((r) => r.epoch === running.epoch)).toEqual([]);
    await expectTrialsOnce(world, log, sweepId, 16, 4);
    const logs = await finishLogged(world, ['coord-a', 'coord-b']);
    expect(count(logs, /"msg":"sweep finished"/)).toBe(1);
    console.log(`zombie coordinator: ${owner} stopped at epoch ${running.epoch}, taken over at epoch ${taken.epoch} after ${takeoverSec.toFixed(1)} s, ${history.length} sweep.json writes, 1 finalize, 16/16 results once`);
  });

  it('owner coordinators paused past their lock again and again (more stalls than BullMQ allows by default): each pause hands the sweep over; it completes once', async () => {
    const log = new WriteLog();
    world = await createWorld('sweepq-test', { onObjectWritten: log.onWrite });
    const uri = await uploadToyDataset(world, 300);
    const maxStalls = process.env.SWEEPQ_TEST_COORDINATOR_MAX_STALLS;
    const env = (id: string) => ({ ...fast, COORDINATOR_ID: id, ...(maxStalls ? { COORDINATOR_MAX_STALLS: maxStalls } : {}) });
    const coords = { 'coord-a': world.start('coordinator', 'coord-a', env('coord-a')), 'coord-b': world.start('coordinator', 'coord-b', env('coord-b')) };
    // No worker yet: the sweep stays running, with its trials queued, through every pause.
    const sweepId = await submitYaml(world, spec('pause-again', uri, 4, 2));
    let current = await waitFor(
      'the sweep running',
      async () => {
        const r = await world!.store.getJson<SweepRecord>(layout.sweepJson(sweepId));
        return r?.state === 'running' && r.owner?.startsWith('coord-') ? r : undefined;
      },
      120_000,
      100,
    );
    const PAUSES = 7;
    const owners: string[] = [];
    for (let i = 0; i < PAUSES; i++) {
      const owner = current.owner as keyof typeof coords;
      owners.push(`${owner}@${current.epoch}`);
      coords[owner].child.kill('SIGSTOP');
      current = await waitFor(
        `the other coordinator to take the sweep over (pause ${i + 1})`,
        async () => {
          const r = await world!.store.getJson<SweepRecord>(layout.sweepJson(sweepId));
          if (r && isFinal(r.state)) throw new Error(`sweep ended ${r.state} during pause ${i + 1}: ${r.error ?? ''}`);
          return r && (r.epoch ?? 0) > (current.epoch ?? 0) && r.owner !== owner && r.state === 'running' ? r : undefined;
        },
        120_000,
        200,
      );
      coords[owner].child.kill('SIGCONT');
    }
    for (const id of ['a', 'b']) world.start('worker', `worker-${id}`, workerEnv(id));
    const record = await waitForSweep(world, sweepId, 300_000);
    expect(record.state, record.error).toBe('completed');
    expect(record.trials).toMatchObject({ total: 4, completed: 4 });
    expectMonotonicHistory(log, sweepId, 1);
    await expectTrialsOnce(world, log, sweepId, 4, 2);
    const logs = await finishLogged(world, ['coord-a', 'coord-b']);
    expect(count(logs, /"msg":"sweep finished"/)).toBe(1);
    console.log(`paused again and again: owners ${owners.join(' -> ')} -> ${current.owner}@${current.epoch}; completed 4/4 once`);
  });

  it('a worker paused after claiming a trial, woken after another attempt committed it: one result, one attempt\'s files', async () => {
    const log = new WriteLog();
    let paused: { key: string } | undefined;
    const control: { stopWorker?: () => void } = {};
    world = await createWorld('sweepq-test', {
      onObjectWritten: (e) => {
        log.onWrite(e);
        // The first model file of t0000 comes from worker-a after it claimed the commit: freeze it there, before the
        // server answers, so it wakes mid-upload with its claim long expired.
        const m = /\/trials\/t0000\/outputs\/([^/]+)\/model\/model\.json$/.exec(e.key);
        if (m && !paused && control.stopWorker) {
          paused = { key: m[1]! };
          control.stopWorker();
        }
      },
    });
    const uri = await uploadToyDataset(world, 600);
    world.start('coordinator', 'coordinator', fast);
    const wa = world.start('worker', 'worker-a', workerEnv('a'));
    control.stopWorker = () => wa.child.kill('SIGSTOP');
    const sweepId = await submitYaml(world, spec('pause-claim', uri, 1, 2));
    await waitFor('worker-a paused mid-upload', async () => paused, 180_000, 100);
    const redis = await connectProducer(REDIS_URL);
    cleanups.push(() => redis.disconnect());
    expect(await redis.get(redisKeys(world.prefix).resultClaim(sweepId, 't0000')), 'worker-a had claimed the commit').not.toBeNull();
    world.start('worker', 'worker-b', workerEnv('b'));
    const committed = await waitFor('worker-b to commit t0000', () => world!.store.getJson<TrialResult>(layout.result(sweepId, 't0000')), 120_000, 200);
    expect(committed.attemptKey).not.toBe(paused!.key);
    expect(committed.worker).toBe('b');
    wa.child.kill('SIGCONT');
    await waitFor('worker-a to give the trial up', async () => (/another attempt committed this trial first|lost the job lock/.test(await logOf(world!, 'worker-a')) ? true : undefined), 60_000, 200);
    const record = await waitForSweep(world, sweepId, 120_000);
    expect(record.state).toBe('completed');
    expectMonotonicHistory(log, sweepId, 1);
    const [r] = await expectTrialsOnce(world, log, sweepId, 1, 2);
    expect(r!.attemptKey).toBe(committed.attemptKey);
    // worker-a's late files went to its own folder only; the committed folder holds worker-b's writes alone.
    const committedDir = layout.resultModelPrefix(committed);
    const pausedDir = layout.resultModelPrefix({ sweepId, trialId: 't0000', attemptKey: paused!.key });
    expect(log.writes.filter((w) => w.key.startsWith(pausedDir)).length).toBeGreaterThanOrEqual(1);
    expect(log.writes.filter((w) => w.key.startsWith(committedDir)).map((w) => w.key.slice(committedDir.length)).sort()).toEqual(['model.json', 'vocab.json', 'weights.bin']);
    const best = (await world.store.getJson<{ source: string }>(`${layout.bestPrefix(sweepId)}best.json`))!;
    expect(best.source).toBe(committedDir);
  });

  it('cancel racing a live owner, then Redis restarted empty: the sweep is rebuilt and stays cancelled', async () => {
    const log = new WriteLog();
    const dir = await mkdtemp(join(tmpdir(), 'sweepq-zr-'));
    const redisServer: PrivateRedis = await privateRedis(dir);
    await redisServer.start();
    cleanups.push(() => redisServer.kill());
    world = await createWorld('sweepq-test', { redisUrl: redisServer.url, onObjectWritten: log.onWrite });
    const uri = await uploadToyDataset(world, 900);
    world.start('coordinator', 'coordinator', fast);
    const workers = ['a', 'b'].map((id) => world!.start('worker', `worker-${id}`, workerEnv(id)));
    const sweepId = await submitYaml(world, spec('cancel-wipe', uri, 12, 4));
    await waitFor('two results', async () => ((await world!.store.getJson<SweepRecord>(layout.sweepJson(sweepId)))?.trials?.completed ?? 0) >= 2 ? true : undefined, 180_000, 100);
    // The workers pause, so the sweep cannot finish before the cancel however fast trials train here; they wake after
    // the wipe, their trials' locks gone with it.
    for (const w of workers) w.child.kill('SIGSTOP');
    const cancel = await runCli(['cancel', sweepId], world.env);
    expect(cancel.status, cancel.stderr).toBe(0);
    const cancelWrite = log.sweepHistory(sweepId).findIndex((r) => r.cancelRequestedAt !== undefined);
    expect(cancelWrite).toBeGreaterThanOrEqual(0);
    // Redis loses everything, the cancel flag with it, while the owner is still writing its counts.
    await redisServer.kill();
    await redisServer.start();
    for (const w of workers) w.child.kill('SIGCONT');
    const record = await waitForSweep(world, sweepId, 300_000);
    expect(record.state).toBe('cancelled');
    const history = expectMonotonicHistory(log, sweepId, 1);
    // Once recorded, the cancel is in every later version of sweep.json.
    expect(history.slice(cancelWrite).filter((r) => r.cancelRequestedAt === undefined)).toEqual([]);
    const results = await expectTrialsOnce(world, log, sweepId, 12, 4, 'any');
    expect(results.filter((r) => r.state === 'cancelled').length).toBeGreaterThan(0);
    console.log(`cancel + Redis wipe: ${results.filter((r) => r.state === 'completed').length} completed, ${results.filter((r) => r.state === 'cancelled').length} cancelled, ${history.length} sweep.json writes, recoveries ${record.recoveries?.length ?? 0}`);
  });

  it('the S3 server answering 30 s late mid-sweep: everything lands once, in order, and the sweep completes', async () => {
    const log = new WriteLog();
    world = await createWorld('sweepq-test', { onObjectWritten: log.onWrite });
    const proxy: TcpProxy = await startTcpProxy(world.s3.port);
    cleanups.push(() => proxy.close());
    const uri = await uploadToyDataset(world, 900);
    const viaProxy = { S3_ENDPOINT: proxy.url('http') };
    world.start('coordinator', 'coordinator', { ...fast, ...viaProxy });
    for (const id of ['a', 'b']) world.start('worker', `worker-${id}`, { ...workerEnv(id), ...viaProxy });
    const sweepId = await submitYaml(world, spec('s3-late', uri, 16, 4));
    await waitFor('a first result', async () => (log.writes.some((w) => w.key.endsWith('/result.json')) ? true : undefined), 180_000, 100);
    const writesBefore = log.writes.length;
    proxy.delay(30_000);
    // Every request and answer through the proxy now arrives 30 s late; what was in flight lands late too. A read now
    // takes a 60 s round trip, and the delay starts just as a trial committed, when workers are between trials: a worker
    // starting its next trial reads the checkpoint pointer and heads metrics.jsonl before its first write (the pointer),
    // which lands 150 s after the trial started; a fresh-clone CI run on a loaded machine saw no write within 120 s.
    await waitFor('a write delivered late', async () => (log.writes.length > writesBefore ? true : undefined), 240_000, 500);
    proxy.heal();
    const record = await waitForSweep(world, sweepId, 300_000);
    expect(record.state).toBe('completed');
    expect(record.trials).toMatchObject({ total: 16, completed: 16 });
    const history = expectMonotonicHistory(log, sweepId, 1);
    await expectTrialsOnce(world, log, sweepId, 16, 4);
    console.log(`S3 30 s late: ${history.length} sweep.json writes, epochs ${[...new Set(history.map((r) => r.epoch))].join(',')}, 16/16 results once`);
  });

  it('cancel and retry while the owner is cut off from Redis and a worker is paused after claiming a commit: the owner, reconnected, is fenced; the paused attempt cannot commit; the retry completes', async () => {
    const log = new WriteLog();
    let paused: { trialId: string; attemptKey: string } | undefined;
    const control: { stopWorker?: () => void } = {};
    world = await createWorld('sweepq-test', {
      onObjectWritten: (e) => {
        log.onWrite(e);
        // Once a trial has committed, the worker's next model upload comes after it claimed that trial's commit: freeze
        // it there, before its result.json PUT. The cancel below gives that trial a cancelled result and the retry
        // reopens it; the worker wakes after both, its claim and lock long gone, with its result still to write.
        const m = /\/trials\/(t\d+)\/outputs\/([^/]+)\/model\/model\.json$/.exec(e.key);
        if (m && !paused && control.stopWorker && log.writes.some((w) => w.key.endsWith('/result.json'))) {
          paused = { trialId: m[1]!, attemptKey: m[2]! };
          control.stopWorker();
        }
      },
    });
    const proxy: TcpProxy = await startTcpProxy(Number(new URL(REDIS_URL).port || 6379));
    cleanups.push(() => proxy.close());
    const uri = await uploadToyDataset(world, 900);
    world.start('coordinator', 'coordinator', { ...fast, COORDINATOR_ID: 'cut-off', REDIS_URL: proxy.url('redis') });
    const worker = world.start('worker', 'worker-a', workerEnv('a'));
    control.stopWorker = () => worker.child.kill('SIGSTOP');
    const sweepId = await submitYaml(world, spec('cut-off', uri, TRIALS_CUT, 3));
    await waitFor('worker-a paused after claiming a commit', async () => paused, 180_000, 100);
    const before = await waitFor(
      'the sweep running with a result',
      async () => {
        const r = await world!.store.getJson<SweepRecord>(layout.sweepJson(sweepId));
        return r?.state === 'running' && (r.trials?.completed ?? 0) >= 1 ? r : undefined;
      },
      180_000,
      100,
    );
    proxy.cut();
    const redis = await connectProducer(REDIS_URL);
    cleanups.push(() => redis.disconnect());
    // Its heartbeat lapses: to the CLI the sweep has no live owner, though the coordinator's loop is alive.
    await waitFor('the owner heartbeat to lapse', async () => ((await redis.exists(redisKeys(world!.prefix).owner(sweepId))) === 0 ? true : undefined), 60_000, 200);
    const cancel = await runCli(['cancel', sweepId], world.env, 180_000);
    expect(cancel.status, cancel.stderr + cancel.stdout).toBe(0);
    const cancelled = (await world.store.getJson<SweepRecord>(layout.sweepJson(sweepId)))!;
    expect(cancelled.state).toBe('cancelled');
    expect(cancelled.trials!.cancelled, `trials left to retry: ${JSON.stringify(cancelled.trials)} ${cancel.stdout}`).toBeGreaterThan(0);
    expect((await world.store.getJson<TrialResult>(layout.result(sweepId, paused!.trialId)))?.state, 'the paused trial was cancelled').toBe('cancelled');
    const retry = await runCli(['retry', sweepId, '--cancelled'], world.env, 180_000);
    expect(retry.status, retry.stderr + retry.stdout).toBe(0);
    worker.child.kill('SIGCONT');
    proxy.heal();
    const record = await waitForSweep(world, sweepId, 300_000);
    expect(record.state).toBe('completed');
    expect(record.trials).toMatchObject({ total: TRIALS_CUT, completed: TRIALS_CUT });
    const history = log.sweepHistory(sweepId);
    // The cut-off owner's epoch wrote nothing after the CLI took the sweep.
    const takenAt = history.findIndex((r) => (r.epoch ?? 0) > (before.epoch ?? 0));
    expect(history.slice(takenAt).filter((r) => r.epoch === before.epoch)).toEqual([]);
    expectMonotonicHistory(log, sweepId, 2);
    expect(history.filter((r, i) => isFinal(r.state) && history[i - 1]?.state !== r.state).map((r) => r.state)).toEqual(['cancelled', 'completed']);
    await expectTrialsOnce(world, log, sweepId, TRIALS_CUT, 3, 'completed', 2);
    // The paused attempt's result never landed (the retry reopened its trial rather than deleting the cancelled result).
    const pausedResults = log.of(layout.result(sweepId, paused!.trialId)).map((w) => JSON.parse(w.body.toString('utf8')) as { attemptKey?: string });
    expect(pausedResults.filter((r) => r.attemptKey === paused!.attemptKey)).toEqual([]);
    await waitFor('worker-a to give its paused attempt up', async () => (/reopened by a retry after this attempt claimed it|another attempt committed this trial first|lost the job lock/.test(await logOf(world!, 'worker-a')) ? true : undefined), 60_000, 200);
    console.log(`cut-off owner: cancel took epoch ${cancelled.epoch} with ${cancelled.trials!.cancelled} trials cancelled, retried, ${TRIALS_CUT}/${TRIALS_CUT} completed; ${history.length} sweep.json writes`);
    expect(await logOf(world, 'coordinator')).toMatch(/sweep taken over; stopped following it|sweep job not handed back/);
    const trials = new Queue(QueueName.Trials, { connection: redis, prefix: world.prefix });
    cleanups.push(() => trials.close());
  });
});
