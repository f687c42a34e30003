// Timings of the report with many trials (not a test: numbers only, no assertions).
//   node --conditions=source --import tsx packages/report/bench/report-bench.ts [trials=1000] [epochs=20]
// Writes test-artifacts/bench-report-<n>.html and, where /usr/bin/chromium exists, a screenshot beside it.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TrialResult } from '@sweepq/results';
import { buildReportData, renderReport } from '../src/index.js';
import { metricsJsonl, sweepRecord, trialResult } from '../test/fixtures.js';

const n = Number(process.argv[2] ?? 1000);
const epochs = Number(process.argv[3] ?? 20);
const out = join(import.meta.dirname, '..', '..', '..', 'test-artifacts');
await mkdir(out, { recursive: true });

const results: TrialResult[] = [];
const metrics = new Map<string, string>();
for (let i = 0; i < n; i++) {
  const v = i % 17 === 5 ? null : 0.6 + ((i * 7919) % 1000) / 3000;
  const r = trialResult(i, v);
  results.push(r);
  if (v !== null) metrics.set(r.trialId, metricsJsonl(epochs, v));
}
let t = performance.now();
const data = buildReportData({ sweep: sweepRecord({ name: `synthetic ${n} trials` }), results, metrics, final: true });
const html = renderReport(data);
console.log(`build+render ${n} trials x ${epochs} epochs: ${(performance.now() - t).toFixed(0)} ms, ${(html.length / 1024 / 1024).toFixed(2)} MB`);
const file = join(out, `bench-report-${n}.html`);
await writeFile(file, html);

if (existsSync('/usr/bin/chromium')) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    t = performance.now();
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    console.log(`chromium: ready after ${(performance.now() - t).toFixed(0)} ms`);
    t = performance.now();
    await page.click('#lb-table thead th[data-key="learning_rate"]');
    console.log(`chromium: sort ${n} rows ${(performance.now() - t).toFixed(0)} ms`);
    await page.screenshot({ path: file.replace(/\.html$/, '.png'), fullPage: true });
  } finally {
    await browser.close();
  }
}
