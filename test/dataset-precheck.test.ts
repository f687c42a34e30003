import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueName, connectProducer } from '@sweepq/queue';
import type { SweepRecord } from '@sweepq/results';
import { layout } from '@sweepq/storage';
import { stopAll } from '@sweepq/cli';
import { REDIS_URL, createWorld, type TestWorld } from './helpers/env.js';
import { runCli } from './helpers/cli.js';
import { waitForSweep } from './helpers/sweeps.js';

const repoRoot = join(import.meta.dirname, '..');
/** Synthetic messages in the shape of the UCI SMS Spam Collection: `ham<TAB>text`, no header, no extension. */
const SMS_FIXTURE = join(repoRoot, 'packages', 'data', 'test', 'fixtures', 'SMSSpamCollection');

let world: TestWorld;
let sweeps: Queue;
let closeRedis: () => void;

beforeAll(async () => {
  world = await createWorld();
  const redis = await connectProducer(REDIS_URL);
  sweeps = new Queue(QueueName.Sweeps, { connection: redis, prefix: world.prefix });
  closeRedis = () => redis.disconnect();
});
afterAll(async () => {
  await sweeps?.close();
  closeRedis?.();
  await world?.cleanup();
});

const GOOD = ['method: grid', 'parameters:', '  epochs: {value: 1}'];

async function specFile(name: string, lines: string[]): Promise<string> {
  const path = join(world.dir, `${name}.yaml`);
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

/** The CLI's own stderr lines about the dataset (the AWS SDK adds a Node-version warning on Node 20). */
const datasetLines = (stderr: string): string[] => stderr.split('\n').filter((l) => l.startsWith('dataset '));

async function queued(): Promise<number> {
  const counts = await sweeps.getJobCounts();
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

describe('sweepq submit checks the dataset before anything is enqueued', () => {
  const bad: { name: string; file?: [string, string]; dataset: (path: string) => string[]; expect: RegExp }[] = [
    { name: 'a misspelt built-in dataset', dataset: () => ['  uri: builtin:spam-assasin'], expect: /dataset\.uri: unknown built-in dataset "builtin:spam-assasin"; did you mean builtin:spam-assassin\?/ },
    {
      name: 'a local file that does not exist',
      dataset: () => ['  uri: ./no/such/file.csv'],
      expect: /invalid dataset \(nothing was submitted\)\ndataset: \.\/no\/such\/file\.csv: file not found \(resolved to .*\)\. A local path is read by the coordinator process/,
    },
    {
      name: 'a named column that is not there',
      file: ['cols.csv', 'body,category\nhello world,a\nbye world,b\nhi world,a\n'],
      dataset: (p) => [`  uri: ${p}`, '  text_field: message'],
      expect: /column "message" not found; columns are: body, category/,
    },
    {
      name: 'one class only',
      file: ['one.tsv', 'ham\thello\nham\tbye\nham\tok\n'],
      dataset: (p) => [`  uri: ${p}`],
      expect: /column 0 has only one class \("ham", 3 rows\); expected at least 2 classes/,
    },
    {
      name: 'too few rows for the validation split',
      file: ['few.csv', 'text,label\na,x\nb,y\nc,x\n'],
      dataset: (p) => [`  uri: ${p}`],
      expect: /leave the validation split empty/,
    },
    {
      name: 'an s3:// object missing from the bucket',
      dataset: () => [`  uri: s3://${world.store.bucket}/inputs/nope.csv`],
      expect: /dataset: s3:\/\/sweepq-test\/inputs\/nope\.csv: no such object; upload it first or fix dataset\.uri/,
    },
  ];

  it.each(bad)('$name -> exit 2 with the message, nothing enqueued', async ({ name, file, dataset, expect: pattern }) => {
    const path = file === undefined ? '' : join(world.dir, file[0]);
    if (file !== undefined) await writeFile(path, file[1]);
    const spec = await specFile(name.replace(/\W+/g, '-'), [...GOOD, 'dataset:', ...dataset(path)]);
    const r = await runCli(['submit', spec], world.env);
    expect(r.stderr).toMatch(pattern);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(await queued()).toBe(0);
    expect(await world.store.list('sweeps/')).toEqual([]);
  });

  it('an s3:// dataset it cannot read is left to the coordinator, in one line; --no-dataset-check skips the check', async () => {
    const other = await specFile('other-bucket', [...GOOD, 'dataset:', '  uri: s3://someone-elses-bucket/data.csv']);
    const a = await runCli(['submit', other, '--json'], world.env);
    expect(a.status, a.stderr).toBe(0);
    expect(datasetLines(a.stderr)).toEqual([expect.stringMatching(/^dataset s3:\/\/someone-elses-bucket\/data\.csv: not checked here \(.*\); the coordinator checks it before any trial$/)]);
    const missing = await specFile('skip', [...GOOD, 'dataset:', '  uri: /only/on/the/coordinator.csv']);
    const b = await runCli(['submit', missing, '--no-dataset-check', '--json'], world.env);
    expect(b.status, b.stderr).toBe(0);
    expect(datasetLines(b.stderr)).toEqual([]);
    expect(await queued()).toBe(2);
    await sweeps.obliterate({ force: true });
    for (const r of [a, b]) await world.store.deletePrefix(layout.sweepPrefix((JSON.parse(r.stdout) as { sweepId: string }).sweepId));
  });
});

describe('the SMS Spam Collection shape, end to end with a one-line dataset block', () => {
  it('submit prints what it detected, and coordinator + worker train on it', async () => {
    // A relative path: the CLI runs in the repository root, and so does the coordinator the world starts.
    const uri = relative(repoRoot, SMS_FIXTURE);
    const spec = await specFile('sms', [
      'name: sms e2e',
      'method: grid',
      'parameters:',
      '  lstm_units: {values: [4, 8]}',
      '  embedding_dim: {value: 8}',
      '  max_words: {value: 200}',
      '  max_len: {value: 16}',
      '  epochs: {value: 1}',
      `dataset: {uri: ${uri}}`,
    ]);
    world.start('coordinator', 'coordinator');
    world.start('worker', 'worker', { WORKER_ID: 'w-sms' });
    const r = await runCli(['submit', spec, '--json'], world.env);
    expect(r.status, r.stderr).toBe(0);
    const sha = createHash('sha256').update(await readFile(SMS_FIXTURE)).digest('hex');
    const copy = `s3://${world.store.bucket}/datasets/uploads/${sha}/SMSSpamCollection`;
    const lines = datasetLines(r.stderr);
    expect(lines).toEqual([
      `dataset ${uri}: 96 rows, 2 classes (ham 71, spam 25); TSV by content; no header row; text column 1, label column 0; split 67/19/10`,
      expect.stringMatching(new RegExp(`^dataset ${uri}: (uploaded to|already in the bucket as) ${copy} \\(0\\.0 MB\\)$`)),
    ]);
    const { sweepId } = JSON.parse(r.stdout) as { sweepId: string };
    const stored = (await world.store.getText(layout.specYaml(sweepId)))!;
    expect(stored).toContain(`uri: ${copy}`);
    expect(stored).not.toContain(uri);
    const record: SweepRecord = await waitForSweep(world, sweepId, 300_000);
    expect(record.state, record.error).toBe('completed');
    expect(record.trials).toMatchObject({ total: 2, completed: 2, failed: 0 });
    expect(record.dataset).toMatchObject({ rows: 96, classes: ['ham', 'spam'], classCounts: { ham: 71, spam: 25 }, sizes: { train: 67, validation: 19, test: 10 } });
  });

  it('a local dataset travels with the sweep: a coordinator where the file does not exist trains on the uploaded copy', async () => {
    await stopAll(world.processes.splice(0), 20_000);
    const local = join(world.dir, 'laptop', 'my data.tsv');
    await mkdir(join(world.dir, 'laptop'), { recursive: true });
    await copyFile(SMS_FIXTURE, local);
    const spec = await specFile('laptop', ['name: laptop', 'method: grid', 'parameters:', '  max_len: {value: 16}', '  epochs: {value: 1}', 'dataset:', `  uri: ${local}`, '  header: false']);
    const r = await runCli(['submit', spec, '--json'], world.env);
    expect(r.status, r.stderr).toBe(0);
    const copy = /: uploaded to (s3:\/\/sweepq-test\/datasets\/uploads\/[0-9a-f]{64}\/my_data\.tsv) \(0\.0 MB\)$/.exec(datasetLines(r.stderr)[1] ?? '')?.[1];
    expect(copy, r.stderr).toBeDefined();
    // The same bytes again: found by their content address, not sent twice.
    const again = await runCli(['submit', spec, '--json'], world.env);
    expect(again.status, again.stderr).toBe(0);
    expect(datasetLines(again.stderr)[1]).toBe(`dataset ${local}: already in the bucket as ${copy} (0.0 MB)`);
    // Gone before any coordinator starts: only the bucket's copy is left.
    await rm(local);
    world.start('coordinator', 'coordinator-2');
    world.start('worker', 'worker-2', { WORKER_ID: 'w-laptop' });
    const { sweepId } = JSON.parse(r.stdout) as { sweepId: string };
    const record: SweepRecord = await waitForSweep(world, sweepId, 300_000);
    expect(record.state, record.error).toBe('completed');
    expect(record.dataset).toMatchObject({ rows: 96, uri: copy });
    expect((await waitForSweep(world, (JSON.parse(again.stdout) as { sweepId: string }).sweepId, 300_000)).state).toBe('completed');
    const noUpload = await runCli(['submit', spec, '--json', '--no-upload', '--no-dataset-check'], world.env);
    expect(noUpload.status, noUpload.stderr).toBe(0);
    expect(await world.store.getText(layout.specYaml((JSON.parse(noUpload.stdout) as { sweepId: string }).sweepId))).toContain(`uri: ${local}`);
  });
});
