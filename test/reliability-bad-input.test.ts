import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueName, connectProducer } from '@sweepq/queue';
import type { SweepRecord } from '@sweepq/results';
import { layout } from '@sweepq/storage';
import { REDIS_URL, createWorld, waitFor, type TestWorld } from './helpers/env.js';
import { runCli } from './helpers/cli.js';
import { submitYaml, uploadToyDataset, waitForSweep } from './helpers/sweeps.js';

let world: TestWorld;
let sweeps: Queue;
let trials: Queue;
let closeRedis: () => void;

beforeAll(async () => {
  world = await createWorld();
  world.start('coordinator', 'coordinator');
  world.start('worker', 'worker', { WORKER_ID: 'wb' });
  const redis = await connectProducer(REDIS_URL);
  sweeps = new Queue(QueueName.Sweeps, { connection: redis, prefix: world.prefix });
  trials = new Queue(QueueName.Trials, { connection: redis, prefix: world.prefix });
  closeRedis = () => redis.disconnect();
});
afterAll(async () => {
  await sweeps?.close();
  await trials?.close();
  closeRedis?.();
  await world?.cleanup();
});

const GOOD = ['method: grid', 'parameters:', '  epochs: {value: 1}'];
const aliasBomb = [
  'a: &a ["x","x","x","x","x","x","x","x","x","x"]',
  'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]',
  'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]',
  'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]',
  'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]',
  'method: grid',
].join('\n');

// Each bad spec: CLI exits 2 with a message naming the problem, and nothing reaches Redis or the bucket.
const badSpecs: { name: string; text: string; args?: string[]; expect: RegExp }[] = [
  { name: 'broken YAML', text: 'method: grid\nparameters:\n  epochs: {value: 1\n', expect: /line \d+/i },
  { name: 'wrong type', text: 'method: grid\nparameters:\n  epochs: {value: many}\n', expect: /parameters\.epochs/ },
  {
    name: 'unknown distribution',
    text: 'method: random\nrun_cap: 2\nparameters:\n  learning_rate: {distribution: lognormalish, min: 0.1, max: 1}\n',
    expect: /parameters\.learning_rate\.distribution/,
  },
  { name: 'unknown method', text: 'method: evolution\n', expect: /method.*grid.*random/s },
  { name: 'path-traversal sweep id', text: GOOD.join('\n'), args: ['--id', '../../etc'], expect: /--id "\.\.\/\.\.\/etc"/ },
  { name: 'oversized spec', text: `method: grid\ndescription: "${'x'.repeat(1_100_000)}"\n`, expect: /limit/ },
  { name: 'YAML alias bomb', text: aliasBomb, expect: /alias/i },
  { name: 'dataset uri with a bad scheme', text: 'method: grid\ndataset:\n  uri: ftp://host/data.csv\n', expect: /dataset\.uri/ },
];

describe('hostile and broken input', () => {
  it.each(badSpecs)('spec: $name -> exit 2, named error, nothing enqueued', async ({ name, text, args, expect: pattern }) => {
    const file = join(world.dir, `${name.replace(/\W+/g, '-')}.yaml`);
    await writeFile(file, text);
    const r = await runCli(['submit', file, ...(args ?? [])], world.env);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr.length).toBeLessThan(5000);
    expect(await sweeps.count()).toBe(0);
    expect((await world.store.list('sweeps/')).length).toBe(0);
  });

  it('a malformed trial payload pushed straight into Redis fails once, clearly, and writes nothing', async () => {
    const job = await trials.add('trial', { sweepId: '../../escape', trialId: 'T 1', params: { epochs: 'x' } });
    const failed = await waitFor('the bad trial job to fail', async () => ((await job.getState()) === 'failed' ? true : undefined), 60_000);
    expect(failed).toBe(true);
    const after = (await trials.getJob(job.id!))!;
    expect(after.attemptsMade).toBe(1);
    expect(after.failedReason).toMatch(/invalid trials job payload/);
    expect(after.failedReason).toMatch(/sweepId/);
    expect((await world.store.list('')).filter((k) => !k.startsWith('inputs/'))).toEqual([]);
  });

  it('a malformed sweep payload fails once at the coordinator', async () => {
    const job = await sweeps.add('sweep', { sweepId: 'ok-id', specKey: '../../../etc/passwd' , extra: 1 });
    await waitFor('the bad sweep job to fail', async () => ((await job.getState()) === 'failed' ? true : undefined), 60_000);
    const after = (await sweeps.getJob(job.id!))!;
    expect(after.attemptsMade).toBe(1);
    expect(after.failedReason).toMatch(/invalid sweeps job payload/);
    await after.remove();
  });

  const csv = (name: string, content: string) => world.store.put(`inputs/${name}`, content, 'text/csv');
  const badData: { name: string; setup: () => Promise<unknown>; dataset: string[]; expect: RegExp }[] = [
    { name: 'missing file', setup: async () => undefined, dataset: ['  uri: s3://sweepq-test/inputs/nope.csv'], expect: /nope\.csv/ },
    {
      name: 'missing column',
      setup: () => csv('cols.csv', 'body,category\nhello world,a\nbye world,b\n'),
      dataset: ['  uri: s3://sweepq-test/inputs/cols.csv', '  text_field: message'],
      expect: /column "message".*body, category/s,
    },
    { name: 'empty', setup: () => csv('empty.csv', 'text,label\n'), dataset: ['  uri: s3://sweepq-test/inputs/empty.csv'], expect: /empty|no rows/i },
    {
      name: 'one class only',
      setup: () => csv('one.csv', 'text,label\na b c,x\nd e f,x\ng h i,x\n'),
      dataset: ['  uri: s3://sweepq-test/inputs/one.csv'],
      expect: /class/i,
    },
    {
      name: 'undecodable JSONL row',
      setup: () => world.store.put('inputs/bad.jsonl', '{"text":"a","label":"x"}\n{"text": broken\n{"text":"c","label":"y"}\n'),
      dataset: ['  uri: s3://sweepq-test/inputs/bad.jsonl'],
      expect: /line 2/,
    },
  ];

  // The CLI refuses these at submit (test/dataset-precheck.test.ts); skipping its check reaches the coordinator's.
  it.each(badData)('dataset: $name -> the sweep fails before any trial, naming the problem', async ({ setup, dataset, expect: pattern }) => {
    await setup();
    const sweepId = await submitYaml(world, [...GOOD, 'dataset:', ...dataset], undefined, { checkDataset: false });
    const record: SweepRecord = await waitForSweep(world, sweepId, 60_000);
    expect(record.state).toBe('failed');
    expect(record.error).toMatch(/^dataset: /);
    expect(record.error).toMatch(pattern);
    expect(record.trials).toBeUndefined();
    expect((await world.store.list(layout.trialsPrefix(sweepId))).length).toBe(0);
    const mine = (await trials.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed'])).filter(
      (j) => (j.data as { sweepId?: string }).sweepId === sweepId,
    );
    expect(mine).toHaveLength(0);
  });

  it('after all that, the same coordinator and worker still run a good sweep', async () => {
    const uri = await uploadToyDataset(world, 120);
    const sweepId = await submitYaml(world, [
      ...GOOD,
      '  embedding_dim: {value: 4}',
      '  lstm_units: {value: 4}',
      '  max_words: {value: 30}',
      '  max_len: {value: 8}',
      'dataset:',
      `  uri: ${uri}`,
    ]);
    const record = await waitForSweep(world, sweepId, 120_000);
    expect(record.state).toBe('completed');
    for (const p of world.processes) expect(p.child.exitCode).toBeNull();
  });
});
