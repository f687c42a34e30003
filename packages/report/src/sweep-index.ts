import { createHash } from 'node:crypto';
import type { SweepRecord, SweepState } from '@sweepq/results';
import { SAFE_ID, layout, type ArtifactStore } from '@sweepq/storage';
import { browserScript } from './browser-script.js';
import { mapLimit } from './map-limit.js';
import { escapeHtml, jsonForScript, pageHead } from './render.js';

/** One sweep in the index: what `sweeps/<id>/sweep.json` says, and where its report is. */
export interface SweepIndexEntry {
  sweepId: string;
  name: string | null;
  state: SweepState;
  method: string | null;
  metric: { name: string; goal: 'maximize' | 'minimize' } | null;
  best: { trialId: string; value: number | null } | null;
  trials: NonNullable<SweepRecord['trials']> | null;
  submittedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
  error: string | null;
  /** The report's key relative to `sweeps/` (so `sweeps/index.html` links to it as is); null before one is written. */
  report: string | null;
}

/** Every sweep in the bucket, newest submission first. */
export interface SweepIndex {
  format: 'sweepq-index/1';
  generatedAt: string;
  sweeps: SweepIndexEntry[];
  /** Folders under `sweeps/` without a readable `sweep.json` (a submission cut short, or foreign files). */
  skipped: string[];
}

/** Options of {@link collectSweepIndex} and {@link writeSweepIndex}. */
export interface SweepIndexOptions {
  /** Parallel GETs against the bucket; default 16. */
  concurrency?: number;
  now?: Date;
}

/**
 * Read the index of every sweep from the bucket: one delimited listing of `sweeps/` finds the sweep folders, then
 * each `sweep.json` is read and its `report.html` looked up, {@link SweepIndexOptions.concurrency} at a time. The one
 * source of `sweeps/index.html` and of `sweepq list`.
 */
export async function collectSweepIndex(store: ArtifactStore, opts: SweepIndexOptions = {}): Promise<SweepIndex> {
  const folders = (await store.listFolders('sweeps/')).filter((id) => SAFE_ID.test(id));
  const skipped: string[] = [];
  const read = await mapLimit(folders, opts.concurrency ?? 16, async (id) => {
    const [rec, hasReport] = await Promise.all([
      store.getJson<SweepRecord>(layout.sweepJson(id)).catch(() => undefined),
      store.exists(layout.reportHtml(id)),
    ]);
    if (!rec || typeof rec !== 'object' || typeof rec.state !== 'string') {
      skipped.push(id);
      return undefined;
    }
    const entry: SweepIndexEntry = {
      sweepId: id,
      name: rec.name ?? null,
      state: rec.state,
      method: rec.method ?? null,
      metric: rec.metric ?? null,
      best: rec.best ?? null,
      trials: rec.trials ?? null,
      submittedAt: rec.submittedAt,
      startedAt: rec.startedAt ?? null,
      finishedAt: rec.finishedAt ?? null,
      updatedAt: rec.updatedAt,
      error: rec.error ?? null,
      report: hasReport ? `${id}/report.html` : null,
    };
    return entry;
  });
  const sweeps = read
    .filter((e): e is SweepIndexEntry => e !== undefined)
    .sort((a, b) => (b.submittedAt ?? '').localeCompare(a.submittedAt ?? '') || a.sweepId.localeCompare(b.sweepId));
  return { format: 'sweepq-index/1', generatedAt: (opts.now ?? new Date()).toISOString(), sweeps, skipped: skipped.sort() };
}

/** A metric value with 4 significant digits (`0.9641`, `1.235e-5`), or `-` for none: the index's and the CLI's format. */
export function formatMetric(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-';
  const a = Math.abs(value);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? value.toExponential(3) : String(Number(value.toPrecision(4)));
}

/** Trial counts in one cell: `12/20` (finished of total; stopped early count as finished), or `-` before planning. */
export function formatTrialCounts(t: SweepIndexEntry['trials']): string {
  if (!t) return '-';
  return `${t.completed + (t.stopped ?? 0)}/${t.total}`;
}

/** `2026-03-01 08:00` (UTC), or `-`. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  return Number.isFinite(t) ? new Date(t).toISOString().slice(0, 16).replace('T', ' ') : '-';
}

const INDEX_CSS = String.raw`
:root { --fg:#1d232b; --muted:#5d6875; --line:#d8dee6; --bg:#f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); }
header { padding: 16px 24px 8px; border-bottom: 1px solid var(--line); background: var(--bg); }
h1 { margin: 0 0 4px; font-size: 22px; }
.sub { margin: 0; color: var(--muted); }
main { padding: 12px 24px 24px; }
.controls { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin-bottom: 8px; }
.controls input, .controls select { font: inherit; padding: 3px 6px; }
#ix-filter { flex: 1 1 220px; min-width: 0; max-width: 420px; }
.table-wrap { overflow: auto; border: 1px solid var(--line); }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
thead th { position: sticky; top: 0; background: var(--bg); cursor: pointer; user-select: none; }
thead th.sorted-asc::after { content: " ▲"; } thead th.sorted-desc::after { content: " ▼"; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.name { white-space: normal; overflow-wrap: anywhere; min-width: 12em; }
td.err { color: #b91c1c; max-width: 280px; overflow: hidden; text-overflow: ellipsis; }
.state { font-weight: 600; padding: 1px 6px; border-radius: 4px; background: #e5e7eb; }
.state-completed { background: #dcfce7; } .state-failed { background: #fee2e2; } .state-running { background: #dbeafe; }
.state-queued, .state-preparing { background: #fef9c3; }
footer { padding: 12px 24px; color: var(--muted); border-top: 1px solid var(--line); font-size: 12px; }
@media (max-width: 600px) { header, main, footer { padding-left: 12px; padding-right: 12px; } }
`;

/**
 * `sweeps/index.html`: a table of every sweep (id linking to its report, name, state, method, best metric with 4
 * significant digits, trials finished of total, submitted and finished times), sortable and filterable, one
 * self-contained page with the report's strict Content-Security-Policy. Pure: the same index gives the same page.
 */
export function renderSweepIndex(index: SweepIndex): string {
  const rows = index.sweeps
    .map((s) => {
      const id = escapeHtml(s.sweepId);
      const idCell = s.report ? `<a href="${escapeHtml(s.report)}">${id}</a>` : id;
      const best = s.best ? formatMetric(s.best.value) : '-';
      const metric = s.metric ? `${s.metric.name} (${s.metric.goal === 'maximize' ? 'max' : 'min'})` : '';
      const t = s.trials;
      const trialsTitle = t ? `${t.completed} completed, ${t.stopped ?? 0} stopped early, ${t.failed} failed, ${t.cancelled} cancelled, ${t.running} running, ${t.queued} queued` : 'not planned';
      const attrs = [
        `data-id="${id}"`,
        `data-name="${escapeHtml(s.name ?? '')}"`,
        `data-state="${escapeHtml(s.state)}"`,
        `data-best="${s.best?.value ?? ''}"`,
        `data-trials="${t ? t.total : ''}"`,
        `data-submitted="${escapeHtml(s.submittedAt ?? '')}"`,
        `data-finished="${escapeHtml(s.finishedAt ?? '')}"`,
      ].join(' ');
      return `<tr ${attrs}><td>${idCell}</td><td class="name">${escapeHtml(s.name ?? '')}</td><td><span class="state state-${escapeHtml(s.state)}">${escapeHtml(s.state)}</span></td><td>${escapeHtml(s.method ?? '-')}</td><td class="num" title="${escapeHtml(metric)}">${escapeHtml(best)}</td><td class="num" title="${escapeHtml(trialsTitle)}">${escapeHtml(formatTrialCounts(t))}</td><td>${escapeHtml(formatTime(s.submittedAt))}</td><td>${escapeHtml(formatTime(s.finishedAt))}</td><td class="err" title="${escapeHtml(s.error ?? '')}">${escapeHtml(s.error ?? '')}</td></tr>`;
    })
    .join('\n');
  const states = [...new Set(index.sweeps.map((s) => s.state))].sort();
  const nonce = createHash('sha256').update(jsonForScript(index)).digest('base64url').slice(0, 24);
  const head = [
    ['id', 'sweep'],
    ['name', 'name'],
    ['state', 'state'],
    ['method', 'method'],
    ['best', 'best'],
    ['trials', 'trials'],
    ['submitted', 'submitted (UTC)'],
    ['finished', 'finished (UTC)'],
    ['error', 'error'],
  ]
    .map(([k, label]) => `<th data-key="${k}" scope="col">${escapeHtml(label)}</th>`)
    .join('');
  return `${pageHead({ nonce, title: 'sweepq: all sweeps', css: INDEX_CSS })}
<body>
<header><h1>Sweeps</h1><p class="sub">${index.sweeps.length} sweep(s) in this bucket, newest first. Written ${escapeHtml(index.generatedAt)}.</p></header>
<main>
<div class="controls">
<input id="ix-filter" type="search" placeholder="filter: id, name, state, method" aria-label="filter the sweeps">
<select id="ix-state" aria-label="state"><option value="">all states</option>${states.map((s) => `<option>${escapeHtml(s)}</option>`).join('')}</select>
<span id="ix-count"></span>
</div>
<div class="table-wrap"><table id="ix-table"><thead><tr>${head}</tr></thead><tbody>
${rows}
</tbody></table></div>
${index.sweeps.length === 0 ? '<p class="sub">No sweeps yet: submit one with <code>sweepq submit spec.yaml</code>.</p>' : ''}
</main>
<footer>Generated by sweepq at ${escapeHtml(index.generatedAt)}. Each sweep id links to its report (sweeps/&lt;id&gt;/report.html), when one has been written.</footer>
<script nonce="${nonce}">${browserScript('sweep-index')}</script>
</body>
</html>
`;
}

/**
 * Collect ({@link collectSweepIndex}), render ({@link renderSweepIndex}) and put `sweeps/index.html`
 * (`text/html; charset=utf-8`). Call it when a sweep starts and when it ends; it rereads every sweep.json, so
 * concurrent writers converge on the latest state.
 */
export async function writeSweepIndex(store: ArtifactStore, opts: SweepIndexOptions = {}): Promise<{ key: string; bytes: number; sweeps: number }> {
  const index = await collectSweepIndex(store, opts);
  const body = new TextEncoder().encode(renderSweepIndex(index));
  const key = layout.sweepIndexHtml();
  await store.put(key, body, 'text/html; charset=utf-8');
  return { key, bytes: body.byteLength, sweeps: index.sweeps.length };
}
