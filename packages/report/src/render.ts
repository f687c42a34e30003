import { createHash } from 'node:crypto';
import { chartLibrary } from './chart-library.js';
import { browserScript } from './browser-script.js';
import { REPORT_CSS } from './report-css.js';
import type { ReportData } from './report-data.js';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape text for HTML element content and quoted attribute values. */
export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/**
 * JSON that is safe inside `<script type="application/json">`: `<`, `>` and `&` become `\u003c`-style escapes (so no
 * `</script>` or `<!--` can appear), as do U+2028/U+2029. `JSON.parse` of the element's text gives the value back.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * The start of every sweepq page, through `</head>`: UTF-8, the viewport, a title, inline styles, and a
 * Content-Security-Policy under which nothing may load and only scripts carrying `nonce` run (inline styles and
 * `data:`/`blob:` images, for chart exports, are allowed).
 */
export function pageHead(opts: { nonce: string; title: string; css: string; generator?: string }): string {
  const csp = ["default-src 'none'", `script-src 'nonce-${opts.nonce}'`, "style-src 'unsafe-inline'", 'img-src data: blob:', "base-uri 'none'", "form-action 'none'"].join('; ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
${opts.generator ? `<meta name="generator" content="${escapeHtml(opts.generator)}">\n` : ''}<title>${escapeHtml(opts.title)}</title>
<style>${opts.css}</style>
</head>`;
}

const fmtNum = (v: number | null | undefined, digits = 4): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '–' : Number.isInteger(v) ? String(v) : v.toFixed(digits);

function duration(from?: string, to?: string): string {
  if (!from) return '–';
  const ms = Date.parse(to ?? '') - Date.parse(from);
  if (!Number.isFinite(ms) || ms < 0) return '–';
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
}

function summaryHtml(d: ReportData): string {
  const s = d.sweep;
  const t = s.trials;
  const ds = s.dataset;
  const backends = [...new Set(d.trials.map((x) => x.backend).filter((b): b is string => !!b && b !== 'unknown'))];
  const fixed = d.parameters.filter((p) => !p.varying).map((p) => `${p.name}=${String(d.trials[0]?.params[p.name as keyof ReportData['trials'][number]['params']] ?? '–')}`);
  const rows: [string, string][] = [
    ['State', `${s.state}${s.error ? `: ${s.error}` : ''}`],
    ['Method', `${s.method ?? '–'}; ${d.pareto ? `objectives ${d.pareto.objectives.map((o) => `${o.name} (${o.goal})`).join(', ')}` : `metric ${d.metric.name} (${d.metric.goal})`}`],
    [
      'Trials',
      t
        ? `${t.total} total: ${t.completed} completed, ${t.stopped ?? 0} stopped early, ${t.running} running, ${t.queued} queued, ${t.failed} failed, ${t.cancelled} cancelled`
        : d.trials.length > 0
          ? `${d.trials.length} found in the bucket`
          : s.state === 'failed' || s.state === 'cancelled'
            ? `none: the sweep ${s.state === 'failed' ? 'failed' : 'was cancelled'} before its trials were planned`
            : 'not planned yet',
    ],
    ['Best', d.best ? `${d.best.trialId}: ${d.metric.name} = ${fmtNum(d.best.metric)}` : 'none yet'],
    ...(d.pareto ? [['Pareto front', `${d.pareto.size} trial${d.pareto.size === 1 ? '' : 's'}`] as [string, string]] : []),
    [
      'Dataset',
      ds
        ? `${ds.uri}: ${ds.rows} rows, classes ${ds.classes.join(', ')}; train/validation/test ${ds.sizes.train}/${ds.sizes.validation}/${ds.sizes.test}; vocabulary ${ds.vocabulary}; majority-class rate ${(ds.majorityRate * 100).toFixed(1)}%`
        : '–',
    ],
    ['Backend', backends.length ? backends.join(', ') : '–'],
    ['Submitted', s.submittedAt ?? '–'],
    ['Ran', s.startedAt ? `${s.startedAt} → ${s.finishedAt ?? 'still running'} (${duration(s.startedAt, s.finishedAt ?? d.generatedAt)})` : '–'],
    ['Fixed parameters', fixed.length ? fixed.join(', ') : 'none'],
  ];
  return rows.map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('\n');
}

/** The Pareto plot's place (several objectives only): axis pickers for three or four objectives, filled by the script. */
function paretoSection(): string {
  return `<section id="pareto-section"><h2>Pareto front</h2>
<p class="hint" id="pareto-note"></p>
<div class="controls" id="pareto-axes" hidden><label>x axis <select id="pareto-x"></select></label> <label>y axis <select id="pareto-y"></select></label></div>
<div id="chart-pareto" class="chart tall" tabindex="0" aria-label="Pareto plot of the trials; the arrow keys step along the front" aria-describedby="pareto-note"></div></section>
`;
}

/**
 * The whole report as one self-contained HTML page: ECharts and the page script inlined, the data embedded as
 * escaped JSON, nothing fetched (a Content-Security-Policy with `default-src 'none'` and a per-page script nonce
 * enforces both, so text injected through the spec or the data can neither run nor load anything). Pure: the
 * same data gives the same page.
 */
export function renderReport(data: ReportData): string {
  const lib = chartLibrary();
  const json = jsonForScript(data);
  const nonce = createHash('sha256').update(json).update(lib.version).digest('base64url').slice(0, 24);
  const title = `sweepq report: ${data.sweep.name ?? data.sweepId}`;
  const banner = data.final
    ? `Final report, written ${data.generatedAt}.`
    : `Snapshot of a running sweep at ${data.generatedAt}; the bucket copy is refreshed as trials finish.`;
  return `${pageHead({ nonce, title, css: REPORT_CSS, generator: `sweepq report; ECharts ${lib.version}` })}
<body data-final="${data.final ? 'true' : 'false'}">
<header>
<h1>${escapeHtml(data.sweep.name ?? data.sweepId)}</h1>
<p class="sub"><code>${escapeHtml(data.sweepId)}</code> · <span class="state state-${escapeHtml(data.sweep.state)}">${escapeHtml(data.sweep.state)}</span> · ${escapeHtml(banner)}
${data.final ? '' : '<label class="reload"><input type="checkbox" id="auto-reload"> reload every 30 s</label>'}</p>
</header>
<main>
<section id="summary"><h2>Sweep</h2><table class="kv">${summaryHtml(data)}</table>
<details id="spec"><summary>Spec (spec.yaml as submitted)</summary><pre id="spec-text">${escapeHtml(data.specText ?? '(spec.yaml not found)')}</pre></details>
</section>
<section id="leaderboard"><h2>Leaderboard</h2>
<div class="controls">
<input id="lb-filter" type="search" placeholder="filter: text, or lstm_units=32, learning_rate<0.01, state=failed" aria-label="filter the leaderboard" aria-describedby="lb-filter-error">
<select id="lb-state" aria-label="state"><option value="">all states</option></select>
<select id="lb-size" aria-label="rows per page"><option>25</option><option selected>50</option><option>100</option><option>250</option><option value="0">all</option></select>
<span id="lb-count"></span>
<span class="pager"><button id="lb-prev" type="button">‹ prev</button> <span id="lb-page"></span> <button id="lb-next" type="button">next ›</button></span>
<details class="cols"><summary>more columns</summary><div id="lb-cols"></div></details>
</div>
<p id="lb-filter-error" class="filter-error" role="alert" hidden></p>
<div class="table-wrap"><table id="lb-table"><thead></thead><tbody></tbody></table></div>
<p class="hint">Click a column to sort (again to reverse). Tick trials to add their learning curves below.</p>
</section>
${data.pareto ? paretoSection() : ''}<section id="analysis-section"><h2>Which parameters matter, and how the search went</h2>
<div class="grid2"><div><h3>Parameter importance</h3><p class="hint" id="importance-note"></p><div id="chart-importance" class="chart short"></div></div>
<div><h3>Optimization history</h3><div id="chart-history-index" class="chart short"></div></div></div>
<div class="grid2"><div></div><div><div id="chart-history-time" class="chart short"></div></div></div>
</section>
<section id="parallel-section"><h2>Parameters against ${escapeHtml(data.metric.name)}</h2><div id="chart-parallel" class="chart tall"></div></section>
<section id="intermediate-section"><h2>${escapeHtml(data.metric.name)} per epoch, all trials</h2>
<p class="hint" id="intermediate-note"></p><div id="chart-intermediate" class="chart"></div></section>
<section id="curves-section"><h2>Learning curves</h2>
<p class="hint" id="curves-note"></p>
<div class="grid2"><div id="chart-loss" class="chart"></div><div id="chart-accuracy" class="chart"></div></div>
</section>
<section id="scatter-section"><h2>${escapeHtml(data.metric.name)} against each parameter</h2><div id="scatter-grid" class="grid3"></div></section>
<section id="timeline-section"><h2>Trials per worker over time</h2>
<p class="hint" id="timeline-note"></p>
<p class="hint legend-row"><span class="key k-first"></span> first attempt <span class="key k-resume"></span> resumed from a checkpoint (hand-off) <span class="key k-retry"></span> retried from scratch <span class="key k-failed"></span> failed · a gap in a lane is an idle worker</p>
<div id="chart-timeline" class="chart"></div></section>
<section id="best-section"><h2>Best trial on held-out data</h2>
<p id="best-note"></p>
<div class="grid2"><div id="chart-confusion" class="chart"></div><div><table id="per-class"><thead></thead><tbody></tbody></table><div id="chart-per-class" class="chart short"></div><p class="hint" id="per-class-note"></p></div></div>
</section>
</main>
<footer>Generated by sweepq at ${escapeHtml(data.generatedAt)}. Charts: Apache ECharts ${escapeHtml(lib.version)} (inlined). Works offline.</footer>
<script type="application/json" id="sweepq-data">${json}</script>
<script nonce="${nonce}">${lib.source}</script>
<script nonce="${nonce}">${browserScript('report-page')}</script>
</body>
</html>
`;
}
