// Timings of the report and the sweep index at scale (not a test: numbers only, no assertions).
//   node --conditions=source --import tsx packages/report/bench/report-bench.ts [trials=10000] [epochs=20] [sweeps=1000]
// Report: a synthetic 5-parameter sweep (packages/report/test/fixtures.ts syntheticSweep) is built and rendered, then
// opened in Chromium. Index: `sweeps` sweep.json files in an in-process S3 server are collected (the real listing),
// rendered and opened. Writes test-artifacts/bench-report-<n>.html, bench-index-<n>.html and screenshots.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ArtifactStore, createS3Client, layout, startLocalS3 } from '@sweepq/storage';
import { buildReportData, collectSweepIndex, renderReport, renderSweepIndex } from '../src/index.js';
import { sweepRecord, syntheticSweep } from '../test/fixtures.js';

const n = Number(process.argv[2] ?? 10_000);
const epochs = Number(process.argv[3] ?? 20);
const nSweeps = Number(process.argv[4] ?? 1000);
const out = join(import.meta.dirname, '..', '..', '..', 'test-artifacts');
await mkdir(out, { recursive: true });
const ms = (t: number) => `${(performance.now() - t).toFixed(0)} ms`;

const s = syntheticSweep({ trials: n, epochs });
buildReportData({ ...s, results: s.results.slice(0, 50), final: true }); // warm-up: module loading and JIT
let t = performance.now();
const data = buildReportData({ ...s, final: true });
const buildMs = ms(t);
t = performance.now();
const html = renderReport(data);
console.log(`report, ${n} trials x ${epochs} epochs: build ${buildMs}, render ${ms(t)}, ${(html.length / 1024 / 1024).toFixed(2)} MB`);
const reportFile = join(out, `bench-report-${n}.html`);
await writeFile(reportFile, html);

const dir = await mkdtemp(join(tmpdir(), 'sweepq-index-bench-'));
const s3 = await startLocalS3({ directory: dir, buckets: ['bench'] });
const store = new ArtifactStore({ client: createS3Client({ endpoint: s3.endpoint, credentials: s3.credentials }), bucket: 'bench', prefix: '', endpoint: s3.endpoint });
let indexFile = '';
try {
  t = performance.now();
  const states = ['completed', 'completed', 'running', 'failed', 'cancelled'] as const;
  for (let i = 0; i < nSweeps; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, nSweeps - i) }, async (_, k) => {
        const j = i + k;
        const id = `sweep-${String(j).padStart(5, '0')}`;
        await store.putJson(layout.sweepJson(id), sweepRecord({ sweepId: id, name: `bench ${j}`, state: states[j % 5]!, best: { trialId: 't0001', value: 0.9 + (j % 97) / 1000 }, submittedAt: new Date(Date.UTC(2026, 0, 1) + j * 60_000).toISOString() }));
        if (j % 5 !== 3) await store.put(layout.reportHtml(id), '<!doctype html>', 'text/html');
      }),
    );
  }
  console.log(`index: wrote ${nSweeps} sweeps to s3rver in ${ms(t)}`);
  t = performance.now();
  const index = await collectSweepIndex(store);
  const collectMs = ms(t);
  t = performance.now();
  const ixHtml = renderSweepIndex(index);
  console.log(`index, ${index.sweeps.length} sweeps: collect (s3rver) ${collectMs}, render ${ms(t)}, ${(ixHtml.length / 1024).toFixed(0)} KB`);
  indexFile = join(out, `bench-index-${nSweeps}.html`);
  await writeFile(indexFile, ixHtml);
} finally {
  store.client.destroy();
  await s3.close();
  await rm(dir, { recursive: true, force: true });
}

if (existsSync('/usr/bin/chromium')) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    for (const [file, label] of [
      [reportFile, `report (${n} trials)`],
      [indexFile, `index (${nSweeps} sweeps)`],
    ] as const) {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      t = performance.now();
      await page.goto(pathToFileURL(file).href, { waitUntil: 'commit' });
      await page.waitForSelector(`body[data-${file === reportFile ? 'drawn' : 'ready'}="true"]`, { timeout: 120_000 });
      const wall = ms(t);
      // The page's own clock (from navigation start) is the measure: Playwright's polling waits for the page's main
      // thread, which the charts keep busy after the first screen is shown.
      const parts = await page.evaluate(() => (globalThis as { __sweepqTimings?: Record<string, number> }).__sweepqTimings);
      console.log(`chromium: ${label}: first screen after ${parts?.ready} ms, everything drawn after ${parts?.drawn} ms from navigation start; wall clock with opening the page ${wall}`);
      if (file === reportFile) console.log(`chromium: parts (ms) ${JSON.stringify(parts)}`);
      if (file === reportFile) {
        t = performance.now();
        await page.click('#lb-table thead th[data-key="learning_rate"]');
        console.log(`chromium: sort ${n} rows ${ms(t)}`);
      }
      await page.screenshot({ path: file.replace(/\.html$/, '.png'), fullPage: true });
      await page.close();
    }
  } finally {
    await browser.close();
  }
}
