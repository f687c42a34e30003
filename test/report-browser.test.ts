import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReportData, renderReport, renderSweepIndex, type ReportData, type SweepIndex, type SweepIndexEntry } from '@sweepq/report';
import type { SweepRecord } from '@sweepq/results';
import type { MetricSpec } from '@sweepq/sweep-config';
import { sweepRecord, syntheticSweep } from '../packages/report/test/fixtures.js';
import { launchChromium, openPage } from './helpers/report-page.js';

/**
 * The report's plots and the sweep index in headless Chromium at a desktop (1400 px) and a phone (390 px) width:
 * every plot is drawn from the data, no text sits on a legend or a colour scale (checked on ECharts' own layout),
 * the page never scrolls sideways, the leaderboard of a 5-parameter sweep fits at 1400 px, the filter names an
 * unknown column, and nothing is fetched. With several objectives the Pareto plot shows the front apart from the
 * rest, joined by a step line, and a trial on hover and on keyboard focus. Screenshots go to test-artifacts/.
 */

const ARTIFACTS = join(import.meta.dirname, '..', 'test-artifacts');
const WIDTHS = [1400, 390] as const;

let browser: Browser;
let data: ReportData;
const files = { report: '', failed: '', index: '', pareto2: '', pareto3: '' };
const mo: Record<2 | 3, ReportData> = {} as Record<2 | 3, ReportData>;
const OBJECTIVES: MetricSpec[] = [
  { name: 'val_accuracy', goal: 'maximize' },
  { name: 'model_bytes', goal: 'minimize' },
  { name: 'latency_ms', goal: 'minimize' },
];

/** A 120-trial sweep with two or three objectives (no early termination: a rung ranks by one metric only). */
function multiObjective(k: 2 | 3): ReportData {
  const s = syntheticSweep({ trials: 120, epochs: 10, earlyTerminate: false, objectives: OBJECTIVES.slice(0, k) });
  return buildReportData({ ...s, final: true });
}

function synthetic(): ReportData {
  const s = syntheticSweep({ trials: 200, epochs: 20 });
  // The best trial's precision and recall differ in the second decimal: the bars must show it.
  const best = buildReportData({ ...s, final: true }).best!.trialId;
  const r = s.results.find((x) => x.trialId === best)!;
  r.evaluation = {
    split: 'test',
    classes: ['ham', 'spam'],
    confusion: [
      [560, 4],
      [21, 415],
    ],
    accuracy: 0.975,
    perClass: [
      { label: 'ham', precision: 0.964, recall: 0.993, f1: 0.978, support: 564 },
      { label: 'spam', precision: 0.99, recall: 0.952, f1: 0.971, support: 436 },
    ],
    samples: [],
  };
  // A `sweepq retry` run, drawn on the timeline.
  s.sweep.retries = [{ at: new Date(Date.parse(s.sweep.startedAt!) + 150_000).toISOString(), trials: ['t0030'] }];
  return buildReportData({ ...s, final: true });
}

function indexOf(n: number): SweepIndex {
  const states = ['completed', 'completed', 'running', 'failed', 'cancelled'] as const;
  const sweeps: SweepIndexEntry[] = Array.from({ length: n }, (_, i) => ({
    sweepId: `sweep-${String(i).padStart(4, '0')}`,
    name: i === 3 ? 'a very long sweep name that must wrap instead of widening the page on a phone screen' : `search ${i}`,
    state: states[i % 5]!,
    method: 'random',
    metric: { name: 'val_accuracy', goal: 'maximize' },
    best: i % 5 === 3 ? null : { trialId: 't0001', value: 0.9 + (i % 97) / 1000 },
    trials: { total: 20, completed: 12 + (i % 7), stopped: 1, failed: 0, cancelled: 0, running: 0, queued: 0 },
    submittedAt: new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString(),
    startedAt: null,
    finishedAt: i % 5 === 2 ? null : new Date(Date.UTC(2026, 0, 1) + i * 3_600_000 + 1_800_000).toISOString(),
    updatedAt: new Date(Date.UTC(2026, 0, 1)).toISOString(),
    error: i % 5 === 3 ? 'dataset.uri: s3://bucket/missing.csv does not exist' : null,
    report: i % 5 === 3 ? null : `sweep-${String(i).padStart(4, '0')}/report.html`,
  }));
  return { format: 'sweepq-index/1', generatedAt: '2026-02-01T00:00:00.000Z', sweeps: sweeps.reverse(), skipped: [] };
}

const open = (file: string, width: number, until: 'drawn' | 'ready' = 'drawn', cjkFont = false) => openPage(browser, file, width, until, { cjkFont });

/** Page wider than the window? (What a phone shows as sideways scrolling of the whole page.) */
const overflowX = (page: Page) =>
  page.evaluate(() => {
    const g = globalThis as unknown as { document: { documentElement: { scrollWidth: number } }; innerWidth: number };
    return g.document.documentElement.scrollWidth - g.innerWidth;
  });

interface ChartCheck {
  texts: number;
  /** Texts outside the legend (or colour scale) that overlap its box. */
  onLegend: string[];
  onScale: string[];
  /** Pairs of texts outside legends that overlap each other. */
  pairs: string[];
  series: { type: string; n: number; gaps: number; color?: string }[];
  option: Record<string, unknown>;
}

/**
 * Layout of one chart as ECharts drew it (zrender's display list): the box of every visible text, and the boxes of
 * the legend and colour-scale (visualMap) components.
 */
async function inspectChart(page: Page, selector: string): Promise<ChartCheck> {
  return page.$eval(selector, (node) => {
    type Rect = { x: number; y: number; width: number; height: number };
    type El = {
      type: string;
      parent?: El;
      ignore?: boolean;
      invisible?: boolean;
      style: { text?: string; font?: string };
      getBoundingRect(): Rect & { clone(): Rect & { applyTransform(m: unknown): void } };
      getComputedTransform(): unknown;
    };
    type Chart = {
      getZr(): { storage: { getDisplayList(update: boolean): El[] } };
      getModel(): { getComponent(type: string): unknown };
      getViewOfComponentModel(m: unknown): { group: El };
      getOption(): Record<string, unknown> & { series: { type: string; data?: unknown[]; color?: string }[] };
    };
    const ec = (globalThis as unknown as { echarts: { getInstanceByDom(n: unknown): Chart | undefined } }).echarts;
    const c = ec.getInstanceByDom(node);
    if (!c) throw new Error('no chart in this element');
    const rect = (el: El): Rect => {
      const r = el.getBoundingRect().clone();
      const m = el.getComputedTransform();
      if (m) r.applyTransform(m);
      return { x: r.x, y: r.y, width: r.width, height: r.height };
    };
    // A text span's own rect is its baseline box; its parent text element's rect is the laid-out block.
    const texts = c
      .getZr()
      .storage.getDisplayList(true)
      .filter((e) => e.type === 'tspan' && !e.ignore && !e.invisible && !e.parent?.ignore && e.style.text)
      .map((e) => ({ text: String(e.style.text), ...rect(e.parent?.type === 'text' ? e.parent : e) }));
    const component = (type: string) => {
      const m = c.getModel().getComponent(type);
      return m ? rect(c.getViewOfComponentModel(m).group) : null;
    };
    const overlap = (a: Rect, b: Rect) =>
      Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x) > 0.5 && Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y) > 0.5;
    const inside = (a: Rect, b: Rect) => a.x >= b.x - 0.5 && a.x + a.width <= b.x + b.width + 0.5 && a.y >= b.y - 0.5 && a.y + a.height <= b.y + b.height + 0.5;
    const legend = component('legend');
    const scale = component('visualMap');
    const outside = texts.filter((t) => !(legend && inside(t, legend)) && !(scale && inside(t, scale)));
    const pairs: string[] = [];
    for (let i = 0; i < outside.length; i++) {
      for (let j = i + 1; j < outside.length; j++) if (overlap(outside[i]!, outside[j]!)) pairs.push(`${outside[i]!.text} / ${outside[j]!.text}`);
    }
    const opt = c.getOption();
    return {
      texts: texts.length,
      onLegend: legend ? outside.filter((t) => overlap(t, legend)).map((t) => t.text) : [],
      onScale: scale ? outside.filter((t) => overlap(t, scale)).map((t) => t.text) : [],
      pairs,
      series: opt.series.map((s) => ({
        type: s.type,
        n: Array.isArray(s.data) ? s.data.length : 0,
        // Points with no value: where one trial's line ends and the next begins.
        gaps: Array.isArray(s.data) ? s.data.filter((d) => Array.isArray(d) && d[1] === null).length : 0,
        ...(typeof s.color === 'string' ? { color: s.color } : {}),
      })),
      option: JSON.parse(JSON.stringify(opt, (k, v: unknown) => (k === 'data' && Array.isArray(v) && v.length > 50 ? v.length : v))) as Record<string, unknown>,
    };
  });
}

function hue(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16) / 255) as [number, number, number];
  const max = Math.max(r, g, b);
  const d = max - Math.min(r, g, b);
  if (d === 0) return -1;
  const h = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
  return (h * 60 + 360) % 360;
}

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  data = synthetic();
  files.report = join(ARTIFACTS, 'report-browser-synthetic.html');
  await writeFile(files.report, renderReport(data));
  const { trials: _t, best: _b, ...unplanned } = sweepRecord({ sweepId: 'failed-early', state: 'failed', error: 'dataset.uri: s3://bucket/missing.csv does not exist' });
  files.failed = join(ARTIFACTS, 'report-browser-failed.html');
  await writeFile(files.failed, renderReport(buildReportData({ sweep: unplanned as SweepRecord, results: [], metrics: new Map(), final: true })));
  files.index = join(ARTIFACTS, 'report-browser-index.html');
  await writeFile(files.index, renderSweepIndex(indexOf(120)));
  for (const k of [2, 3] as const) {
    mo[k] = multiObjective(k);
    files[`pareto${k}`] = join(ARTIFACTS, `report-browser-pareto${k}.html`);
    await writeFile(files[`pareto${k}`], renderReport(mo[k]));
  }
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

const CHARTS = [
  '#chart-importance',
  '#chart-history-index',
  '#chart-history-time',
  '#chart-parallel',
  '#chart-intermediate',
  '#chart-loss',
  '#chart-accuracy',
  '#chart-timeline',
  '#chart-confusion',
  '#chart-per-class',
  '#scatter-grid [data-param="learning_rate"]',
  '#scatter-grid [data-param="optimizer"]',
];

describe.each(WIDTHS)('the report at %i px', (width) => {
  it('draws every plot from the data, with no text on a legend or colour scale and no overlapping labels', async () => {
    const { page, problems } = await open(files.report, width);
    try {
      expect(await overflowX(page), 'the page scrolls sideways').toBeLessThanOrEqual(0);
      const ranked = data.trials.filter((t) => t.rank !== null).length;
      const stopped = data.trials.filter((t) => t.state === 'stopped').length;
      for (const sel of CHARTS) {
        const c = await inspectChart(page, sel);
        expect(c.onLegend, `${sel}: texts on the legend`).toEqual([]);
        expect(c.onScale, `${sel}: texts on the colour scale`).toEqual([]);
        expect(c.pairs, `${sel}: overlapping texts`).toEqual([]);
        expect(c.texts, `${sel}: texts drawn`).toBeGreaterThan(3);

        if (sel === '#chart-importance') {
          expect(c.series[0]!.n).toBe(5);
          const y = (c.option.yAxis as { data: string[] }[])[0]!.data;
          expect(y.at(-1), 'most important parameter (drawn at the top)').toBe('learning_rate');
        }
        if (sel === '#chart-history-index' || sel === '#chart-history-time') {
          // Every ranked trial a point; the best-so-far line steps at each improvement and ends at the best.
          expect(c.series.map((s) => s.type)).toEqual(['scatter', 'line']);
          expect(c.series[0]!.n).toBe(ranked);
          const steps = new Set((sel.endsWith('index') ? data.analysis.history.byIndex : data.analysis.history.byTime).map((r) => r[2])).size;
          expect(c.series[1]!.n).toBeGreaterThanOrEqual(steps);
          expect(c.series[1]!.n).toBeLessThanOrEqual(steps + 1);
        }
        if (sel === '#chart-intermediate') {
          // One line per trial, in the series of its state; an × where each stopped trial stopped.
          const [done, stop, , marks] = c.series;
          expect(done!.gaps + stop!.gaps).toBe(data.trials.filter((t) => t.curve.epoch.length > 0).length);
          expect(stop!.gaps).toBe(stopped);
          expect(marks!.n).toBe(stopped);
          const rungs = ((c.option.series as { markLine?: { data: { xAxis: number }[] } }[])[3]!.markLine!.data ?? []).map((d) => d.xAxis);
          expect(rungs).toEqual([1, 3, 9]);
        }
        if (sel === '#chart-timeline') {
          expect(c.series[0]!.n).toBe(data.analysis.timeline.segments.length);
          expect((c.option.yAxis as { data: string[] }[])[0]!.data).toEqual(data.analysis.timeline.workers);
          expect(data.analysis.timeline.segments.some((s) => s.outcome === 'handed-off')).toBe(true);
          expect((c.option.series as { markLine: { data: unknown[] } }[])[0]!.markLine.data).toHaveLength(1);
        }
        if (sel === '#chart-loss') {
          // Trial colours stay clear of the metric scale's red, yellow and green.
          for (const s of c.series) {
            const h = hue(s.color!);
            expect(h < 0 || (h > 185 && h < 345) || (h > 20 && h < 40), `${s.color} (hue ${h.toFixed(0)}) looks like the metric scale`).toBe(true);
          }
        }
        if (sel === '#chart-per-class') {
          const y = (c.option.yAxis as { min: number }[])[0]!;
          expect(y.min, '0.964 and 0.993 must not share a 0-1 axis').toBeGreaterThan(0.5);
          expect(c.series.map((s) => s.n)).toEqual([2, 2, 2]);
        }
        if (sel.includes('optimizer')) {
          expect((c.option.xAxis as { jitter: number }[])[0]!.jitter, 'categorical points are jittered').toBeGreaterThan(0);
        }
      }
      expect(await page.locator('#pareto-section').count(), 'a single-metric sweep has no Pareto plot').toBe(0);
      await page.screenshot({ path: join(ARTIFACTS, `report-browser-${width}.png`), fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  }, 60_000);

  it('keeps every text off legends, colour scales and other texts with a CJK font installed (1-em line height)', async () => {
    const { page, problems } = await open(files.report, width, 'drawn', true);
    try {
      const glyph = await page.evaluate(() => {
        type Ctx = { font: string; measureText(t: string): { width: number } };
        const doc = (globalThis as unknown as { document: { createElement(t: 'canvas'): { getContext(k: '2d'): Ctx } } }).document;
        const ctx = doc.createElement('canvas').getContext('2d');
        ctx.font = '12px sans-serif';
        return ctx.measureText('国').width;
      });
      expect(glyph, 'a CJK glyph measured 1 em wide').toBe(12);
      for (const sel of CHARTS) {
        const c = await inspectChart(page, sel);
        expect(c.onLegend, `${sel}: texts on the legend`).toEqual([]);
        expect(c.onScale, `${sel}: texts on the colour scale`).toEqual([]);
        expect(c.pairs, `${sel}: overlapping texts`).toEqual([]);
      }
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  }, 60_000);

  it('leaderboard: fits at desktop width, and the filter names an unknown column instead of showing 0 rows', async () => {
    const { page, problems } = await open(files.report, width);
    try {
      const wrap = await page.$eval('#leaderboard .table-wrap', (n) => ({ scroll: n.scrollWidth, client: n.clientWidth }));
      if (width === 1400) expect(wrap.scroll, 'the leaderboard of a 5-parameter sweep scrolls sideways at 1400 px').toBeLessThanOrEqual(wrap.client);
      const box = await page.$eval('#lb-filter', (n) => n.getBoundingClientRect().right);
      expect(box).toBeLessThanOrEqual(width);
      expect(await page.isHidden('#lb-filter-error')).toBe(true);

      await page.fill('#lb-filter', 'lstm_unit=32');
      await expect.poll(() => page.isVisible('#lb-filter-error')).toBe(true);
      const err = await page.textContent('#lb-filter-error');
      expect(err).toContain('unknown column "lstm_unit"');
      expect(err).toContain('did you mean lstm_units?');
      expect(await page.getAttribute('#lb-filter', 'aria-invalid')).toBe('true');
      expect(await page.textContent('#lb-count')).toBe(`${data.trials.length} of ${data.trials.length} trials`);
      expect(await overflowX(page), 'the error text widens the page').toBeLessThanOrEqual(0);

      await page.fill('#lb-filter', 'learning_rate<fast');
      await expect.poll(() => page.textContent('#lb-filter-error')).toContain('learning_rate is a number column; expected a number after <, got "fast"');

      const n16 = data.trials.filter((t) => t.params.lstm_units === 16).length;
      await page.fill('#lb-filter', 'lstm_units=16');
      await expect.poll(() => page.textContent('#lb-count')).toBe(`${n16} of ${data.trials.length} trials`);
      expect(await page.isHidden('#lb-filter-error')).toBe(true);
      expect(await page.getAttribute('#lb-filter', 'aria-invalid')).toBeNull();

      // A hidden column can be shown, and is then part of the table.
      await page.click('details.cols summary');
      await page.check('#lb-cols input[data-col="worker"]');
      expect(await page.$$eval('#lb-table thead th', (ths) => ths.map((t) => t.getAttribute('data-key')))).toContain('worker');
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  }, 60_000);

  it('a sweep that failed before planning shows no trials and says why', async () => {
    const { page, problems } = await open(files.failed, width);
    try {
      expect(await page.locator('#lb-table tbody tr').count()).toBe(0);
      const summary = await page.textContent('#summary table');
      expect(summary).toContain('none: the sweep failed before its trials were planned');
      expect(summary).not.toMatch(/\bknown\b/);
      expect(summary).not.toContain('t0000');
      expect(await overflowX(page)).toBeLessThanOrEqual(0);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  }, 60_000);

  it('the sweep index lists, links, sorts and filters every sweep', async () => {
    const { page, problems } = await open(files.index, width, 'ready');
    try {
      const rows = page.locator('#ix-table tbody tr:not([hidden])');
      expect(await rows.count()).toBe(120);
      expect(await page.textContent('#ix-count')).toBe('120 of 120 sweeps');
      expect(await page.getAttribute('#ix-table tbody tr:first-child a', 'href')).toBe('sweep-0119/report.html');
      expect(await page.locator('tr[data-id="sweep-0003"] a').count(), 'no link without a report').toBe(0);
      await page.click('#ix-table thead th[data-key="best"]');
      const best = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-best')).filter((v) => v !== ''));
      expect(best.map(Number)).toEqual([...best.map(Number)].sort((a, b) => b - a));
      await page.selectOption('#ix-state', 'failed');
      expect(await rows.count()).toBe(24);
      await page.fill('#ix-filter', 'sweep-0003');
      await expect.poll(() => rows.count()).toBe(1);
      expect(await overflowX(page), 'the index scrolls sideways').toBeLessThanOrEqual(0);
      await page.screenshot({ path: join(ARTIFACTS, `report-browser-index-${width}.png`), fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  }, 60_000);
});

/** The Pareto plot's tooltip text, or '' while none shows (ECharts hides it with display, visibility or opacity). */
const paretoTip = (page: Page) =>
  page.$$eval('#chart-pareto .pareto-tip', (ns) =>
    ns
      .map((n) => {
        const st = (globalThis as unknown as { getComputedStyle(e: unknown): { display: string; visibility: string; opacity: string } }).getComputedStyle(n);
        return st.display === 'none' || st.visibility === 'hidden' || Number(st.opacity) === 0 ? '' : (n.textContent ?? '');
      })
      .join(''),
  );

/** Where a point of the Pareto plot's series is drawn, in the window's coordinates, and its trial. */
async function paretoPoint(page: Page, seriesIndex: number, dataIndex: number): Promise<{ x: number; y: number; id: string }> {
  await page.locator('#chart-pareto').scrollIntoViewIfNeeded();
  return page.$eval(
    '#chart-pareto',
    (node, [s, i]) => {
      type Chart = {
        getOption(): { series: { data: { value: [number, number, string] }[] }[] };
        convertToPixel(finder: { seriesIndex: number }, value: [number, number]): [number, number];
      };
      const c = (globalThis as unknown as { echarts: { getInstanceByDom(n: unknown): Chart } }).echarts.getInstanceByDom(node);
      const v = c.getOption().series[s]!.data[i]!.value;
      const [px, py] = c.convertToPixel({ seriesIndex: s }, [v[0], v[1]]);
      const r = node.getBoundingClientRect();
      return { x: r.left + px, y: r.top + py, id: v[2] };
    },
    [seriesIndex, dataIndex] as const,
  );
}

describe.each(WIDTHS)('the Pareto plot at %i px', (width) => {
  it('draws every trial on two objectives, the front apart and joined by a step line, no text on another (with and without a CJK font)', async () => {
    for (const [k, cjk] of [[2, false], [3, false], [2, true], [3, true]] as const) {
      const d = mo[k];
      const { page, problems } = await open(files[`pareto${k}`], width, 'drawn', cjk);
      try {
        const c = await inspectChart(page, '#chart-pareto');
        expect(c.onLegend, `${k} objectives: texts on the legend`).toEqual([]);
        expect(c.pairs, `${k} objectives: overlapping texts`).toEqual([]);
        expect(c.texts).toBeGreaterThan(3);
        expect(await overflowX(page), 'the page scrolls sideways').toBeLessThanOrEqual(0);
        if (cjk) continue;
        // Every trial with both values is a point; the front's are their own series, in their own colour (clear of
        // the metric scale's red and green), bigger and drawn on top.
        const shown = d.trials.filter((t) => t.objectives?.[0] != null && t.objectives[1] != null);
        const front = shown.filter((t) => t.front === 0);
        expect(front).toHaveLength(d.pareto!.size);
        expect(c.series.map((s) => [s.type, s.n])).toEqual([
          ['scatter', shown.length - front.length],
          ['line', d.pareto!.pairs[0]!.front.length],
          ['scatter', front.length],
        ]);
        type S = { color: string; symbolSize: number; z: number; step: string; data: [number, number, string][] | number };
        const [rest, line, top] = c.option.series as [S, S, S];
        expect(top.color).not.toBe(rest.color);
        const h = hue(top.color);
        expect(h > 185 && h < 345, `front colour ${top.color} looks like the metric scale`).toBe(true);
        expect(top.symbolSize).toBeGreaterThan(rest.symbolSize);
        expect(top.z).toBeGreaterThan(rest.z);
        // The step line: the front of the two objectives shown, in x order, level first (model_bytes is minimized).
        expect(line.step).toBe('end');
        const pairIds = [...d.pareto!.pairs[0]!.front].sort();
        const lineData = line.data as [number, number, string][];
        expect(lineData.map((p) => p[2]).sort()).toEqual(pairIds);
        expect(lineData.map((p) => p[0])).toEqual([...lineData.map((p) => p[0])].sort((a, b) => a - b));
        if (k === 2) expect(pairIds).toEqual(front.map((t) => t.trialId).sort());
        // Model sizes spanning decades are on a log axis.
        expect((c.option.xAxis as { type: string; name: string }[])[0]).toMatchObject({ type: 'log', name: 'model_bytes (log)' });
        expect((c.option.yAxis as { type: string; name: string }[])[0]).toMatchObject({ type: 'value', name: 'val_accuracy' });
        expect(await page.isVisible('#pareto-axes'), 'axis pickers only with three objectives or more').toBe(k === 3);
        await page.locator('#pareto-section').screenshot({ path: join(ARTIFACTS, `report-browser-pareto${k}-${width}.png`) });
      } finally {
        await page.close();
      }
      expect(problems).toEqual([]);
    }
  }, 120_000);

  it('shows a trial on hover, on tap and from the keyboard; the leaderboard has its objectives and front', async () => {
    const d = mo[2];
    const byId = new Map(d.trials.map((t) => [t.trialId, t]));
    const { page, problems } = await open(files.pareto2, width);
    try {
      const p = await paretoPoint(page, 2, 1);
      await page.mouse.move(p.x, p.y);
      await expect.poll(() => paretoTip(page)).toContain(p.id);
      const tip = await paretoTip(page);
      const t = byId.get(p.id)!;
      expect(tip).toContain('on the Pareto front');
      expect(tip).toContain(`val_accuracy = ${Number(t.objectives![0]!.toPrecision(4))}`);
      expect(tip).toMatch(/model_bytes = [\d.]+ (kB|MB)/);
      expect(tip).toContain(`optimizer = ${String(t.params.optimizer)}`);
      expect(tip).toContain('learning_rate = ');
      await page.mouse.move(1, 1);

      // Keyboard: focus the plot and step along the front in the order of the x axis.
      const order = d.trials.filter((x) => x.front === 0).sort((a, b) => a.objectives![1]! - b.objectives![1]!).map((x) => x.trialId);
      await page.focus('#chart-pareto');
      await expect.poll(() => paretoTip(page)).toContain(order[0]!);
      await page.keyboard.press('ArrowRight');
      await expect.poll(() => paretoTip(page)).toContain(order[1]!);
      await page.keyboard.press('ArrowLeft');
      await page.keyboard.press('ArrowLeft');
      await expect.poll(() => paretoTip(page)).toContain(order.at(-1)!);

      // The leaderboard: a front column after the rank, the cost in its own column, the front's rows marked.
      const keys = await page.$$eval('#lb-table thead th', (ths) => ths.map((x) => x.getAttribute('data-key')));
      expect(keys.slice(1, 7)).toEqual(['rank', 'front', 'trial', 'state', 'val_accuracy', 'model_bytes']);
      const rows = await page.$$eval('#lb-table tbody tr', (trs) => trs.slice(0, 12).map((tr) => [tr.getAttribute('data-trial'), tr.className]));
      for (const [id, cls] of rows) expect(cls !== '', `${id}: row marked`).toBe(byId.get(id!)!.front === 0);
      const bytes = await page.textContent(`#lb-table tbody tr[data-trial="${d.trials[0]!.trialId}"] td:nth-child(7)`);
      expect(bytes).toMatch(/^[\d.]+ (kB|MB)$/);
      if (width === 1400) {
        const wrap = await page.$eval('#leaderboard .table-wrap', (n) => ({ scroll: n.scrollWidth, client: n.clientWidth }));
        expect(wrap.scroll, 'the leaderboard of a 6-parameter, 2-objective sweep scrolls sideways at 1400 px').toBeLessThanOrEqual(wrap.client);
      }
    } finally {
      await page.close();
    }
    expect(problems).toEqual([]);

    // A tap on a phone shows the trial too.
    const touch = await browser.newPage({ viewport: { width, height: 900 }, hasTouch: true });
    try {
      await touch.goto(pathToFileURL(files.pareto2).href);
      await touch.waitForSelector('body[data-drawn="true"]');
      const q = await paretoPoint(touch, 2, 0);
      await touch.touchscreen.tap(q.x, q.y);
      await expect.poll(() => paretoTip(touch)).toContain(q.id);
    } finally {
      await touch.close();
    }
  }, 120_000);

  it('with three objectives, the pickers choose the plotted pair and swap axes rather than plot one against itself', async () => {
    const d = mo[3];
    const { page, problems } = await open(files.pareto3, width);
    try {
      const axisNames = async () => {
        const c = await inspectChart(page, '#chart-pareto');
        expect(c.pairs, 'overlapping texts').toEqual([]);
        const o = c.option as { xAxis: { name: string }[]; yAxis: { name: string }[]; series: { step?: string; data: unknown[] | number }[] };
        return { x: o.xAxis[0]!.name, y: o.yAxis[0]!.name, step: o.series[1]!.step, line: o.series[1]!.data };
      };
      expect(await page.$$eval('#pareto-x option', (os) => os.map((o) => o.textContent))).toEqual(['val_accuracy', 'model_bytes', 'latency_ms']);
      await page.selectOption('#pareto-x', '2');
      let a = await axisNames();
      expect(a).toMatchObject({ x: 'latency_ms', y: 'val_accuracy', step: 'end' });
      expect(a.line).toHaveLength(d.pareto!.pairs.find((p) => p.a === 0 && p.b === 2)!.front.length);
      await page.selectOption('#pareto-y', '2');
      expect([await page.inputValue('#pareto-x'), await page.inputValue('#pareto-y')]).toEqual(['0', '2']);
      a = await axisNames();
      // val_accuracy is maximized: the step line goes up or down first.
      expect(a).toMatchObject({ x: 'val_accuracy', y: 'latency_ms', step: 'start' });
    } finally {
      await page.close();
    }
    expect(problems).toEqual([]);
  }, 60_000);
});
