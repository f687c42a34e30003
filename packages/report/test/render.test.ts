import { describe, expect, it } from 'vitest';
import type { TrialResult } from '@sweepq/results';
import { buildReportData, chartLibrary, escapeHtml, jsonForScript, renderReport, type ReportData } from '../src/index.js';
import { metricsJsonl, sweepRecord, trialResult } from './fixtures.js';

const ATTACK = `</script><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"><!-- \u2028 & "q" 'a'`;

/** The text of every `<script …>` element, with its opening tag. */
function scripts(html: string): { tag: string; body: string }[] {
  return [...html.matchAll(/(<script\b[^>]*>)([\s\S]*?)<\/script>/gi)].map((m) => ({ tag: m[1]!, body: m[2]! }));
}

function hostileData(): ReportData {
  const bad = trialResult(1, 0.8, {
    params: { ...trialResult(1, 0.8).params, optimizer: ATTACK as TrialResult['params']['optimizer'] },
  });
  const failed = trialResult(2, null, { error: ATTACK, reason: ATTACK });
  const best = trialResult(0, 0.9);
  best.evaluation!.classes = [ATTACK, 'spam'];
  best.evaluation!.perClass[0]!.label = ATTACK;
  return buildReportData({
    sweep: sweepRecord({ name: ATTACK, error: ATTACK }),
    specText: `name: "${ATTACK}"\n# ${ATTACK}\n`,
    results: [best, bad, failed],
    metrics: new Map([['t0000', metricsJsonl(2, 0.9)]]),
  });
}

describe('renderReport', () => {
  it('escapes untrusted text: nothing in the spec, params, errors or class names can close a script or add markup', () => {
    const data = hostileData();
    const html = renderReport(data);
    // Exactly the three scripts the page has: the data, ECharts and the page script.
    const s = scripts(html);
    expect(s.map((x) => x.tag.replace(/nonce="[^"]+"/, 'nonce'))).toEqual([
      '<script type="application/json" id="sweepq-data">',
      '<script nonce>',
      '<script nonce>',
    ]);
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('window.__pwned=1</script>');
    expect(html).not.toMatch(/<script>window/);
    // The attack is shown as text where it appears in the page itself.
    expect(html).toContain(escapeHtml(ATTACK));
    // The embedded data is the data, unchanged.
    const embedded = s[0]!.body;
    expect(embedded).not.toMatch(/[<>]/);
    expect(JSON.parse(embedded)).toEqual(JSON.parse(JSON.stringify(data)));
  });

  it('forbids network access and inline scripts without the page nonce (Content-Security-Policy)', () => {
    const html = renderReport(hostileData());
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? '';
    expect(csp).toContain("default-src 'none'");
    const nonce = /script-src 'nonce-([A-Za-z0-9_-]+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    for (const s of scripts(html).slice(1)) expect(s.tag).toBe(`<script nonce="${nonce}">`);
    // The CSP comes before any script.
    expect(html.indexOf('Content-Security-Policy')).toBeLessThan(html.indexOf('<script'));
    // No element of the page refers to anything outside the file.
    expect(html.replace(/(<script\b[^>]*>)[\s\S]*?<\/script>/gi, '$1</script>')).not.toMatch(/<(script|link|img|iframe)\b[^>]*\b(src|href)=/i);
  });

  it('is pure: the same data gives the same page', () => {
    const data = hostileData();
    expect(renderReport(data)).toBe(renderReport(structuredClone(data)));
  });

  it('inlines the chart library', () => {
    const html = renderReport(hostileData());
    const lib = chartLibrary();
    expect(lib.version).toMatch(/^6\./);
    expect(html).toContain(lib.source.slice(0, 2000));
  });

  it('stays small with 1,000 trials of 20 epochs', () => {
    const results: TrialResult[] = [];
    const metrics = new Map<string, string>();
    for (let i = 0; i < 1000; i++) {
      const v = i % 13 === 7 ? null : 0.6 + ((i * 7919) % 1000) / 3000;
      const r = trialResult(i, v);
      results.push(r);
      if (v !== null) metrics.set(r.trialId, metricsJsonl(20, v));
    }
    const data = buildReportData({ sweep: sweepRecord(), results, metrics, final: true });
    expect(data.trials).toHaveLength(1000);
    const html = renderReport(data);
    expect(html.length).toBeLessThan(5 * 1024 * 1024);
    const lib = chartLibrary().source.length;
    // Data and page: well under 3 KB per trial beyond the library.
    expect(html.length - lib).toBeLessThan(3000 * 1000);
  });
});

describe('jsonForScript', () => {
  it('round-trips and never contains <, > or raw line separators', () => {
    const v = { a: '</script><!--', b: 'x\u2028y\u2029z', c: '&amp;' };
    const s = jsonForScript(v);
    expect(s).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(s)).toEqual(v);
  });
});
