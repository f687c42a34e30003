// The report page's own script (see ../browser-script.ts for how it reaches the page). It reads the embedded JSON,
// builds the leaderboard (sorting, filtering, paging, all in memory; only the current page is in the DOM, so 1,000
// trials stay fast) and the charts. Data reaches the DOM only through `textContent`, attributes set with
// `setAttribute`, and chart tooltips built from escaped text. A classic script (no imports): it runs where it stands
// in the page, after the inlined ECharts.

/** The leaderboard's view, kept in sessionStorage across reloads. */
interface ViewState {
  sort: string | null;
  dir: number;
  filter: string;
  st: string;
  size: number;
  page: number;
  picked: string[];
  reload: boolean;
  cols: string[];
  /** The Pareto plot's axes: indices into data.pareto.objectives. */
  px: number;
  py: number;
}

/** One leaderboard column. */
interface Column {
  key: string;
  label: string;
  get(t: PageTrial): PageValue;
  pick?: boolean;
  num?: boolean;
  sig?: boolean;
  err?: boolean;
  hide?: boolean;
  digits?: number;
  /** How a value shows in its cell (the exact value is the cell's title); default by num/sig/digits. */
  show?: (v: PageValue) => string;
  /** The header's tooltip. */
  title?: string;
  /** The first click sorts ascending (smaller is better). */
  asc?: boolean;
}

type CurveKey = keyof PageCurve & ('loss' | 'accuracy' | 'val_loss' | 'val_accuracy');

(function () {
  'use strict';
  /** The element with this id; the page's HTML (render.ts) always has it. */
  function byId<T extends HTMLElement = HTMLElement>(id: string): T {
    return document.getElementById(id) as T;
  }
  const scriptStart = performance.now();
  const data = JSON.parse(byId('sweepq-data').textContent ?? '') as PageData;
  const parseMs = performance.now() - scriptStart;
  const M = data.metric.name;
  const maximize = data.metric.goal === 'maximize';
  const trials = data.trials;
  const params = data.parameters.filter(function (p) { return p.varying; });
  const STORE_KEY = 'sweepq-report:' + data.sweepId;
  const state = loadState();
  const charts: ChartInstance[] = [];
  // Trial colours avoid the red-yellow-green of the metric scale, so red always means "worst", never "trial 2".
  const palette = ['#2563eb', '#7c3aed', '#0891b2', '#c026d3', '#92400e', '#475569', '#1e3a8a', '#0f766e', '#6d28d9', '#111827'];

  function loadState(): ViewState {
    const s: ViewState = { sort: null, dir: 1, filter: '', st: '', size: 50, page: 0, picked: [], reload: true, cols: [], px: 1, py: 0 };
    const fields = s as unknown as Record<string, unknown>;
    try { const j = JSON.parse(sessionStorage.getItem(STORE_KEY) || 'null') as Record<string, unknown> | null; if (j) for (const k in s) if (Object.prototype.hasOwnProperty.call(j, k)) fields[k] = j[k]; } catch { /* storage unavailable */ }
    return s;
  }
  function saveState(): void { try { sessionStorage.setItem(STORE_KEY, JSON.stringify(state)); } catch { /* storage unavailable */ } }
  const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
  function esc(s: unknown): string { return String(s).replace(/[&<>"']/g, function (c) { return ESCAPES[c] as string; }); }
  function isNum(v: unknown): v is number { return typeof v === 'number' && isFinite(v); }
  // Four significant digits: parameters like 0.0004213 and 0.1 read at a glance and keep their columns narrow.
  function fmtSig(v: PageValue): string {
    if (!isNum(v)) return v === null || v === undefined ? '–' : String(v);
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    return a !== 0 && (a < 0.001 || a >= 1e6) ? v.toExponential(3) : String(Number(v.toPrecision(4)));
  }
  function fmt(v: unknown, digits?: number): string {
    if (v === null || v === undefined) return '–';
    if (typeof v !== 'number') return String(v);
    if (!isFinite(v)) return '–';
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    if (a !== 0 && (a < 0.001 || a >= 1e6)) return v.toExponential(2);
    return v.toFixed(digits === undefined ? 4 : digits);
  }
  // Neither ECharts nor Intl (in the ES2019 this page targets) formats sizes: 3 significant digits and an SI prefix.
  function scaled(v: number, units: string[], sep: string): string {
    let i = 0;
    while (Math.abs(v) >= 1000 && i < units.length - 1) { v /= 1000; i++; }
    return String(Number(v.toPrecision(3))) + sep + units[i];
  }
  /** An objective's value as people read it: bytes in kB/MB, parameter counts in k/M, latency in ms, the rest to 4 digits. */
  function fmtObjective(name: string, v: PageValue): string {
    if (!isNum(v)) return fmtSig(v);
    if (name === 'model_bytes') return scaled(v, ['B', 'kB', 'MB', 'GB'], ' ');
    if (name === 'param_count') return scaled(v, ['', 'k', 'M', 'G'], '');
    if (name === 'latency_ms') return fmtSig(v) + ' ms';
    return fmtSig(v);
  }
  function el(tag: string, cls?: string | null, text?: unknown): HTMLElement {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function empty(node: HTMLElement, text: string): void { node.textContent = ''; node.appendChild(el('div', 'empty', text)); }
  function chart(node: HTMLElement): ChartInstance {
    const c = echarts.init(node, null, { renderer: 'canvas' });
    charts.push(c);
    return c;
  }
  window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });

  // ---- leaderboard ----
  let columns: Column[] = [
    { key: 'pick', label: '', get: function (t) { return state.picked.indexOf(t.trialId) >= 0 ? 1 : 0; }, pick: true, title: 'shown in the learning curves' },
    { key: 'rank', label: '#', get: function (t) { return t.rank; }, num: true },
    { key: 'trial', label: 'trial', get: function (t) { return t.trialId; } },
    { key: 'state', label: 'state', get: function (t) { return t.reason ? t.state + ' (' + t.reason + ')' : t.state; } },
    { key: M, label: M, get: function (t) { return t.metric; }, num: true },
    { key: 'val_loss', label: 'val_loss', get: function (t) { return t.final ? t.final.val_loss : null; }, num: true },
    { key: 'val_accuracy', label: 'val_accuracy', get: function (t) { return t.final ? t.final.val_accuracy : null; }, num: true },
    { key: 'loss', label: 'loss', get: function (t) { return t.final ? t.final.loss : null; }, num: true, hide: true },
    { key: 'accuracy', label: 'accuracy', get: function (t) { return t.final ? t.final.accuracy : null; }, num: true, hide: true },
    { key: 'test_accuracy', label: 'test_acc', get: function (t) { return t.testAccuracy; }, num: true },
    { key: 'epochs', label: 'epochs', get: function (t) { return t.epochs; }, num: true },
    { key: 'duration', label: 'sec', get: function (t) { return t.durationSec; }, num: true, digits: 1 },
    { key: 'samples_per_sec', label: 'samples/s', get: function (t) { return t.samplesPerSec; }, num: true, digits: 0, hide: true },
    { key: 'backend', label: 'backend', get: function (t) { return t.backend; }, hide: true },
    { key: 'worker', label: 'worker', get: function (t) { return t.worker; }, hide: true },
    { key: 'attempt', label: 'attempt', get: function (t) { return t.attempt; }, num: true, hide: true }
  ];
  // The metric is one of the final-epoch columns too; show it once, first.
  columns = columns.filter(function (c, i) { return i === 4 || c.key !== M; });
  if (data.pareto) objectiveColumns(data.pareto);
  // With several objectives: a column per objective (the first is the metric's; final-epoch ones have theirs, shown
  // even if hidden by default; costs get one each, after the metric) and the trial's Pareto rank after its rank.
  function objectiveColumns(P: PagePareto): void {
    let at = columns.map(function (c) { return c.key; }).indexOf(M) + 1;
    P.objectives.forEach(function (o, i) {
      const have = columns.filter(function (c) { return c.key === o.name; })[0];
      if (have) { have.hide = false; return; }
      columns.splice(at++, 0, { key: o.name, label: o.name, get: function (t) { return t.objectives ? t.objectives[i] : null; }, num: true, asc: o.goal === 'minimize',
        show: function (v) { return fmtObjective(o.name, v); } });
    });
    columns.splice(2, 0, { key: 'front', label: 'front', get: function (t) { return t.front; }, num: true, asc: true,
      title: 'Pareto rank: 0 = on the front (no other trial is at least as good on every objective and better on one), 1 = on the front of the rest, …' });
  }
  params.forEach(function (p) {
    columns.push({ key: p.name, label: p.name, get: function (t) { return t.params[p.name]; }, num: p.type === 'numeric', sig: true });
  });
  columns.push({ key: 'error', label: 'error', get: function (t) { return t.error || ''; }, err: true, hide: !trials.some(function (t) { return t.error; }) });
  function isShown(c: Column): boolean { return !c.hide || state.cols.indexOf(c.key) >= 0; }

  const table = byId<HTMLTableElement>('lb-table');
  const thead = table.tHead as HTMLTableSectionElement, tbody = table.tBodies[0] as HTMLTableSectionElement;
  const colByKey: Record<string, Column> = {};
  columns.forEach(function (c) { colByKey[c.key.toLowerCase()] = c; colByKey[c.label.toLowerCase()] = c; });
  const colsBox = byId('lb-cols');
  columns.forEach(function (c) {
    if (!c.hide) return;
    const lab = el('label'), cb = document.createElement('input');
    cb.type = 'checkbox'; cb.checked = isShown(c); cb.setAttribute('data-col', c.key);
    cb.addEventListener('change', function () {
      const i = state.cols.indexOf(c.key);
      if (cb.checked && i < 0) state.cols.push(c.key);
      if (!cb.checked && i >= 0) state.cols.splice(i, 1);
      saveState(); header(); renderTable();
    });
    lab.appendChild(cb); lab.appendChild(document.createTextNode(' ' + c.label)); colsBox.appendChild(lab);
  });
  function header(): void {
    thead.textContent = '';
    const tr = document.createElement('tr');
    columns.forEach(function (c) {
      if (!isShown(c)) return;
      // Long parameter names may break after an underscore, so headers do not widen the table.
      const th = el('th', null, c.label.replace(/_/g, '_\u200b'));
      th.setAttribute('data-key', c.key);
      if (c.title) th.title = c.title;
      th.addEventListener('click', function () {
        if (state.sort === c.key) state.dir = -state.dir; else { state.sort = c.key; state.dir = c.num && !c.asc && c.key !== 'rank' && !(c.key === M && !maximize) ? -1 : 1; }
        state.page = 0; saveState(); renderTable();
      });
      tr.appendChild(th);
    });
    thead.appendChild(tr);
  }
  header();
  const stateSel = byId<HTMLSelectElement>('lb-state');
  Array.from(new Set(trials.map(function (t) { return t.state; }))).sort().forEach(function (s) {
    const o = el('option', null, s) as HTMLOptionElement; o.value = s; stateSel.appendChild(o);
  });
  const filterInput = byId<HTMLInputElement>('lb-filter');
  const sizeSel = byId<HTMLSelectElement>('lb-size');
  filterInput.value = state.filter; stateSel.value = state.st; sizeSel.value = String(state.size);
  let filterTimer: ReturnType<typeof setTimeout> | undefined;
  filterInput.addEventListener('input', function () {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(function () { state.filter = filterInput.value; state.page = 0; saveState(); renderTable(); }, 120);
  });
  stateSel.addEventListener('change', function () { state.st = stateSel.value; state.page = 0; saveState(); renderTable(); });
  sizeSel.addEventListener('change', function () { state.size = Number(sizeSel.value); state.page = 0; saveState(); renderTable(); });
  byId('lb-prev').addEventListener('click', function () { state.page = Math.max(0, state.page - 1); saveState(); renderTable(); });
  byId('lb-next').addEventListener('click', function () { state.page += 1; saveState(); renderTable(); });

  function editDistance(a: string, b: string): number {
    const d: number[][] = [];
    let i, j;
    for (i = 0; i <= a.length; i++) { d[i] = [i]; }
    const at = (x: number, y: number): number => (d[x] as number[])[y] as number;
    for (j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
    for (i = 1; i <= a.length; i++) for (j = 1; j <= b.length; j++) (d[i] as number[])[j] = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1));
    return at(a.length, b.length);
  }
  function closestColumn(name: string): string | null {
    let best: string | null = null, bestD = Infinity;
    Object.keys(colByKey).forEach(function (k) { if (k === 'pick' || k === '') return; const dd = editDistance(name, k); if (dd < bestD) { bestD = dd; best = k; } });
    return bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : null;
  }
  const filterableNames = columns.filter(function (c) { return !c.pick; }).map(function (c) { return c.key; });
  // "lstm_units=32 state=completed adam" -> every term must match; name<op>value compares that column. A term that
  // names no column, or compares a number column with a non-number, is reported and left out (not matched as text,
  // which would silently show no rows).
  let filterErrors: string[] = [];
  function compileFilter(text: string): (((t: PageTrial) => boolean) | null)[] {
    const terms = text.trim().toLowerCase().split(/\s+/).filter(Boolean);
    filterErrors = [];
    return terms.map(function (term) {
      const m = /^([a-z_/#][a-z0-9_/#]*)(<=|>=|!=|=|<|>)(.*)$/.exec(term);
      const name = m ? (m[1] as string) : '';
      const col = m && colByKey[name];
      if (m && !col) {
        const near = closestColumn(name);
        filterErrors.push('unknown column "' + name + '" in "' + term + '"' + (near ? ': did you mean ' + near + '?' : '') + ' Columns: ' + filterableNames.join(', ') + '.');
        return null;
      }
      if (!m || !col) return function (t: PageTrial) { return rowText(t).indexOf(term) >= 0; };
      const op = m[2] as string, want = m[3] as string, wantNum = Number(want);
      if (want === '') { filterErrors.push('"' + term + '": expected a value after ' + op + ', e.g. ' + name + op + '0.5'); return null; }
      if (col.num && /[<>]/.test(op) && !(want !== '' && isFinite(wantNum))) { filterErrors.push('"' + term + '": ' + col.key + ' is a number column; expected a number after ' + op + ', got "' + want + '"'); return null; }
      return function (t: PageTrial) {
        const v = col.get(t);
        if (v === null || v === undefined) return op === '!=';
        if (isNum(v) && isFinite(wantNum)) {
          switch (op) { case '=': return v === wantNum; case '!=': return v !== wantNum; case '<': return v < wantNum; case '>': return v > wantNum; case '<=': return v <= wantNum; default: return v >= wantNum; }
        }
        const s = String(v).toLowerCase();
        return op === '!=' ? s !== want : op === '=' ? s === want || s.indexOf(want) === 0 : false;
      };
    });
  }
  const textCache = new Map<PageTrial, string>();
  function rowText(t: PageTrial): string {
    let s = textCache.get(t);
    if (s === undefined) { s = columns.map(function (c) { const v = c.get(t); return v === null || v === undefined ? '' : String(v); }).join(' ').toLowerCase(); textCache.set(t, s); }
    return s;
  }
  function visibleRows(): PageTrial[] {
    const preds = compileFilter(state.filter).filter(function (p): p is (t: PageTrial) => boolean { return Boolean(p); });
    const errBox = byId('lb-filter-error');
    errBox.textContent = filterErrors.join(' ');
    errBox.hidden = filterErrors.length === 0;
    if (filterErrors.length) filterInput.setAttribute('aria-invalid', 'true'); else filterInput.removeAttribute('aria-invalid');
    let rows = trials.filter(function (t) {
      if (state.st && t.state !== state.st) return false;
      for (let i = 0; i < preds.length; i++) if (!(preds[i] as (t: PageTrial) => boolean)(t)) return false;
      return true;
    });
    const col = state.sort && columns.filter(function (c) { return c.key === state.sort; })[0];
    if (col) {
      const dir = state.dir;
      const keyed = rows.map(function (t, i) { return { t: t, v: col.get(t), i: i }; });
      keyed.sort(function (a, b) {
        const an = a.v === null || a.v === undefined || a.v === '' || (typeof a.v === 'number' && !isFinite(a.v));
        const bn = b.v === null || b.v === undefined || b.v === '' || (typeof b.v === 'number' && !isFinite(b.v));
        if (an || bn) return an === bn ? a.i - b.i : an ? 1 : -1; // empty values last in both directions
        const c = typeof a.v === 'number' && typeof b.v === 'number' ? a.v - b.v : String(a.v).localeCompare(String(b.v), undefined, { numeric: true });
        return c !== 0 ? dir * c : a.i - b.i;
      });
      rows = keyed.map(function (r) { return r.t; });
    }
    return rows;
  }
  function renderTable(): void {
    const rows = visibleRows();
    const size = state.size > 0 ? state.size : rows.length || 1;
    const pages = Math.max(1, Math.ceil(rows.length / size));
    if (state.page >= pages) state.page = pages - 1;
    const shown = rows.slice(state.page * size, state.page * size + size);
    const frag = document.createDocumentFragment();
    const bestId = data.best && data.best.trialId;
    shown.forEach(function (t) {
      const tr = document.createElement('tr');
      tr.setAttribute('data-trial', t.trialId);
      if (t.trialId === bestId) tr.className = 'best'; else if (t.front === 0) tr.className = 'front';
      columns.forEach(function (c) {
        if (!isShown(c)) return;
        let td: HTMLElement;
        if (c.pick) {
          td = el('td');
          const cb = document.createElement('input');
          cb.type = 'checkbox'; cb.checked = state.picked.indexOf(t.trialId) >= 0;
          cb.setAttribute('aria-label', 'show learning curves of ' + t.trialId);
          cb.addEventListener('change', function () { togglePick(t.trialId, cb.checked); });
          td.appendChild(cb);
        } else if (c.key === 'state') {
          td = el('td', 'st'); td.appendChild(el('span', 'state state-' + t.state, c.get(t))); td.title = String(c.get(t));
        } else {
          const v = c.get(t);
          td = el('td', c.num ? 'num' : c.err ? 'err' : null, c.show ? c.show(v) : c.sig ? fmtSig(v) : c.num ? fmt(v, c.digits) : v === null || v === undefined ? '–' : String(v));
          if ((c.sig || c.show) && isNum(v)) td.title = String(v);
          if (c.err && v) td.setAttribute('title', String(v));
        }
        tr.appendChild(td);
      });
      frag.appendChild(tr);
    });
    tbody.textContent = '';
    tbody.appendChild(frag);
    Array.prototype.forEach.call((thead.rows[0] as HTMLTableRowElement).cells, function (th: HTMLTableCellElement) {
      const k = th.getAttribute('data-key');
      th.className = k === state.sort ? (state.dir > 0 ? 'sorted-asc' : 'sorted-desc') : '';
    });
    byId('lb-count').textContent = rows.length + ' of ' + trials.length + ' trials';
    byId('lb-page').textContent = 'page ' + (state.page + 1) + ' / ' + pages;
    byId<HTMLButtonElement>('lb-prev').disabled = state.page === 0;
    byId<HTMLButtonElement>('lb-next').disabled = state.page >= pages - 1;
  }
  function togglePick(id: string, on: boolean): void {
    const i = state.picked.indexOf(id);
    if (on && i < 0) state.picked.push(id);
    if (!on && i >= 0) state.picked.splice(i, 1);
    saveState(); renderCurves();
  }

  // ---- charts ----
  // By rank (the metric): with several objectives the data lists the front first.
  const ranked = trials.filter(function (t) { return t.rank !== null && isNum(t.metric); }).sort(function (a, b) { return (a.rank as number) - (b.rank as number); });
  const trialById: Record<string, PageTrial> = {};
  trials.forEach(function (t) { trialById[t.trialId] = t; });
  const metricValues = ranked.map(function (t) { return t.metric as number; });
  let mMin = Math.min(...metricValues), mMax = Math.max(...metricValues);
  if (mMin === mMax) { mMin -= 0.5; mMax += 0.5; }
  const metricColors = maximize ? ['#d73027', '#fee08b', '#1a9850'] : ['#1a9850', '#fee08b', '#d73027'];

  function axisType(p: PageParameter): string { return p.values ? 'category' : p.log ? 'log' : 'value'; }
  function axisValue(p: PageParameter, v: PageValue): PageValue { return p.values ? String(v) : v; }

  function renderParallel(): void {
    const node = byId('chart-parallel');
    if (ranked.length === 0) return empty(node, 'No completed trial with a ' + M + ' value yet.');
    if (params.length === 0) return empty(node, 'No parameter varies in this sweep.');
    const axes: Record<string, unknown>[] = params.map(function (p, i) {
      const a: Record<string, unknown> = { dim: i, name: p.name, type: axisType(p), nameLocation: 'end' };
      if (p.values) a.data = p.values.map(String); else a.scale = true;
      return a;
    });
    axes.push({ dim: params.length, name: M, type: 'value', scale: true, nameTextStyle: { fontWeight: 'bold' } });
    const rows = ranked.map(function (t) {
      const r = params.map(function (p) { return axisValue(p, t.params[p.name]); });
      r.push(t.metric);
      return { value: r, name: t.trialId };
    });
    chart(node).setOption({
      animation: false,
      // The bottom margin leaves room for the colour scale (bottom 4) under the axes' lowest labels whatever fonts the
      // machine has: ECharts takes a text's line height from the width of a CJK glyph, 4-7 px where no font has one
      // and 12 px (1 em) where one does, and both the scale and the labels grow with it. 70 px fitted only the former
      // (labels 0, 0.0001 drawn on the scale with a CJK font); 84 px leaves a gap of 10 px or more up to 1 em.
      parallel: { left: 60, right: 70, top: 50, bottom: 84, parallelAxisDefault: { nameGap: 14, nameTextStyle: { fontSize: 12 },
        axisLabel: { backgroundColor: 'rgba(255,255,255,0.85)', padding: [1, 3] } } },
      parallelAxis: axes,
      // Horizontal, below the axes: a vertical scale at the right edge put its labels on the metric axis' ticks.
      visualMap: { type: 'continuous', dimension: params.length, min: mMin, max: mMax, calculable: true, orient: 'horizontal', left: 'center', bottom: 4,
        itemWidth: 14, itemHeight: 220, inRange: { color: metricColors }, precision: 3, text: [maximize ? 'better' : 'worse', maximize ? 'worse' : 'better'], textGap: 12 },
      series: [{ type: 'parallel', lineStyle: { width: ranked.length > 200 ? 1 : 2, opacity: ranked.length > 200 ? 0.35 : 0.7 }, emphasis: { lineStyle: { width: 3, opacity: 1 } }, progressive: 500, data: rows }]
    });
  }

  const CURVE_TOP = 5;
  const curveCharts = new Map<HTMLElement, ChartInstance>();
  function renderCurves(): void {
    const top = ranked.slice(0, CURVE_TOP).map(function (t) { return t.trialId; });
    let ids = top.concat(state.picked.filter(function (id) { return top.indexOf(id) < 0; }));
    const byTrialId = trialById;
    ids = ids.filter(function (id) { const t = byTrialId[id]; return t !== undefined && t.curve.epoch.length > 0; });
    if (ids.length === 0) {
      const open = trials.filter(function (t) { return t.curve.epoch.length > 0; }).slice(0, CURVE_TOP);
      ids = open.map(function (t) { return t.trialId; });
    }
    byId('curves-note').textContent = ids.length
      ? 'Showing ' + ids.join(', ') + ' (top ' + CURVE_TOP + ' by ' + M + ', plus trials ticked in the leaderboard). Solid: validation; dashed: training.'
      : '';
    const specs: [string, 'loss' | 'accuracy', string][] = [['chart-loss', 'loss', 'Loss'], ['chart-accuracy', 'accuracy', 'Accuracy']];
    specs.forEach(function (spec) {
      const node = byId(spec[0]);
      if (ids.length === 0) return empty(node, 'No epoch finished yet.');
      const series: object[] = [];
      ids.forEach(function (id, i) {
        const t = byTrialId[id] as PageTrial, color = palette[i % palette.length];
        const pts = function (key: CurveKey) { return t.curve.epoch.map(function (e, j) { const v = t.curve[key][j]; return [e, isNum(v) ? v : null]; }); };
        series.push({ name: id, type: 'line', data: pts(('val_' + spec[1]) as CurveKey), color: color, lineStyle: { width: 2 }, symbolSize: 5, connectNulls: false });
        series.push({ name: id + ' train', type: 'line', data: pts(spec[1]), color: color, lineStyle: { width: 1.5, type: 'dashed' }, symbol: 'none' });
      });
      let c = curveCharts.get(node);
      if (c === undefined) curveCharts.set(node, (c = chart(node)));
      c.setOption({
        animation: false,
        title: { text: spec[2], left: 'center', textStyle: { fontSize: 14 } },
        tooltip: { trigger: 'axis', formatter: function (items: ChartItem<[number, number | null]>[]) {
          return 'epoch ' + esc(items[0] ? items[0].value[0] : '') + '<br>' + items.map(function (it) { return esc(it.seriesName) + ': ' + esc(fmt(it.value[1])); }).join('<br>');
        } },
        // Legend on top, under the title: at the bottom it sat on the "epoch" axis name. 40 px clears the title with
        // a CJK font installed (ECharts' line height is then 1 em, and at 30 px the legend's box took in the title).
        legend: { type: 'scroll', top: 40, left: 10, right: 10, data: ids },
        grid: { left: 60, right: 20, top: 78, bottom: 44 },
        xAxis: { type: 'value', name: 'epoch', min: 'dataMin', max: 'dataMax', minInterval: 1, nameLocation: 'middle', nameGap: 26 },
        yAxis: { type: 'value', scale: true },
        series: series
      }, true);
    });
  }

  function renderScatter(): void {
    const grid = byId('scatter-grid');
    if (ranked.length === 0) return empty(grid, 'No completed trial with a ' + M + ' value yet.');
    if (params.length === 0) return empty(grid, 'No parameter varies in this sweep.');
    params.forEach(function (p) {
      const node = el('div', 'chart');
      node.setAttribute('data-param', p.name);
      grid.appendChild(node);
      const x: Record<string, unknown> = { type: axisType(p), name: p.name + (p.log ? ' (log)' : ''), nameLocation: 'middle', nameGap: 28 };
      if (p.values) {
        x.data = p.values.map(String);
        // Spread points of one category sideways (half the band), so a hundred trials at "adam" are not one dot.
        x.jitter = Math.max(4, Math.floor((Math.max(200, node.clientWidth) - 80) / p.values.length * 0.5));
        x.jitterOverlap = true;
      } else { x.scale = true; if (!p.log) x.boundaryGap = ['4%', '4%']; }
      chart(node).setOption({
        animation: false,
        grid: { left: 60, right: 20, top: 34, bottom: 50 },
        tooltip: { trigger: 'item', formatter: function (it: ChartItem<[PageValue, number, string]>) {
          return esc(it.value[2]) + '<br>' + esc(p.name) + ' = ' + esc(fmt(it.value[0], 6)) + '<br>' + esc(M) + ' = ' + esc(fmt(it.value[1]));
        } },
        xAxis: x,
        yAxis: { type: 'value', name: M, scale: true, boundaryGap: ['4%', '4%'] },
        visualMap: { show: false, dimension: 1, min: mMin, max: mMax, inRange: { color: metricColors } },
        series: [{ type: 'scatter', symbolSize: ranked.length > 300 ? 5 : 9, large: ranked.length > 2000,
          data: ranked.map(function (t) { return [axisValue(p, t.params[p.name]), t.metric, t.trialId]; }) }]
      });
    });
  }

  function renderBest(): void {
    const note = byId('best-note');
    const cm = byId('chart-confusion');
    const best = data.best;
    const ev = best && best.evaluation;
    if (!best || !ev) {
      note.textContent = best ? 'Trial ' + best.trialId + ' has no held-out evaluation.' : 'No completed trial yet.';
      empty(cm, 'No confusion matrix.');
      byId('per-class').style.display = 'none';
      return;
    }
    const n = ev.confusion.reduce(function (a, r) { return a + r.reduce(function (x, y) { return x + y; }, 0); }, 0);
    note.textContent = 'Trial ' + best.trialId + ' on the ' + ev.split + ' split (' + n + ' examples): accuracy ' + fmt(ev.accuracy) + '.';
    const cells: [number, number, number][] = [];
    let max = 0;
    ev.confusion.forEach(function (row, a) { row.forEach(function (v, p) { cells.push([p, a, v]); if (v > max) max = v; }); });
    chart(cm).setOption({
      animation: false,
      title: { text: 'Confusion matrix', left: 'center', textStyle: { fontSize: 14 } },
      tooltip: { formatter: function (it: ChartItem<[number, number, number]>) { return 'actual ' + esc(ev.classes[it.value[1]]) + '<br>predicted ' + esc(ev.classes[it.value[0]]) + ': ' + esc(it.value[2]); } },
      grid: { left: 100, right: 20, top: 40, bottom: 60 },
      xAxis: { type: 'category', data: ev.classes, name: 'predicted', nameLocation: 'middle', nameGap: 30, splitArea: { show: true } },
      yAxis: { type: 'category', data: ev.classes, name: 'actual', nameLocation: 'middle', nameGap: 80, inverse: true, splitArea: { show: true } },
      visualMap: { show: false, min: 0, max: Math.max(1, max), inRange: { color: ['#f8fafc', '#1d4ed8'] } },
      series: [{ type: 'heatmap', data: cells, label: { show: true } }]
    });
    const t = byId<HTMLTableElement>('per-class');
    const hr = document.createElement('tr');
    ['class', 'precision', 'recall', 'F1', 'support'].forEach(function (h) { hr.appendChild(el('th', null, h)); });
    (t.tHead as HTMLTableSectionElement).appendChild(hr);
    ev.perClass.forEach(function (c) {
      const tr = document.createElement('tr');
      tr.appendChild(el('td', null, c.label));
      tr.appendChild(el('td', null, fmt(c.precision, 3)));
      tr.appendChild(el('td', null, fmt(c.recall, 3)));
      tr.appendChild(el('td', null, fmt(c.f1, 3)));
      tr.appendChild(el('td', null, c.support));
      (t.tBodies[0] as HTMLTableSectionElement).appendChild(tr);
    });
    // On a 0-1 axis 0.964 and 0.993 look the same: start the axis just below the lowest value and label the bars.
    const vals: number[] = [];
    ev.perClass.forEach(function (c) { [c.precision, c.recall, c.f1].forEach(function (v) { if (isNum(v)) vals.push(v); }); });
    const lo = vals.length ? Math.min(...vals) : 0;
    const yMin = Math.max(0, Math.floor((lo - Math.max(0.02, (1 - lo) * 0.5)) * 50) / 50);
    byId('per-class-note').textContent = yMin > 0 ? 'The bars start at ' + yMin + ', not 0, so that small differences show.' : '';
    const barLabel = { show: true, position: 'top', fontSize: 10, formatter: function (it: ChartItem<number>) { return fmt(it.value, 3); } };
    chart(byId('chart-per-class')).setOption({
      animation: false,
      tooltip: { trigger: 'axis', formatter: function (items: ChartItem<number>[]) { return esc(items[0] ? items[0].name : '') + '<br>' + items.map(function (it) { return esc(it.seriesName) + ': ' + esc(fmt(it.value, 3)); }).join('<br>'); } },
      legend: { top: 0 },
      grid: { left: 50, right: 10, top: 46, bottom: 30 },
      xAxis: { type: 'category', data: ev.perClass.map(function (c) { return c.label; }) },
      yAxis: { type: 'value', min: yMin, max: 1 },
      series: [
        { name: 'precision', type: 'bar', data: ev.perClass.map(function (c) { return c.precision; }), label: barLabel, color: palette[0] },
        { name: 'recall', type: 'bar', data: ev.perClass.map(function (c) { return c.recall; }), label: barLabel, color: palette[1] },
        { name: 'F1', type: 'bar', data: ev.perClass.map(function (c) { return c.f1; }), label: barLabel, color: palette[2] }
      ]
    });
  }


  // ---- Pareto front (several objectives) ----
  function paretoAxes(P: PagePareto): [number, number] {
    const n = P.objectives.length;
    const x = state.px >= 0 && state.px < n ? state.px : 1;
    const y = state.py >= 0 && state.py < n && state.py !== x ? state.py : x === 0 ? 1 : 0;
    return [x, y];
  }
  /** The tooltip of a trial on the Pareto plot: its id and state, every objective, its front, its parameters. */
  function paretoTip(P: PagePareto, t: PageTrial): string {
    const lines = ['<b>' + esc(t.trialId) + '</b> · ' + esc(t.state) + ' · ' + (t.front === 0 ? 'on the Pareto front' : t.front === null || t.front === undefined ? 'no front' : 'front ' + esc(t.front))];
    P.objectives.forEach(function (o, i) { lines.push(esc(o.name) + ' = ' + esc(fmtObjective(o.name, t.objectives ? t.objectives[i] : null))); });
    params.forEach(function (p) { lines.push(esc(p.name) + ' = ' + esc(fmtSig(t.params[p.name]))); });
    return lines.join('<br>');
  }
  // Three or four objectives: two selects choose the axes (one plot stays readable on a phone, where a matrix of
  // three to six plots would not); picking the other axis' objective swaps the two.
  function paretoPickers(P: PagePareto, redraw: () => void): void {
    if (P.objectives.length < 3) return;
    const box = byId('pareto-axes');
    box.hidden = false;
    const sel: [HTMLSelectElement, HTMLSelectElement] = [byId<HTMLSelectElement>('pareto-x'), byId<HTMLSelectElement>('pareto-y')];
    sel.forEach(function (s) {
      P.objectives.forEach(function (o, i) { const opt = el('option', null, o.name) as HTMLOptionElement; opt.value = String(i); s.appendChild(opt); });
    });
    const sync = function () { const a = paretoAxes(P); sel[0].value = String(a[0]); sel[1].value = String(a[1]); };
    sync();
    sel.forEach(function (s, k) {
      s.addEventListener('change', function () {
        const a = paretoAxes(P), v = Number(s.value);
        if (v === a[1 - k]) { state.px = a[1]; state.py = a[0]; } else if (k === 0) state.px = v; else state.py = v;
        saveState(); sync(); redraw();
      });
    });
  }
  function renderPareto(): void {
    const P = data.pareto;
    if (!P) return;
    const node = byId('chart-pareto');
    let c: ChartInstance | undefined;
    let front: { value: [number, number, string] }[] = [];
    let focused = -1;
    const draw = function () {
      const axes = paretoAxes(P), ox = P.objectives[axes[0]] as PageObjective, oy = P.objectives[axes[1]] as PageObjective;
      const at = function (t: PageTrial, i: number) { return t.objectives ? t.objectives[i] : null; };
      const shown = trials.filter(function (t) { return isNum(at(t, axes[0])) && isNum(at(t, axes[1])); });
      const point = function (t: PageTrial) { return { value: [at(t, axes[0]), at(t, axes[1]), t.trialId] as [number, number, string] }; };
      front = shown.filter(function (t) { return t.front === 0; }).map(point).sort(function (a, b) { return a.value[0] - b.value[0]; });
      const rest = shown.filter(function (t) { return t.front !== 0; }).map(point);
      byId('pareto-note').textContent = shown.length === 0 ? '' : paretoNote(P, ox, oy, shown.length);
      // Nothing to draw before the first trial with values; once a chart exists (other axes picked), it stays.
      if (shown.length === 0 && c === undefined) return empty(node, 'No completed trial has a value of every objective yet.');
      const pair = P.pairs.filter(function (q) { return (q.a === axes[0] && q.b === axes[1]) || (q.a === axes[1] && q.b === axes[0]); })[0];
      const line = (pair ? pair.front : []).map(function (id) { return point(trialById[id] as PageTrial).value; }).sort(function (a, b) { return a[0] - b[0]; });
      const both = P.objectives.length === 2 ? 'Pareto front' : 'front of these two';
      if (c === undefined) c = chart(node);
      c.setOption(paretoOption(P, ox, oy, front, rest, line, both), true);
    };
    paretoPickers(P, function () { focused = -1; draw(); });
    draw();
    // Keyboard: focus the plot, then ← → step along the front (sorted by the x axis) and show each trial's tooltip.
    const show = function () {
      if (!c || front.length === 0) return;
      c.dispatchAction({ type: 'downplay', seriesIndex: 2 });
      c.dispatchAction({ type: 'highlight', seriesIndex: 2, dataIndex: focused });
      c.dispatchAction({ type: 'showTip', seriesIndex: 2, dataIndex: focused });
    };
    node.addEventListener('focus', function () { if (focused < 0) focused = 0; show(); });
    node.addEventListener('blur', function () { if (c) { c.dispatchAction({ type: 'hideTip' }); c.dispatchAction({ type: 'downplay', seriesIndex: 2 }); } });
    node.addEventListener('keydown', function (e: KeyboardEvent) {
      const step = e.key === 'ArrowRight' || e.key === 'ArrowDown' ? 1 : e.key === 'ArrowLeft' || e.key === 'ArrowUp' ? -1 : 0;
      if (step === 0 || front.length === 0) return;
      e.preventDefault();
      focused = (Math.max(0, focused) + step + front.length) % front.length;
      show();
    });
  }
  function paretoNote(P: PagePareto, ox: PageObjective, oy: PageObjective, n: number): string {
    const better = (oy.goal === 'maximize' ? 'up' : 'down') + ' and to the ' + (ox.goal === 'maximize' ? 'right' : 'left');
    const two = P.objectives.length === 2;
    return n + ' trials with both values; the ' + P.size + ' on the Pareto front' + (two ? '' : ' of all ' + P.objectives.length + ' objectives') +
      ' (no other trial is at least as good on every objective and better on one) are blue' +
      (two ? ', joined by a step line' : '; the step line joins the front of the two shown') + '. Better is ' + better +
      '. Hover or tap a point for the trial, or focus the plot and use the arrow keys to step along the front.';
  }
  function paretoAxis(o: PageObjective, gap: number): Record<string, unknown> {
    const a: Record<string, unknown> = { type: o.log ? 'log' : 'value', name: o.name + (o.log ? ' (log)' : ''), nameLocation: 'middle', nameGap: gap,
      axisLabel: { hideOverlap: true, formatter: function (v: number) { return fmtObjective(o.name, v); } } };
    if (!o.log) { a.scale = true; a.boundaryGap = ['4%', '4%']; }
    return a;
  }
  function paretoOption(P: PagePareto, ox: PageObjective, oy: PageObjective, front: { value: [number, number, string] }[], rest: { value: [number, number, string] }[],
    line: [number, number, string][], lineName: string): object {
    const many = rest.length > 300;
    return {
      animation: false,
      legend: { top: 0, data: ['Pareto front', 'other trials'].concat(lineName === 'Pareto front' ? [] : [lineName]) },
      tooltip: { trigger: 'item', confine: true, className: 'pareto-tip', formatter: function (it: ChartItem<[number, number, string]>) {
        const t = trialById[it.value[2]];
        return t ? paretoTip(P, t) : '';
      } },
      grid: { left: 76, right: 24, top: 40, bottom: 56 },
      xAxis: paretoAxis(ox, 32),
      yAxis: paretoAxis(oy, 60),
      series: [
        { name: 'other trials', type: 'scatter', data: rest, symbolSize: many ? 5 : 8, color: '#94a3b8', large: rest.length > 2000, z: 2 },
        // The attainment line: level from one front trial to the next, then up or down to it when x is minimized
        // ('end'), up or down first when x is maximized ('start'), so the area the front dominates stays on one side.
        { name: lineName, type: 'line', data: line, step: ox.goal === 'minimize' ? 'end' : 'start', symbol: 'none', silent: true, color: palette[0],
          lineStyle: { width: 2, type: lineName === 'Pareto front' ? 'solid' : 'dashed' }, z: 3 },
        { name: 'Pareto front', type: 'scatter', data: front, symbolSize: 12, color: palette[0], itemStyle: { borderColor: '#fff', borderWidth: 1.5 }, z: 4 }
      ]
    };
  }

  // ---- analysis ----
  const A = data.analysis;
  function renderImportance(): void {
    const node = byId('chart-importance');
    const note = byId('importance-note');
    const imp = A.importance;
    if (!imp) { note.textContent = ''; return empty(node, 'Parameter importance needs at least 5 trials with a ' + M + ' value.'); }
    if (imp.params.length === 0) { note.textContent = ''; return empty(node, 'No parameter varies in this sweep.'); }
    note.textContent = 'PED-ANOVA: how differently the best ' + imp.top + ' of ' + imp.trials + ' trials (top ' + Math.round(imp.quantile * 100) +
      '% by ' + M + ') use each parameter, compared with all of them; shares sum to 100%.' + (imp.trials < 20 ? ' With fewer than 20 trials this is only indicative.' : '');
    const rows = imp.params.slice().reverse();
    node.style.height = Math.max(160, 60 + rows.length * 28) + 'px';
    chart(node).setOption({
      animation: false,
      tooltip: { trigger: 'item', formatter: function (it: ChartItem<number>) { return esc(it.name) + ': ' + esc((it.value * 100).toFixed(1)) + '%'; } },
      grid: { left: 130, right: 60, top: 10, bottom: 30 },
      xAxis: { type: 'value', min: 0, max: 1, axisLabel: { formatter: function (v: number) { return Math.round(v * 100) + '%'; } } },
      yAxis: { type: 'category', data: rows.map(function (r) { return r.name; }) },
      series: [{ type: 'bar', data: rows.map(function (r) { return r.importance; }), color: palette[0], barMaxWidth: 22,
        label: { show: true, position: 'right', formatter: function (it: ChartItem<number>) { return (it.value * 100).toFixed(1) + '%'; } } }]
    });
  }

  function renderHistory(): void {
    const h = A.history;
    type HistoryRow = [number, number, number, string];
    const specs: [string, HistoryRow[], 'value' | 'time', string][] = [['chart-history-index', h.byIndex, 'value', 'trial index'], ['chart-history-time', h.byTime, 'time', 'finished at']];
    specs.forEach(function (spec) {
      const node = byId(spec[0]);
      const rows = spec[1];
      if (rows.length === 0) return empty(node, 'No completed trial with a ' + M + ' value yet.');
      chart(node).setOption({
        animation: false,
        legend: { top: 0, data: [M, 'best so far'] },
        tooltip: { trigger: 'item', formatter: function (it: ChartItem<HistoryRow>) {
          const x = spec[2] === 'time' ? new Date(it.value[0]).toISOString().replace('T', ' ').slice(0, 19) : it.value[0];
          return esc(it.value[3]) + '<br>' + esc(spec[3]) + ': ' + esc(x) + '<br>' + esc(M) + ' = ' + esc(fmt(it.value[1])) + '<br>best so far = ' + esc(fmt(it.value[2]));
        } },
        grid: { left: 60, right: 24, top: 56, bottom: 44 },
        xAxis: { type: spec[2], name: spec[3], nameLocation: 'middle', nameGap: 26, scale: true, minInterval: spec[2] === 'value' ? 1 : undefined,
          splitNumber: node.clientWidth < 600 ? 3 : 6, axisLabel: { hideOverlap: true } },
        yAxis: { type: 'value', name: M, scale: true, boundaryGap: ['4%', '4%'] },
        series: [
          { name: M, type: 'scatter', symbolSize: rows.length > 300 ? 4 : 8, color: '#94a3b8', large: rows.length > 2000, data: rows },
          // The step line needs only the trials that improved on the best (and the last, to reach the right edge).
          { name: 'best so far', type: 'line', step: 'end', symbol: 'none', color: palette[0], lineStyle: { width: 2 }, encode: { x: 0, y: 2 },
            data: rows.filter(function (r, i) { return i === 0 || i === rows.length - 1 || r[2] !== (rows[i - 1] as HistoryRow)[2]; }) }
        ]
      });
    });
  }

  function curveKey(): CurveKey { return ['val_accuracy', 'val_loss', 'accuracy', 'loss'].indexOf(M) >= 0 ? (M as CurveKey) : 'val_accuracy'; }
  function renderIntermediate(): void {
    const node = byId('chart-intermediate');
    const note = byId('intermediate-note');
    const key = curveKey();
    const withCurve = trials.filter(function (t) { return t.curve.epoch.length > 0; });
    if (withCurve.length === 0) { note.textContent = ''; return empty(node, 'No epoch finished yet.'); }
    type Line = { name: string; coords: [number, number][] };
    const line = function (t: PageTrial): Line {
      const c: [number, number][] = [];
      t.curve.epoch.forEach(function (e, j) { const v = t.curve[key][j]; if (isNum(v)) c.push([e, v]); });
      return { name: t.trialId, coords: c };
    };
    const done: Line[] = [], stopped: Line[] = [], open: Line[] = [], stops: { value: [number, number, string]; name: string }[] = [];
    withCurve.forEach(function (t) {
      const l = line(t);
      if (l.coords.length === 0) return;
      if (t.state === 'stopped') {
        stopped.push(l);
        const last = l.coords[l.coords.length - 1] as [number, number];
        stops.push({ value: [last[0], last[1], t.trialId], name: t.trialId });
      } else if (t.state === 'running' || t.state === 'queued') open.push(l); else done.push(l);
    });
    const rungs = A.rungs || [];
    note.textContent = key + ' after each epoch, every trial: ' + done.length + ' ran to the end, ' + stopped.length + ' stopped early (' + (stops.length > 1000 ? 'a dark square' : '×') + ' where they stopped)' +
      (open.length ? ', ' + open.length + ' still running' : '') + '.' +
      (rungs.length ? ' Dotted lines: the ' + A.earlyTerminate + ' rule\u2019s rungs (epochs ' + rungs.join(', ') + '), where it decides which trials go on.' : ' This sweep has no early_terminate rule.');
    // Extents from the data, rounded, so the axis ends at a label rather than at 1.01.
    let lo = Infinity, hi = -Infinity, maxEpoch = 1;
    [done, stopped, open].forEach(function (set) { set.forEach(function (l) { l.coords.forEach(function (c) { if (c[1] < lo) lo = c[1]; if (c[1] > hi) hi = c[1]; if (c[0] > maxEpoch) maxEpoch = c[0]; }); }); });
    const step = Math.pow(10, Math.floor(Math.log10((hi - lo) || 0.01)) - 1) * 5;
    const many = withCurve.length > 300;
    // One line series per group, its trials joined by gaps (a null point ends a line): ten thousand trials draw as
    // three paths instead of ten thousand series.
    const lines = function (name: string, set: Line[], color: string | undefined, width: number, type: string) {
      const pts: [number, number | null][] = [];
      set.forEach(function (l) { l.coords.forEach(function (c) { pts.push(c); }); pts.push([(l.coords[l.coords.length - 1] as [number, number])[0], null]); });
      return { name: name, type: 'line', data: pts, connectNulls: false, symbol: 'none', silent: many, color: color, animation: false,
        lineStyle: { color: color, width: width, opacity: many ? 0.25 : 0.7, type: type }, emphasis: { disabled: true } };
    };
    chart(node).setOption({
      animation: false,
      legend: { type: 'scroll', top: 0, left: 10, right: 10, data: ['completed', 'stopped early', 'running', 'stopped at'] },
      tooltip: { trigger: 'item', formatter: function (it: ChartItem<unknown[] | undefined>) { return esc(it.value && it.value[2] ? it.value[2] : it.seriesName); } },
      grid: { left: 60, right: 24, top: 56, bottom: 44 },
      xAxis: { type: 'value', name: 'epoch', nameLocation: 'middle', nameGap: 26, min: 1, minInterval: 1, max: maxEpoch },
      yAxis: { type: 'value', name: key, min: Number((Math.floor(lo / step) * step).toPrecision(6)), max: Number((Math.ceil(hi / step) * step).toPrecision(6)) },
      series: [
        lines('completed', done, palette[0], 1.5, 'solid'),
        lines('stopped early', stopped, '#94a3b8', 1, 'solid'),
        lines('running', open, palette[3], 1.5, 'dashed'),
        // A path symbol (×) costs about 0.2 ms a point in large mode: beyond a thousand stops, small squares.
        { name: 'stopped at', type: 'scatter', symbol: stops.length > 1000 ? 'rect' : 'path://M0,0L10,10M10,0L0,10', symbolSize: stops.length > 1000 ? 3 : 7,
          itemStyle: stops.length > 1000 ? {} : { borderColor: '#334155', borderWidth: 1.5, color: 'none' },
          color: '#334155', data: stops, large: stops.length > 2000,
          // Labels on the plot side of each line: on the axis side, a rung at the first epoch put its label on the
          // y axis' top value wherever a CJK font makes ECharts' line height 1 em.
          markLine: { silent: true, symbol: 'none', lineStyle: { type: 'dotted', color: '#64748b', width: 1 }, label: { formatter: 'rung {c}', fontSize: 10, position: 'insideEndBottom' },
            data: rungs.map(function (r) { return { xAxis: r }; }) } }
      ]
    });
  }

  const KIND_COLORS: Record<PageSegment['kind'], string> = { first: '#2563eb', resume: '#7c3aed', retry: '#ea580c' };
  function renderTimeline(): void {
    const node = byId('chart-timeline');
    const note = byId('timeline-note');
    const tl = A.timeline;
    if (!tl || tl.segments.length === 0) { note.textContent = ''; return empty(node, 'No finished trial yet.'); }
    const lanes = tl.workers;
    node.style.height = Math.max(220, 90 + lanes.length * 34) + 'px';
    const handedOff: Record<string, boolean> = {}, segs = tl.segments;
    segs.forEach(function (g) { if (g.outcome === 'handed-off') handedOff[g.trialId] = true; });
    const nHand = Object.keys(handedOff).length, nRetry = segs.filter(function (g) { return g.kind === 'retry'; }).length;
    note.textContent = segs.length + ' attempts of ' + new Set(segs.map(function (g) { return g.trialId; })).size + ' trials on ' + lanes.length + ' worker(s): ' +
      nHand + ' trial(s) handed off to another worker, ' + nRetry + ' attempt(s) retried from scratch' + (tl.retries.length ? ', ' + tl.retries.length + ' sweepq retry run(s)' : '') + '.' +
      (tl.exact ? '' : ' Faded bars are estimated: workers that predate result.json "attempts" do not record when an earlier attempt started or ended.');
    const items = segs.map(function (g, i) {
      return { value: [lanes.indexOf(g.worker), g.start, g.end, i], itemStyle: { color: KIND_COLORS[g.kind], opacity: g.estimated ? 0.4 : 0.9,
        borderColor: g.outcome === 'failed' ? '#111827' : null, borderWidth: g.outcome === 'failed' ? 2 : 0 } };
    });
    chart(node).setOption({
      animation: false,
      tooltip: { trigger: 'item', formatter: function (it: ChartItem<[number, number, number, number]>) {
        const g = segs[it.value[3]] as PageSegment;
        const t = function (ms: number) { return new Date(ms).toISOString().replace('T', ' ').slice(0, 19); };
        return esc(g.trialId) + ' · attempt ' + esc(g.attempt) + ' (' + esc(g.kind) + (g.fromEpoch ? ' from epoch ' + esc(g.fromEpoch) : '') + ')<br>worker ' + esc(g.worker) +
          '<br>' + esc(t(g.start)) + ' → ' + esc(t(g.end)) + ' (' + esc(((g.end - g.start) / 1000).toFixed(1)) + ' s)<br>ended: ' + esc(g.outcome) + (g.estimated ? ' (times estimated)' : '');
      } },
      grid: { left: 100, right: 24, top: 30, bottom: 64 },
      dataZoom: [{ type: 'inside', xAxisIndex: 0, filterMode: 'weakFilter' }, { type: 'slider', xAxisIndex: 0, height: 16, bottom: 6, filterMode: 'weakFilter' }],
      xAxis: { type: 'time', scale: true, splitNumber: node.clientWidth < 600 ? 3 : 8, axisLabel: { hideOverlap: true } },
      yAxis: { type: 'category', data: lanes, inverse: true },
      series: [{ type: 'custom', encode: { x: [1, 2], y: 0 }, data: items, progressive: 2000, clip: true,
        renderItem: function (params: { coordSys: ChartRect }, api: ChartRenderApi) {
          const lane = api.value(0), a = api.coord([api.value(1), lane]), b = api.coord([api.value(2), lane]);
          const h = api.size([0, 1])[1] * 0.62;
          const cs = params.coordSys;
          const shape = echarts.graphic.clipRectByRect({ x: a[0], y: a[1] - h / 2, width: Math.max(1, b[0] - a[0]), height: h }, { x: cs.x, y: cs.y, width: cs.width, height: cs.height });
          return shape && { type: 'rect', transition: [], shape: shape, style: api.style() };
        },
        markLine: { silent: true, symbol: 'none', lineStyle: { color: '#ea580c', type: 'dashed' }, label: { formatter: 'sweepq retry', fontSize: 10, position: 'start' }, // the lane axis is inverted: its start is the top
          data: tl.retries.map(function (r) { return { xAxis: r.at }; }) } }]
    });
  }

  function autoReload(): void {
    const box = document.getElementById('auto-reload') as HTMLInputElement | null;
    if (!box) return;
    box.checked = state.reload !== false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = function () { clearTimeout(timer); if (box.checked) timer = setTimeout(function () { location.reload(); }, 30000); };
    box.addEventListener('change', function () { state.reload = box.checked; saveState(); arm(); });
    arm();
  }

  // The leaderboard first (the first screen is the summary and the table): the page is shown and usable ("ready")
  // once it is drawn, and the charts follow in one later task ("drawn"), so a 10,000-trial page paints its first
  // screen before the charts' second or so of work. Milliseconds per part go to window.__sweepqTimings (benchmark).
  const timings: Record<string, number> = { scriptStart: Math.round(scriptStart), parse: Math.round(parseMs), setup: Math.round(performance.now() - scriptStart - parseMs) };
  function step(name: string, fn: () => void): void {
    const t0 = performance.now();
    fn();
    timings[name] = Math.round(performance.now() - t0);
  }
  step('table', renderTable);
  autoReload();
  timings.ready = Math.round(performance.now());
  document.body.setAttribute('data-ready', 'true');
  setTimeout(function () {
    const parts: [string, () => void][] = [['pareto', renderPareto], ['importance', renderImportance], ['history', renderHistory], ['parallel', renderParallel], ['intermediate', renderIntermediate],
      ['curves', renderCurves], ['scatter', renderScatter], ['timeline', renderTimeline], ['best', renderBest]];
    parts.forEach(function (p) { step(p[0], p[1]); });
    timings.drawn = Math.round(performance.now());
    window.__sweepqTimings = timings;
    document.body.setAttribute('data-drawn', 'true');
  }, 0);
})();
