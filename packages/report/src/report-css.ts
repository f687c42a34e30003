/** Styles of the report page. */
export const REPORT_CSS = String.raw`
:root { --fg:#1d232b; --muted:#5d6875; --line:#d8dee6; --bg:#f6f8fa; --accent:#2563eb; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #fff; }
header { padding: 16px 24px 8px; border-bottom: 1px solid var(--line); background: var(--bg); }
h1 { margin: 0 0 4px; font-size: 22px; }
h2 { font-size: 17px; margin: 24px 0 8px; }
.sub { margin: 0; color: var(--muted); }
main { padding: 0 24px 24px; }
footer { padding: 12px 24px; color: var(--muted); border-top: 1px solid var(--line); font-size: 12px; }
.state { font-weight: 600; padding: 1px 6px; border-radius: 4px; background: #e5e7eb; color: #111; }
.state-completed { background: #dcfce7; } .state-failed { background: #fee2e2; } .state-cancelled { background: #f3f4f6; } .state-stopped { background: #fef9c3; }
.state-running { background: #dbeafe; } .state-queued { background: #fef9c3; }
table { border-collapse: collapse; }
table.kv th { text-align: left; padding: 2px 16px 2px 0; color: var(--muted); font-weight: 500; vertical-align: top; white-space: nowrap; }
table.kv td { padding: 2px 0; }
pre { background: var(--bg); border: 1px solid var(--line); padding: 8px 12px; overflow: auto; max-height: 420px; }
.controls { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin-bottom: 8px; }
.controls input, .controls select, .controls button { font: inherit; padding: 3px 6px; }
.pager { margin-left: auto; }
.table-wrap { overflow: auto; max-height: 640px; border: 1px solid var(--line); }
#lb-table th, #lb-table td { padding: 3px 6px; border-bottom: 1px solid var(--line); white-space: nowrap; }
#lb-table thead th { white-space: normal; min-width: 3em; vertical-align: bottom; }
#lb-table td.st { max-width: 150px; overflow: hidden; text-overflow: ellipsis; }
#lb-table td.num { text-align: right; font-variant-numeric: tabular-nums; }
#lb-table thead th { position: sticky; top: 0; background: var(--bg); cursor: pointer; user-select: none; text-align: left; }
#lb-table thead th.sorted-asc::after { content: " ▲"; } #lb-table thead th.sorted-desc::after { content: " ▼"; }
#lb-table tbody tr:hover { background: #f1f5f9; }
#lb-table tbody tr.best { background: #f0fdf4; }
#lb-table tbody tr.front { background: #eff6ff; }
#pareto-axes[hidden] { display: none; }
#chart-pareto:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
#lb-table td.err { color: #b91c1c; max-width: 220px; overflow: hidden; text-overflow: ellipsis; }
.hint { color: var(--muted); font-size: 12px; margin: 4px 0; }
.chart { width: 100%; height: 340px; }
.chart.tall { height: 420px; } .chart.short { height: 220px; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(420px, 100%), 1fr)); gap: 16px; }
.grid3 { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(340px, 100%), 1fr)); gap: 16px; }
.grid2 > *, .grid3 > * { min-width: 0; }
h3 { font-size: 14px; margin: 8px 0 4px; }
h1, .sub, table.kv td { overflow-wrap: anywhere; }
#lb-filter { flex: 1 1 240px; min-width: 0; max-width: 440px; }
.filter-error { color: #b91c1c; background: #fef2f2; border: 1px solid #fecaca; padding: 4px 8px; margin: 0 0 8px; font-size: 13px; overflow-wrap: anywhere; }
#lb-filter[aria-invalid="true"] { border-color: #b91c1c; outline-color: #b91c1c; }
details.cols { position: relative; }
details.cols summary { cursor: pointer; color: var(--muted); }
#lb-cols { display: flex; flex-wrap: wrap; gap: 4px 12px; padding: 4px 0; }
.legend-row .key { display: inline-block; width: 14px; height: 10px; margin: 0 4px 0 10px; vertical-align: middle; }
.k-first { background: #2563eb; } .k-resume { background: #7c3aed; } .k-retry { background: #ea580c; } .k-failed { border: 2px solid #111827; }
.grid3 .chart { height: 280px; border: 1px solid var(--line); }
#per-class th, #per-class td { padding: 3px 10px; border-bottom: 1px solid var(--line); text-align: right; }
#per-class th:first-child, #per-class td:first-child { text-align: left; }
.empty { color: var(--muted); padding: 24px; border: 1px dashed var(--line); text-align: center; }
.reload { margin-left: 12px; }
@media (max-width: 600px) { header, main, footer { padding-left: 12px; padding-right: 12px; } }
`;
