import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeForTrial, type TrialVocabulary } from '@sweepq/data';
import { ReportRefresher, USAGE_SNIPPET, formatMetric, writeBestModel, writeSweepIndex, writeSweepReport, type BestModelInfo, type SweepIndex } from '@sweepq/report';
import type { SweepRecord, TrialResult } from '@sweepq/results';
import { layout } from '@sweepq/storage';
import { loadCliEnv, openContext, readSpecFile, submitSweep } from '@sweepq/cli';
import { createWorld, waitFor, writeToyCsv, type TestWorld } from './helpers/env.js';
import { launchChromium, openPage } from './helpers/report-page.js';
import { testSplit } from './helpers/prepared.js';

/**
 * The report of a real sweep (coordinator + 2 worker processes, tiny model, toy CSV), checked the way a person uses
 * it: `sweepq report` fetches it and presigns a URL, headless Chromium opens the file (no network, no console
 * errors, one row per trial, charts drawn, sorting works, injected script inert), and `sweepq predict` on the best
 * model agrees with the worker's own evaluation of the same held-out examples.
 */

const ROOT = join(import.meta.dirname, '..');
const ARTIFACTS = join(ROOT, 'test-artifacts');
const cliBin = join(ROOT, 'services', 'cli', 'bin', 'sweepq.js');

let world: TestWorld;
let browser: Browser | undefined;
let sweepId = '';
let record: SweepRecord;
let snapshotHtml = '';
const reportFile = join(ARTIFACTS, 'report-e2e.html');

// Asynchronous on purpose: the bucket (s3rver) runs in this process, so a blocking spawnSync would deadlock.
function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

async function cli(args: string[], input?: string): Promise<Record<string, unknown>> {
  const env = { ...process.env, ...world.env, SWEEPQ_FROM_SOURCE: '1', LOG_LEVEL: 'warn' };
  const r = await run(process.execPath, [cliBin, ...args], { env, ...(input !== undefined ? { input } : {}) });
  if (r.status !== 0) throw new Error(`sweepq ${args.join(' ').slice(0, 200)} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

// The spec is user input: its name and a comment try to inject script into the report.
const SPEC_LINES = [
  'name: "report e2e <img src=x onerror=window.__pwned=1>"',
  '# </script><script>window.__pwned=2</script>',
  'method: random',
  'run_cap: 4',
  'seed: 3',
  'metric: {name: val_accuracy, goal: maximize}',
  'parameters:',
  '  learning_rate: {distribution: log_uniform_values, min: 0.002, max: 0.03}',
  '  lstm_units: {values: [4, 8]}',
  '  embedding_dim: {value: 8}',
  '  max_words: {value: 40}',
  '  max_len: {value: 12}',
  '  batch_size: {value: 32}',
  '  epochs: {value: 3}',
  'dataset:',
  '  uri: s3://sweepq-test/inputs/toy.csv',
  '  validation_split: 0.25',
  '  test_split: 0.15',
  '',
];

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  world = await createWorld();
  const csv = join(world.dir, 'toy.csv');
  await writeToyCsv(csv, 240);
  await world.store.put('inputs/toy.csv', await readFile(csv), 'text/csv');
  const specPath = join(world.dir, 'sweep.yaml');
  await writeFile(specPath, SPEC_LINES.join('\n'));

  // Workers start once the running report is written, so the test sees the sweep running however fast it trains.
  world.start('coordinator', 'coordinator');
  const ctx = await openContext(loadCliEnv(world.env));
  try {
    const { text, spec } = await readSpecFile(specPath);
    sweepId = await submitSweep(ctx, text, spec);
  } finally {
    await ctx.close();
  }

  await waitFor('the sweep to be planned', async () => ((await world.store.getJson<SweepRecord>(layout.sweepJson(sweepId)))?.state === 'running' ? true : undefined), 120_000, 200);
  await writeSweepReport(world.store, sweepId);
  snapshotHtml = (await world.store.getText(layout.reportHtml(sweepId))) ?? '';
  world.start('worker', 'worker-1', { WORKER_ID: 'w1' });
  world.start('worker', 'worker-2', { WORKER_ID: 'w2' });

  // While the sweep runs, refresh its report the way the coordinator does.
  const refresher = new ReportRefresher(world.store, sweepId, { everyTrials: 1 });
  record = await waitFor(
    'the sweep to finish',
    async () => {
      const r = await world.store.getJson<SweepRecord>(layout.sweepJson(sweepId));
      if (r?.trials && r.state === 'running') {
        refresher.update(r.trials.completed + r.trials.failed);
        await refresher.idle();
      }
      return r && ['completed', 'failed', 'cancelled'].includes(r.state) ? r : undefined;
    },
    240_000,
    300,
  );
  await refresher.finalize();
  await writeBestModel(world.store, sweepId, record.best!.trialId);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await world?.cleanup();
});

describe('the report of a real sweep', () => {
  it('is written while the sweep runs and finalized at the end, and the best model is described', async () => {
    expect(record.state, record.error).toBe('completed');
    expect(record.trials).toMatchObject({ total: 4, completed: 4 });
    expect(snapshotHtml).toContain('data-final="false"');
    const html = (await world.store.getText(layout.reportHtml(sweepId)))!;
    expect(html).toContain('data-final="true"');
    const best = (await world.store.getJson<BestModelInfo>(`${layout.bestPrefix(sweepId)}best.json`))!;
    expect(best).toMatchObject({ trialId: record.best!.trialId, classes: ['finance', 'sport', 'weather'], preprocessing: { max_len: 12, num_words: 40 } });
  });

  it('sweepq report fetches it to a file and presigns a URL that works without credentials', async () => {
    const got = await cli(['report', sweepId, '--out', reportFile, '--json']);
    expect(got).toMatchObject({ regenerated: false, file: reportFile });
    expect(await readFile(reportFile, 'utf8')).toBe(await world.store.getText(layout.reportHtml(sweepId)));

    const signed = await cli(['report', sweepId, '--url', '--expires', '10m', '--json']);
    const url = String(signed.url);
    expect(url).toMatch(/X-Amz-Signature=/);
    expect(url).toMatch(/X-Amz-Expires=600\b/);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(await readFile(reportFile, 'utf8'));
    expect(new URL(url).pathname).toBe(`/${world.store.bucket}/${layout.reportHtml(sweepId)}`);
    // A URL past its expiry is refused. (s3rver checks expiry but neither SigV4 signatures nor anonymous access, so
    // a forged signature or a bare URL cannot be tested here; the signing itself is the AWS SDK's presigner.)
    const short = await cli(['report', sweepId, '--url', '--expires', '1s', '--json']);
    await sleep(Math.max(0, Date.parse(String(short.expiresAt)) + 1500 - Date.now()));
    expect((await fetch(String(short.url))).status).toBe(403);

    const rebuilt = await cli(['report', sweepId, '--regenerate', '--no-upload', '--out', join(world.dir, 'rebuilt.html'), '--json']);
    expect(rebuilt).toMatchObject({ regenerated: true, uploaded: false });
    expect(await readFile(join(world.dir, 'rebuilt.html'), 'utf8')).toContain(`<code>${sweepId}</code>`);
  });

  it('sweepq list shows the sweep with the index data, and sweeps/index.html links to its report', async () => {
    const listed = (await cli(['list', '--json'])) as unknown as SweepIndex;
    const entry = listed.sweeps.find((x) => x.sweepId === sweepId);
    expect(entry).toMatchObject({
      state: 'completed',
      report: `${sweepId}/report.html`,
      best: { trialId: record.best!.trialId, value: record.best!.value },
      trials: { total: 4, completed: 4 },
      submittedAt: record.submittedAt,
    });
    const env = { ...process.env, ...world.env, SWEEPQ_FROM_SOURCE: '1', LOG_LEVEL: 'warn' };
    const table = await run(process.execPath, [cliBin, 'list'], { env });
    expect(table.status, table.stderr).toBe(0);
    const [header, ...lines] = table.stdout.trim().split('\n');
    expect(header).toMatch(/^SWEEP\s+NAME\s+STATE\s+TRIALS\s+BEST\s+SUBMITTED \(UTC\)$/);
    const line = lines.find((l) => l.startsWith(sweepId))!;
    expect(line).toContain('completed');
    expect(line).toContain(' 4/4 ');
    expect(line).toContain(`${formatMetric(record.best!.value)} val_accuracy`);
    const bad = await run(process.execPath, [cliBin, 'list', '--state', 'done'], { env });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--state: expected one of queued, preparing, running, completed, failed, cancelled, got "done"');

    expect(await writeSweepIndex(world.store)).toMatchObject({ key: 'sweeps/index.html', sweeps: listed.sweeps.length });
    expect(await world.store.getText('sweeps/index.html')).toContain(`<a href="${sweepId}/report.html">${sweepId}</a>`);
  });

  it('opens in headless Chromium without network or console errors: leaderboard, charts, sorting', async () => {
    browser = await launchChromium();
    const { page, problems } = await openPage(browser, reportFile, 1400);

    // The hostile name is shown as text, and nothing it carried ran.
    expect(await page.textContent('h1')).toBe('report e2e <img src=x onerror=window.__pwned=1>');
    expect(await page.textContent('#spec-text')).toContain('</script><script>window.__pwned=2</script>');
    expect(await page.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned)).toBeUndefined();

    // One row per trial.
    const rows = page.locator('#lb-table tbody tr');
    expect(await rows.count()).toBe(4);
    const ids = async () => rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-trial')));
    expect((await ids()).sort()).toEqual(['t0000', 't0001', 't0002', 't0003']);
    expect((await ids())[0]).toBe(record.best!.trialId);

    // Every chart drew something: its canvas has painted pixels.
    const charts = ['#chart-parallel', '#chart-loss', '#chart-accuracy', '#chart-confusion', '#chart-per-class', '#scatter-grid [data-param="learning_rate"]', '#scatter-grid [data-param="lstm_units"]'];
    for (const sel of charts) {
      const painted = await page.$eval(sel, (node) => {
        const canvas = node.querySelector('canvas');
        if (!canvas || canvas.width === 0 || canvas.height === 0) return 0;
        const px = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let n = 0;
        for (let i = 3; i < px.length; i += 4) if (px[i]! > 0) n++;
        return n;
      });
      expect(painted, `${sel} painted pixels`).toBeGreaterThan(1000);
    }
    // learning_rate is log-uniform in the spec: its scatter plot says so.
    expect(await page.$$eval('#scatter-grid .chart', (els) => els.map((e) => e.getAttribute('data-param')))).toEqual(['lstm_units', 'learning_rate']);

    // Sorting: by trial id, both directions; by the metric, best first.
    await page.click('#lb-table thead th[data-key="trial"]');
    expect(await ids()).toEqual(['t0000', 't0001', 't0002', 't0003']);
    await page.click('#lb-table thead th[data-key="trial"]');
    expect(await ids()).toEqual(['t0003', 't0002', 't0001', 't0000']);
    await page.click('#lb-table thead th[data-key="lstm_units"]');
    const unitsCol = await page.$$eval('#lb-table thead th', (ths) => ths.findIndex((th) => th.getAttribute('data-key') === 'lstm_units'));
    expect(unitsCol).toBeGreaterThan(0);
    const units = await rows.evaluateAll((trs, i) => trs.map((tr) => Number(tr.children[i]!.textContent)), unitsCol);
    expect(units).toEqual([...units].sort((a, b) => b - a));
    await page.click('#lb-table thead th[data-key="val_accuracy"]');
    const metric = await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.querySelectorAll('td.num')[1]!.textContent)));
    expect(metric).toEqual([...metric].sort((a, b) => b - a));

    // Filtering: a parameter condition keeps exactly the trials that satisfy it.
    const units4: string[] = [];
    for (const t of ['t0000', 't0001', 't0002', 't0003']) {
      if ((await world.store.getJson<TrialResult>(layout.result(sweepId, t)))!.params.lstm_units === 4) units4.push(t);
    }
    await page.fill('#lb-filter', 'lstm_units=4');
    await expect.poll(() => page.textContent('#lb-count')).toBe(`${units4.length} of 4 trials`);
    expect((await ids()).sort()).toEqual(units4);
    await page.fill('#lb-filter', 't0001');
    await expect.poll(() => page.textContent('#lb-count')).toBe('1 of 4 trials');
    expect(await ids()).toEqual(['t0001']);
    await page.fill('#lb-filter', '');
    await expect.poll(() => page.textContent('#lb-count')).toBe('4 of 4 trials');

    await page.screenshot({ path: join(ARTIFACTS, 'report-e2e.png'), fullPage: true });
    expect(problems).toEqual([]);
  });

  it("sweepq predict on the best model matches the worker's own evaluation of held-out examples", async () => {
    const bestId = record.best!.trialId;
    const result = (await world.store.getJson<TrialResult>(layout.result(sweepId, bestId)))!;
    const samples = result.evaluation!.samples;
    expect(samples.length).toBeGreaterThan(0);
    // Rebuild each sample's text from its encoded held-out row: re-encoding it gives the same model input, so the
    // CLI's text path must reproduce the worker's probabilities for those rows.
    const vocab = (await world.store.getJson<TrialVocabulary>(`${layout.resultModelPrefix(result)}vocab.json`))!;
    const words = new Map(Object.entries(vocab.word_index).map(([w, i]) => [i, w]));
    const enc = encodeForTrial(await testSplit(world, record), { maxWords: vocab.num_words, maxLen: vocab.max_len });
    const texts = samples.map((s) =>
      Array.from(enc.x.subarray(s.index * vocab.max_len, (s.index + 1) * vocab.max_len))
        .filter((id) => id > 0)
        .map((id) => words.get(id)!)
        .join(' '),
    );
    expect(texts.every((t) => t.length > 0)).toBe(true);

    const out = await cli(['predict', sweepId, ...texts, '--json']) as {
      model: { trialId: string; classes: string[] };
      predictions: { label: string; index: number; probabilities: Record<string, number> }[];
    };
    expect(out.model.trialId).toBe(bestId);
    expect(out.predictions).toHaveLength(samples.length);
    samples.forEach((s, i) => {
      const p = out.predictions[i]!;
      const expected = s.probabilities.indexOf(Math.max(...s.probabilities));
      expect(p.index).toBe(expected);
      expect(p.label).toBe(vocab.classes[expected]);
      vocab.classes.forEach((c, j) => expect(p.probabilities[c]).toBeCloseTo(s.probabilities[j]!, 4));
    });

    // Raw texts from the CSV, stdin input, a named trial: the README's stock-tfjs snippet on the downloaded best/
    // folder classifies them the same way.
    const raw = (await readFile(join(world.dir, 'toy.csv'), 'utf8')).split('\n').slice(1, 9).map((l) => l.slice(1, l.lastIndexOf('"')));
    const viaStdin = await cli(['predict', sweepId, '-', '--json'], raw.join('\n')) as typeof out;
    expect(viaStdin.predictions.map((p) => p.label)).toHaveLength(raw.length);
    const other = ['t0000', 't0001', 't0002', 't0003'].find((t) => t !== bestId)!;
    expect((await cli(['predict', sweepId, raw[0]!, '--trial', other, '--json']) as typeof out).model.trialId).toBe(other);

    const bestDir = join(world.dir, 'best');
    await mkdir(bestDir, { recursive: true });
    for (const f of ['model.json', 'weights.bin', 'vocab.json']) {
      await writeFile(join(bestDir, f), await world.store.getRequired(`${layout.bestPrefix(sweepId)}${f}`));
    }
    const script = join(ARTIFACTS, 'best-usage.mjs'); // inside the repository, so '@tensorflow/tfjs' resolves
    await writeFile(script, USAGE_SNIPPET);
    const snippet = await run(process.execPath, [script, bestDir, ...raw]);
    expect(snippet.status, snippet.stderr).toBe(0);
    const fromSnippet = snippet.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { label: string; probabilities: Record<string, number> });
    expect(fromSnippet.map((p) => p.label)).toEqual(viaStdin.predictions.map((p) => p.label));
    fromSnippet.forEach((p, i) => vocab.classes.forEach((c) => expect(p.probabilities[c]).toBeCloseTo(viaStdin.predictions[i]!.probabilities[c]!, 4)));

    // A local copy of the model works without any bucket.
    const local = await cli(['predict', bestDir, raw[0]!, '--json']) as typeof out;
    expect(local.predictions[0]!.label).toBe(viaStdin.predictions[0]!.label);
  });
});
