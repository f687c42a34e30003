import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore, createS3Client, layout, startLocalS3, type LocalS3 } from '@sweepq/storage';
import { collectReportData, collectSweepIndex, formatMetric, renderReport, renderSweepIndex, writeSweepIndex } from '../src/index.js';
import { metricsJsonl, sweepRecord, trialResult } from './fixtures.js';

let s3: LocalS3;
let dir: string;
let store: ArtifactStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sweepq-index-'));
  s3 = await startLocalS3({ directory: dir, buckets: ['unit'] });
  store = new ArtifactStore({ client: createS3Client({ endpoint: s3.endpoint, credentials: s3.credentials }), bucket: 'unit', prefix: 'ix', endpoint: s3.endpoint });
  // Done: a finished sweep with trials and a report.
  await store.putJson(layout.sweepJson('done-1'), sweepRecord({
    sweepId: 'done-1', name: 'lr <search>', state: 'completed', best: { trialId: 't0002', value: 0.964123 },
    submittedAt: '2026-02-01T10:00:00.000Z', finishedAt: '2026-02-01T11:30:00.000Z',
    trials: { total: 20, completed: 12, stopped: 6, failed: 2, cancelled: 0, running: 0, queued: 0 },
  }));
  for (let i = 0; i < 3; i++) {
    const r = trialResult(i, 0.9, { sweepId: 'done-1' });
    await store.putJson(layout.result('done-1', r.trialId), r);
    await store.put(layout.metrics('done-1', r.trialId), metricsJsonl(3, 0.9));
  }
  await store.put(layout.reportHtml('done-1'), '<!doctype html>', 'text/html');
  // Running, newer, no report yet.
  await store.putJson(layout.sweepJson('run-2'), sweepRecord({ sweepId: 'run-2', name: 'running one', state: 'running', submittedAt: '2026-02-02T09:00:00.000Z' }));
  // Failed before planning: no trials block, no trials at all.
  const { trials: _t, best: _b, ...unplanned } = sweepRecord({ sweepId: 'fail-3', state: 'failed', error: 'dataset.uri: s3://x/y.csv does not exist', submittedAt: '2026-01-15T00:00:00.000Z' });
  await store.putJson(layout.sweepJson('fail-3'), unplanned);
  // A folder without sweep.json (a submission cut short).
  await store.put(layout.specYaml('half-4'), 'name: x\n', 'text/yaml');
});

afterAll(async () => {
  store?.client.destroy();
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the sweep index', () => {
  it('lists every sweep folder once, newest first, with its report when one exists, and names folders it skipped', async () => {
    expect(await store.listFolders('sweeps/')).toEqual(['done-1', 'fail-3', 'half-4', 'run-2']);
    const ix = await collectSweepIndex(store, { now: new Date('2026-02-03T00:00:00Z') });
    expect(ix.sweeps.map((s) => [s.sweepId, s.state, s.report])).toEqual([
      ['run-2', 'running', null],
      ['done-1', 'completed', 'done-1/report.html'],
      ['fail-3', 'failed', null],
    ]);
    expect(ix.skipped).toEqual(['half-4']);
    expect(ix.sweeps[1]).toMatchObject({ name: 'lr <search>', best: { trialId: 't0002', value: 0.964123 }, trials: { total: 20, completed: 12 }, finishedAt: '2026-02-01T11:30:00.000Z' });
    expect(ix.sweeps[2]).toMatchObject({ trials: null, error: 'dataset.uri: s3://x/y.csv does not exist' });
  });

  it('renders one escaped, self-contained page and writes it to sweeps/index.html', async () => {
    const ix = await collectSweepIndex(store);
    const html = renderSweepIndex(ix);
    expect(html).toContain('lr &lt;search&gt;');
    expect(html).not.toContain('lr <search>');
    expect(html).toContain('<a href="done-1/report.html">done-1</a>');
    expect(html).toContain('>0.9641<');
    expect(html).toContain('>18/20<');
    expect(html).toMatch(/Content-Security-Policy" content="default-src 'none'; script-src 'nonce-/);
    expect(html).not.toMatch(/<script(?![^>]*nonce=)/);
    const w = await writeSweepIndex(store);
    expect(w).toMatchObject({ key: 'sweeps/index.html', sweeps: 3 });
    expect(await store.getText('sweeps/index.html')).toContain('<a href="done-1/report.html">');
    // The index is not mistaken for a sweep folder.
    expect((await collectSweepIndex(store)).sweeps).toHaveLength(3);
  });

  it('formats metrics with 4 significant digits', () => {
    expect([0.964123, 0.99347, 1, 12.3456, 0.000012346, null].map(formatMetric)).toEqual(['0.9641', '0.9935', '1', '12.35', '1.235e-5', '-']);
  });

  it("a sweep that failed before planning lists no trials in its report, and says why", async () => {
    const d = await collectReportData(store, 'fail-3', { cache: false, final: true });
    expect(d.trials).toEqual([]);
    const html = renderReport(d);
    expect(html).toContain('none: the sweep failed before its trials were planned');
    expect(html).not.toMatch(/<td>\d+ known<\/td>/);
  });
});
