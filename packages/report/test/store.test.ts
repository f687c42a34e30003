import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PARAMS } from '@sweepq/sweep-config';
import { ArtifactStore, createS3Client, layout, startLocalS3, type LocalS3 } from '@sweepq/storage';
import {
  ReportError,
  ReportRefresher,
  USAGE_SNIPPET,
  clearReportCache,
  collectReportData,
  writeBestModel,
  architecture,
  writeSweepReport,
  type BestModelInfo,
} from '../src/index.js';
import { SPEC, metricsJsonl, sweepRecord, trialResult } from './fixtures.js';
import { planTrials } from '@sweepq/search';

let s3: LocalS3;
let dir: string;
let store: ArtifactStore;
const SWEEP = 'fixture-sweep';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sweepq-report-'));
  s3 = await startLocalS3({ directory: dir, buckets: ['unit'] });
  store = new ArtifactStore({ client: createS3Client({ endpoint: s3.endpoint, credentials: s3.credentials }), bucket: 'unit', prefix: 'p', endpoint: s3.endpoint });
  const spec = { ...SPEC, run_cap: 6 };
  await store.putJson(layout.sweepJson(SWEEP), sweepRecord({ spec }));
  await store.put(layout.specYaml(SWEEP), 'name: fixture\n# a comment <b>\n', 'text/yaml');
  const planned = planTrials(spec);
  // t0000, t0002 completed; t0001 failed without metrics; t0003 running (metrics only); t0004, t0005 not started.
  for (const [i, v] of [
    [0, 0.7],
    [1, null],
    [2, 0.9],
  ] as const) {
    const r = trialResult(i, v, { params: planned[i]!.params });
    await store.putJson(layout.result(SWEEP, r.trialId), r);
    if (v !== null) await store.put(layout.metrics(SWEEP, r.trialId), metricsJsonl(3, v));
  }
  await store.putJson(layout.params(SWEEP, 't0003'), planned[3]!.params);
  await store.put(layout.metrics(SWEEP, 't0003'), metricsJsonl(3, 0.6).split('\n')[0]!);
});

afterAll(async () => {
  store?.client.destroy();
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('collectReportData', () => {
  it('reads every trial that exists, and lists planned ones without files as queued', async () => {
    const d = await collectReportData(store, SWEEP, { cache: false });
    expect(d.trials.map((t) => [t.trialId, t.state, t.rank])).toEqual([
      ['t0002', 'completed', 1],
      ['t0000', 'completed', 2],
      ['t0001', 'failed', null],
      ['t0003', 'running', null],
      ['t0004', 'queued', null],
      ['t0005', 'queued', null],
    ]);
    expect(d.specText).toContain('# a comment <b>');
    expect(d.trials.find((t) => t.trialId === 't0003')!.curve.epoch).toEqual([1]);
    expect(d.trials.find((t) => t.trialId === 't0004')!.params.learning_rate).toBeGreaterThan(0);
    expect(d.best?.trialId).toBe('t0002');
  });

  it('reads finished trials once per store and sweep, and still sees new ones', async () => {
    const first = await collectReportData(store, SWEEP);
    expect(first.trials.filter((t) => t.state === 'completed')).toHaveLength(2);
    // A cached result is not read again: changing it in the bucket does not show until the cache is cleared…
    const changed = trialResult(0, 0.95);
    await store.putJson(layout.result(SWEEP, 't0000'), changed);
    // …while a trial that finishes in between does.
    const r3 = trialResult(3, 0.8);
    await store.putJson(layout.result(SWEEP, 't0003'), r3);
    const second = await collectReportData(store, SWEEP);
    expect(second.trials.find((t) => t.trialId === 't0000')!.metric).toBe(0.7);
    expect(second.trials.find((t) => t.trialId === 't0003')!.state).toBe('completed');
    clearReportCache(store, SWEEP);
    const third = await collectReportData(store, SWEEP);
    expect(third.trials[0]!.trialId).toBe('t0000');
    expect(third.trials[0]!.metric).toBe(0.95);
    await store.putJson(layout.result(SWEEP, 't0000'), trialResult(0, 0.7));
    await store.deletePrefix(layout.result(SWEEP, 't0003'));
    clearReportCache(store);
  });

  it('takes finished results and running trials from a caller that knows them, reading only metrics', async () => {
    const planned = planTrials({ ...SPEC, run_cap: 6 });
    // The caller's t0000 result differs from the bucket's: it is used as given, not read again.
    const mine = [trialResult(0, 0.99, { params: planned[0]!.params }), trialResult(2, 0.9, { params: planned[2]!.params })];
    const running = ['t0003'];
    const before = s3.requests();
    const d = await collectReportData(store, SWEEP, { cache: false, known: { results: mine, running } });
    // spec.yaml, sweep.json, and metrics of t0000, t0002 and t0003: no listing, no result.json.
    expect(s3.requests() - before).toBe(5);
    expect(d.trials.map((t) => [t.trialId, t.state])).toEqual([
      ['t0000', 'completed'],
      ['t0002', 'completed'],
      ['t0001', 'queued'],
      ['t0003', 'running'],
      ['t0004', 'queued'],
      ['t0005', 'queued'],
    ]);
    expect(d.trials[0]!.metric).toBe(0.99);
    expect(d.trials[0]!.curve.epoch).toEqual([1, 2, 3]);
    expect(d.trials.find((t) => t.trialId === 't0003')!.curve.epoch).toEqual([1]);
  });

  it('fails with NO_SWEEP for a sweep that does not exist', async () => {
    await expect(collectReportData(store, 'nope')).rejects.toMatchObject({ name: 'ReportError', code: 'NO_SWEEP' });
  });
});

describe('writeSweepReport', () => {
  it('puts report.html as text/html', async () => {
    const r = await writeSweepReport(store, SWEEP, { final: true });
    expect(r.key).toBe(layout.reportHtml(SWEEP));
    const html = (await store.getText(r.key))!;
    expect(Buffer.byteLength(html)).toBe(r.bytes);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('data-final="true"');
    expect(html).toContain('# a comment &lt;b&gt;');
    const head = await store.client.send(new HeadObjectCommand({ Bucket: 'unit', Key: store.fullKey(r.key) }));
    expect(head.ContentType).toMatch(/^text\/html/);
  });

  it('refreshes every few finished trials, in the background and once at a time, and finalizes', async () => {
    const refresher = new ReportRefresher(store, SWEEP, { everyTrials: 2, maxIntervalMs: 60_000 });
    const step = async (finished: number, now: number) => {
      const started = refresher.update(finished, now);
      await refresher.idle();
      return started;
    };
    expect(await step(0, 0)).toBe(true);
    expect(await step(1, 1000)).toBe(false);
    expect(await step(2, 2000)).toBe(true);
    expect(await step(3, 3000)).toBe(false);
    expect(await step(3, 70_000)).toBe(true);
    expect(await step(3, 200_000)).toBe(false);
    // While a refresh is in flight, a due one does not start a second write.
    expect(refresher.update(10, 210_000)).toBe(true);
    expect(refresher.update(20, 220_000)).toBe(false);
    await refresher.idle();
    expect((await store.getText(layout.reportHtml(SWEEP)))!).toContain('data-final="false"');
    await refresher.finalize();
    expect((await store.getText(layout.reportHtml(SWEEP)))!).toContain('data-final="true"');
  });
});

describe('writeBestModel', () => {
  const vocab = {
    format: 'sweepq-vocab/1',
    word_index: { goal: 1, rain: 2, stock: 3 },
    num_words: 40,
    max_len: 12,
    padding: 'pre',
    truncating: 'pre',
    lower: true,
    filters: '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n',
    split: ' ',
    classes: ['finance', 'sport', 'weather'],
    oov_token: null,
  };

  it('copies the model files, then writes best.json and a README on loading it with stock tfjs', async () => {
    const model = layout.modelPrefix(SWEEP, 't0002');
    await store.putJson(`${model}model.json`, { modelTopology: {}, weightsManifest: [{ paths: ['weights.bin'], weights: [] }] });
    await store.put(`${model}weights.bin`, new Uint8Array([1, 2, 3, 4]));
    await store.putJson(`${model}vocab.json`, vocab);
    await writeBestModel(store, SWEEP, 't0002');

    const best = layout.bestPrefix(SWEEP);
    expect(await store.get(`${best}weights.bin`)).toEqual(new Uint8Array([1, 2, 3, 4]));
    expect(await store.getJson(`${best}vocab.json`)).toEqual(vocab);
    const info = (await store.getJson<BestModelInfo>(`${best}best.json`))!;
    expect(info).toMatchObject({
      format: 'sweepq-best/1',
      sweepId: SWEEP,
      trialId: 't0002',
      metric: { name: 'val_accuracy', goal: 'maximize', value: 0.9 },
      classes: ['finance', 'sport', 'weather'],
      preprocessing: { lower: true, num_words: 40, max_len: 12, padding: 'pre', truncating: 'pre', split: ' ', filters: vocab.filters },
      files: { model: 'model.json', weights: 'weights.bin', vocabulary: 'vocab.json' },
    });
    expect(info.params?.lstm_units).toBeGreaterThan(0);
    expect(info.usage).toBe(USAGE_SNIPPET);
    const readme = (await store.getText(`${best}README.md`))!;
    expect(readme).toContain('tf.loadLayersModel');
    expect(readme).toContain('`finance`, `sport`, `weather`');
    expect(readme).toContain('[batch, 12]');
    expect(readme).toContain(USAGE_SNIPPET);
    expect(readme).toContain('`Embedding -> LSTM -> Dense(softmax)`');
    expect(readme).toContain('tensorflowjs_converter --input_format=tfjs_layers_model --output_format=keras best/model.json model.h5');
  });

  it('names the architecture a trial built', () => {
    expect(architecture({ ...DEFAULT_PARAMS })).toBe('Embedding -> LSTM -> Dense(softmax)');
    expect(architecture({ ...DEFAULT_PARAMS, lstm_layers: 3, bidirectional: true, cell: 'gru', mask_zero: true } as unknown as typeof DEFAULT_PARAMS)).toBe(
      'Embedding(mask_zero) -> Bidirectional(GRU) x 3 -> Dense(softmax)',
    );
    expect(architecture(null)).toBe('Embedding -> LSTM -> Dense(softmax)');
  });

  it('fails with NO_MODEL, writing nothing, when the trial has no model', async () => {
    await expect(writeBestModel(store, SWEEP, 't0001')).rejects.toBeInstanceOf(ReportError);
    await expect(writeBestModel(store, SWEEP, 't0001')).rejects.toMatchObject({ code: 'NO_MODEL', message: expect.stringMatching(/model\.json, weights\.bin, vocab\.json/) });
  });
});

describe('runs replaced by sweepq retry', () => {
  it('are read from trials/<id>/attempts/ and drawn on the timeline before the retry, listed or known', async () => {
    const id = 'retried-sweep';
    const failed = trialResult(1, null, { sweepId: id, worker: 'w1', durationSec: 5, finishedAt: '2026-01-01T00:00:30.000Z' });
    const rerun = trialResult(1, 0.8, { sweepId: id, worker: 'w2', durationSec: 10, finishedAt: '2026-01-01T01:00:10.000Z' });
    await store.putJson(layout.sweepJson(id), sweepRecord({ sweepId: id, state: 'completed', retries: [{ at: '2026-01-01T01:00:00.000Z', trials: ['t0001'] }] }));
    await store.putJson(layout.result(id, 't0001'), rerun);
    await store.put(layout.metrics(id, 't0001'), metricsJsonl(3, 0.8));
    await store.putJson(`${layout.trialAttemptsPrefix(id, 't0001')}20260101T000030Z-result.json`, failed);
    for (const d of [
      await collectReportData(store, id, { cache: false }),
      await collectReportData(store, id, { cache: false, known: { results: [rerun], running: [] } }),
    ]) {
      expect(d.trials.map((t) => [t.trialId, t.state])).toEqual([['t0001', 'completed']]);
      expect(d.analysis.timeline.segments.map((s) => [s.trialId, s.worker, s.kind, s.outcome])).toEqual([
        ['t0001', 'w1', 'first', 'failed'],
        ['t0001', 'w2', 'retry', 'completed'],
      ]);
      expect(d.analysis.timeline.retries).toEqual([{ at: Date.parse('2026-01-01T01:00:00.000Z'), trials: ['t0001'] }]);
    }
  });
});
