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
#lb-table th, #lb-table td { padding: 3px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
#lb-table td.num { text-align: right; font-variant-numeric: tabular-nums; }
#lb-table thead th { position: sticky; top: 0; background: var(--bg); cursor: pointer; user-select: none; text-align: left; }
#lb-table thead th.sorted-asc::after { content: " ▲"; } #lb-table thead th.sorted-desc::after { content: " ▼"; }
#lb-table tbody tr:hover { background: #f1f5f9; }
#lb-table tbody tr.best { background: #f0fdf4; }
#lb-table td.err { color: #b91c1c; max-width: 360px; overflow: hidden; text-overflow: ellipsis; }
.hint { color: var(--muted); font-size: 12px; margin: 4px 0; }
.chart { width: 100%; height: 340px; }
.chart.tall { height: 420px; } .chart.short { height: 220px; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
.grid3 { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 16px; }
.grid3 .chart { height: 280px; border: 1px solid var(--line); }
#per-class th, #per-class td { padding: 3px 10px; border-bottom: 1px solid var(--line); text-align: right; }
#per-class th:first-child, #per-class td:first-child { text-align: left; }
.empty { color: var(--muted); padding: 24px; border: 1px dashed var(--line); text-align: center; }
.reload { margin-left: 12px; }
`;

/**
 * The page's own script (plain ES2019, no dependencies but the inlined ECharts). It reads the embedded JSON, builds
 * the leaderboard (sorting, filtering, paging, all in memory; only the current page is in the DOM, so 1,000 trials
 * stay fast) and the charts. Data reaches the DOM only through `textContent`, attributes set with `setAttribute`,
 * and chart tooltips built from escaped text.
 */
export const CLIENT_SCRIPT = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('sweepq-data').textContent);
  var M = data.metric.name;
  var maximize = data.metric.goal === 'maximize';
  var trials = data.trials;
  var params = data.parameters.filter(function (p) { return p.varying; });
  var STORE_KEY = 'sweepq-report:' + data.sweepId;
  var state = loadState();
  var charts = [];
  var palette = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#be185d', '#4d7c0f', '#a16207', '#475569'];

  function loadState() {
    var s = { sort: null, dir: 1, filter: '', st: '', size: 50, page: 0, picked: [], reload: true };
    try { var j = JSON.parse(sessionStorage.getItem(STORE_KEY) || 'null'); if (j) for (var k in s) if (Object.prototype.hasOwnProperty.call(j, k)) s[k] = j[k]; } catch (e) { /* storage unavailable */ }
    return s;
  }
  function saveState() { try { sessionStorage.setItem(STORE_KEY, JSON.stringify(state)); } catch (e) { /* storage unavailable */ } }
  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]; }); }
  function isNum(v) { return typeof v === 'number' && isFinite(v); }
  function fmt(v, digits) {
    if (v === null || v === undefined) return '–';
    if (typeof v !== 'number') return String(v);
    if (!isFinite(v)) return '–';
    if (Number.isInteger(v)) return String(v);
    var a = Math.abs(v);
    if (a !== 0 && (a < 0.001 || a >= 1e6)) return v.toExponential(2);
    return v.toFixed(digits === undefined ? 4 : digits);
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function empty(node, text) { node.textContent = ''; node.appendChild(el('div', 'empty', text)); }
  function chart(node) {
    var c = echarts.init(node, null, { renderer: 'canvas' });
    charts.push(c);
    return c;
  }
  window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });

  // ---- leaderboard ----
  var columns = [
    { key: 'pick', label: '', get: function (t) { return state.picked.indexOf(t.trialId) >= 0 ? 1 : 0; }, pick: true },
    { key: 'rank', label: '#', get: function (t) { return t.rank; }, num: true },
    { key: 'trial', label: 'trial', get: function (t) { return t.trialId; } },
    { key: 'state', label: 'state', get: function (t) { return t.reason ? t.state + ' (' + t.reason + ')' : t.state; } },
    { key: M, label: M, get: function (t) { return t.metric; }, num: true },
    { key: 'val_loss', label: 'val_loss', get: function (t) { return t.final ? t.final.val_loss : null; }, num: true },
    { key: 'val_accuracy', label: 'val_accuracy', get: function (t) { return t.final ? t.final.val_accuracy : null; }, num: true },
    { key: 'loss', label: 'loss', get: function (t) { return t.final ? t.final.loss : null; }, num: true },
    { key: 'accuracy', label: 'accuracy', get: function (t) { return t.final ? t.final.accuracy : null; }, num: true },
    { key: 'test_accuracy', label: 'test_acc', get: function (t) { return t.testAccuracy; }, num: true },
    { key: 'epochs', label: 'epochs', get: function (t) { return t.epochs; }, num: true },
    { key: 'duration', label: 'sec', get: function (t) { return t.durationSec; }, num: true, digits: 1 },
    { key: 'samples_per_sec', label: 'samples/s', get: function (t) { return t.samplesPerSec; }, num: true, digits: 0 },
    { key: 'backend', label: 'backend', get: function (t) { return t.backend; } }
  ];
  // The metric is one of the final-epoch columns too; show it once, first.
  columns = columns.filter(function (c, i) { return i === 4 || c.key !== M; });
  params.forEach(function (p) {
    columns.push({ key: p.name, label: p.name, get: function (t) { return t.params[p.name]; }, num: p.type === 'numeric', digits: 6 });
  });
  columns.push({ key: 'error', label: 'error', get: function (t) { return t.error || ''; }, err: true });

  var table = document.getElementById('lb-table');
  var thead = table.tHead, tbody = table.tBodies[0];
  var colByKey = {};
  columns.forEach(function (c) { colByKey[c.key.toLowerCase()] = c; colByKey[c.label.toLowerCase()] = c; });
  (function header() {
    var tr = document.createElement('tr');
    columns.forEach(function (c) {
      var th = el('th', null, c.label);
      th.setAttribute('data-key', c.key);
      if (c.pick) th.title = 'shown in the learning curves';
      th.addEventListener('click', function () {
        if (state.sort === c.key) state.dir = -state.dir; else { state.sort = c.key; state.dir = c.num && c.key !== 'rank' && !(c.key === M && !maximize) ? -1 : 1; }
        state.page = 0; saveState(); renderTable();
      });
      tr.appendChild(th);
    });
    thead.appendChild(tr);
  })();
  var stateSel = document.getElementById('lb-state');
  Array.from(new Set(trials.map(function (t) { return t.state; }))).sort().forEach(function (s) {
    var o = el('option', null, s); o.value = s; stateSel.appendChild(o);
  });
  var filterInput = document.getElementById('lb-filter');
  var sizeSel = document.getElementById('lb-size');
  filterInput.value = state.filter; stateSel.value = state.st; sizeSel.value = String(state.size);
  var filterTimer = null;
  filterInput.addEventListener('input', function () {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(function () { state.filter = filterInput.value; state.page = 0; saveState(); renderTable(); }, 120);
  });
  stateSel.addEventListener('change', function () { state.st = stateSel.value; state.page = 0; saveState(); renderTable(); });
  sizeSel.addEventListener('change', function () { state.size = Number(sizeSel.value); state.page = 0; saveState(); renderTable(); });
  document.getElementById('lb-prev').addEventListener('click', function () { state.page = Math.max(0, state.page - 1); saveState(); renderTable(); });
  document.getElementById('lb-next').addEventListener('click', function () { state.page += 1; saveState(); renderTable(); });

  // "lstm_units=32 state=completed adam" -> every term must match; name<op>value compares that column.
  function compileFilter(text) {
    var terms = text.trim().toLowerCase().split(/\s+/).filter(Boolean);
    return terms.map(function (term) {
      var m = /^([a-z_/#]+)(<=|>=|!=|=|<|>)(.+)$/.exec(term);
      var col = m && colByKey[m[1]];
      if (!col) return function (t) { return rowText(t).indexOf(term) >= 0; };
      var op = m[2], want = m[3], wantNum = Number(want);
      return function (t) {
        var v = col.get(t);
        if (v === null || v === undefined) return op === '!=';
        if (isNum(v) && isFinite(wantNum)) {
          switch (op) { case '=': return v === wantNum; case '!=': return v !== wantNum; case '<': return v < wantNum; case '>': return v > wantNum; case '<=': return v <= wantNum; default: return v >= wantNum; }
        }
        var s = String(v).toLowerCase();
        return op === '!=' ? s !== want : op === '=' ? s === want || s.indexOf(want) === 0 : false;
      };
    });
  }
  var textCache = new Map();
  function rowText(t) {
    var s = textCache.get(t);
    if (s === undefined) { s = columns.map(function (c) { var v = c.get(t); return v === null || v === undefined ? '' : String(v); }).join(' ').toLowerCase(); textCache.set(t, s); }
    return s;
  }
  function visibleRows() {
    var preds = compileFilter(state.filter);
    var rows = trials.filter(function (t) {
      if (state.st && t.state !== state.st) return false;
      for (var i = 0; i < preds.length; i++) if (!preds[i](t)) return false;
      return true;
    });
    var col = state.sort && columns.filter(function (c) { return c.key === state.sort; })[0];
    if (col) {
      var dir = state.dir;
      rows = rows.map(function (t, i) { return { t: t, v: col.get(t), i: i }; });
      rows.sort(function (a, b) {
        var an = a.v === null || a.v === undefined || a.v === '' || (typeof a.v === 'number' && !isFinite(a.v));
        var bn = b.v === null || b.v === undefined || b.v === '' || (typeof b.v === 'number' && !isFinite(b.v));
        if (an || bn) return an === bn ? a.i - b.i : an ? 1 : -1; // empty values last in both directions
        var c = typeof a.v === 'number' && typeof b.v === 'number' ? a.v - b.v : String(a.v).localeCompare(String(b.v), undefined, { numeric: true });
        return c !== 0 ? dir * c : a.i - b.i;
      });
      rows = rows.map(function (r) { return r.t; });
    }
    return rows;
  }
  function renderTable() {
    var rows = visibleRows();
    var size = state.size > 0 ? state.size : rows.length || 1;
    var pages = Math.max(1, Math.ceil(rows.length / size));
    if (state.page >= pages) state.page = pages - 1;
    var shown = rows.slice(state.page * size, state.page * size + size);
    var frag = document.createDocumentFragment();
    var bestId = data.best && data.best.trialId;
    shown.forEach(function (t) {
      var tr = document.createElement('tr');
      tr.setAttribute('data-trial', t.trialId);
      if (t.trialId === bestId) tr.className = 'best';
      columns.forEach(function (c) {
        var td;
        if (c.pick) {
          td = el('td');
          var cb = document.createElement('input');
          cb.type = 'checkbox'; cb.checked = state.picked.indexOf(t.trialId) >= 0;
          cb.setAttribute('aria-label', 'show learning curves of ' + t.trialId);
          cb.addEventListener('change', function () { togglePick(t.trialId, cb.checked); });
          td.appendChild(cb);
        } else if (c.key === 'state') {
          td = el('td'); td.appendChild(el('span', 'state state-' + t.state, c.get(t)));
        } else {
          var v = c.get(t);
          td = el('td', c.num ? 'num' : c.err ? 'err' : null, c.num ? fmt(v, c.digits) : v === null || v === undefined ? '–' : String(v));
          if (c.err && v) td.setAttribute('title', v);
        }
        tr.appendChild(td);
      });
      frag.appendChild(tr);
    });
    tbody.textContent = '';
    tbody.appendChild(frag);
    Array.prototype.forEach.call(thead.rows[0].cells, function (th) {
      var k = th.getAttribute('data-key');
      th.className = k === state.sort ? (state.dir > 0 ? 'sorted-asc' : 'sorted-desc') : '';
    });
    document.getElementById('lb-count').textContent = rows.length + ' of ' + trials.length + ' trials';
    document.getElementById('lb-page').textContent = 'page ' + (state.page + 1) + ' / ' + pages;
    document.getElementById('lb-prev').disabled = state.page === 0;
    document.getElementById('lb-next').disabled = state.page >= pages - 1;
  }
  function togglePick(id, on) {
    var i = state.picked.indexOf(id);
    if (on && i < 0) state.picked.push(id);
    if (!on && i >= 0) state.picked.splice(i, 1);
    saveState(); renderCurves();
  }

  // ---- charts ----
  var ranked = trials.filter(function (t) { return t.rank !== null && isNum(t.metric); });
  var metricValues = ranked.map(function (t) { return t.metric; });
  var mMin = Math.min.apply(null, metricValues), mMax = Math.max.apply(null, metricValues);
  if (mMin === mMax) { mMin -= 0.5; mMax += 0.5; }
  var metricColors = maximize ? ['#d73027', '#fee08b', '#1a9850'] : ['#1a9850', '#fee08b', '#d73027'];

  function axisType(p) { return p.values ? 'category' : p.log ? 'log' : 'value'; }
  function axisValue(p, v) { return p.values ? String(v) : v; }

  function renderParallel() {
    var node = document.getElementById('chart-parallel');
    if (ranked.length === 0) return empty(node, 'No completed trial with a ' + M + ' value yet.');
    if (params.length === 0) return empty(node, 'No parameter varies in this sweep.');
    var axes = params.map(function (p, i) {
      var a = { dim: i, name: p.name, type: axisType(p), nameLocation: 'end' };
      if (p.values) a.data = p.values.map(String); else a.scale = true;
      return a;
    });
    axes.push({ dim: params.length, name: M, type: 'value', scale: true, nameTextStyle: { fontWeight: 'bold' } });
    var rows = ranked.map(function (t) {
      var r = params.map(function (p) { return axisValue(p, t.params[p.name]); });
      r.push(t.metric);
      return { value: r, name: t.trialId };
    });
    chart(node).setOption({
      animation: false,
      parallel: { left: 60, right: 110, top: 50, bottom: 30, parallelAxisDefault: { nameGap: 14, nameTextStyle: { fontSize: 12 } } },
      parallelAxis: axes,
      visualMap: { type: 'continuous', dimension: params.length, min: mMin, max: mMax, calculable: true, right: 0, top: 40, itemHeight: 200, inRange: { color: metricColors }, precision: 3 },
      series: [{ type: 'parallel', lineStyle: { width: ranked.length > 200 ? 1 : 2, opacity: ranked.length > 200 ? 0.35 : 0.7 }, emphasis: { lineStyle: { width: 3, opacity: 1 } }, progressive: 500, data: rows }]
    });
  }

  var CURVE_TOP = 5;
  function renderCurves() {
    var top = ranked.slice(0, CURVE_TOP).map(function (t) { return t.trialId; });
    var ids = top.concat(state.picked.filter(function (id) { return top.indexOf(id) < 0; }));
    var byId = {};
    trials.forEach(function (t) { byId[t.trialId] = t; });
    ids = ids.filter(function (id) { return byId[id] && byId[id].curve.epoch.length > 0; });
    if (ids.length === 0) {
      var open = trials.filter(function (t) { return t.curve.epoch.length > 0; }).slice(0, CURVE_TOP);
      ids = open.map(function (t) { return t.trialId; });
    }
    document.getElementById('curves-note').textContent = ids.length
      ? 'Showing ' + ids.join(', ') + ' (top ' + CURVE_TOP + ' by ' + M + ', plus trials ticked in the leaderboard). Solid: validation; dashed: training.'
      : '';
    [['chart-loss', 'loss', 'Loss'], ['chart-accuracy', 'accuracy', 'Accuracy']].forEach(function (spec) {
      var node = document.getElementById(spec[0]);
      if (ids.length === 0) return empty(node, 'No epoch finished yet.');
      var series = [];
      ids.forEach(function (id, i) {
        var t = byId[id], color = palette[i % palette.length];
        var pts = function (key) { return t.curve.epoch.map(function (e, j) { var v = t.curve[key][j]; return [e, isNum(v) ? v : null]; }); };
        series.push({ name: id, type: 'line', data: pts('val_' + spec[1]), color: color, lineStyle: { width: 2 }, symbolSize: 5, connectNulls: false });
        series.push({ name: id + ' train', type: 'line', data: pts(spec[1]), color: color, lineStyle: { width: 1.5, type: 'dashed' }, symbol: 'none' });
      });
      var c = node.__chart || (node.__chart = chart(node));
      c.setOption({
        animation: false,
        title: { text: spec[2], left: 'center', textStyle: { fontSize: 14 } },
        tooltip: { trigger: 'axis', formatter: function (items) {
          return 'epoch ' + esc(items[0] ? items[0].value[0] : '') + '<br>' + items.map(function (it) { return esc(it.seriesName) + ': ' + esc(fmt(it.value[1])); }).join('<br>');
        } },
        legend: { type: 'scroll', bottom: 0, data: ids },
        grid: { left: 60, right: 20, top: 40, bottom: 50 },
        xAxis: { type: 'value', name: 'epoch', min: 'dataMin', max: 'dataMax', minInterval: 1, nameLocation: 'middle', nameGap: 24 },
        yAxis: { type: 'value', scale: true },
        series: series
      }, true);
    });
  }

  function renderScatter() {
    var grid = document.getElementById('scatter-grid');
    if (ranked.length === 0) return empty(grid, 'No completed trial with a ' + M + ' value yet.');
    if (params.length === 0) return empty(grid, 'No parameter varies in this sweep.');
    params.forEach(function (p) {
      var node = el('div', 'chart');
      node.setAttribute('data-param', p.name);
      grid.appendChild(node);
      var x = { type: axisType(p), name: p.name + (p.log ? ' (log)' : ''), nameLocation: 'middle', nameGap: 28 };
      if (p.values) x.data = p.values.map(String); else { x.scale = true; if (!p.log) x.boundaryGap = ['4%', '4%']; }
      chart(node).setOption({
        animation: false,
        grid: { left: 60, right: 20, top: 20, bottom: 50 },
        tooltip: { trigger: 'item', formatter: function (it) {
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

  function renderBest() {
    var note = document.getElementById('best-note');
    var cm = document.getElementById('chart-confusion');
    var ev = data.best && data.best.evaluation;
    if (!ev) {
      note.textContent = data.best ? 'Trial ' + data.best.trialId + ' has no held-out evaluation.' : 'No completed trial yet.';
      empty(cm, 'No confusion matrix.');
      document.getElementById('per-class').style.display = 'none';
      return;
    }
    var n = ev.confusion.reduce(function (a, r) { return a + r.reduce(function (x, y) { return x + y; }, 0); }, 0);
    note.textContent = 'Trial ' + data.best.trialId + ' on the ' + ev.split + ' split (' + n + ' examples): accuracy ' + fmt(ev.accuracy) + '.';
    var cells = [], max = 0;
    ev.confusion.forEach(function (row, a) { row.forEach(function (v, p) { cells.push([p, a, v]); if (v > max) max = v; }); });
    chart(cm).setOption({
      animation: false,
      title: { text: 'Confusion matrix', left: 'center', textStyle: { fontSize: 14 } },
      tooltip: { formatter: function (it) { return 'actual ' + esc(ev.classes[it.value[1]]) + '<br>predicted ' + esc(ev.classes[it.value[0]]) + ': ' + esc(it.value[2]); } },
      grid: { left: 100, right: 20, top: 40, bottom: 60 },
      xAxis: { type: 'category', data: ev.classes, name: 'predicted', nameLocation: 'middle', nameGap: 30, splitArea: { show: true } },
      yAxis: { type: 'category', data: ev.classes, name: 'actual', nameLocation: 'middle', nameGap: 80, inverse: true, splitArea: { show: true } },
      visualMap: { show: false, min: 0, max: Math.max(1, max), inRange: { color: ['#f8fafc', '#1d4ed8'] } },
      series: [{ type: 'heatmap', data: cells, label: { show: true } }]
    });
    var t = document.getElementById('per-class');
    var hr = document.createElement('tr');
    ['class', 'precision', 'recall', 'F1', 'support'].forEach(function (h) { hr.appendChild(el('th', null, h)); });
    t.tHead.appendChild(hr);
    ev.perClass.forEach(function (c) {
      var tr = document.createElement('tr');
      tr.appendChild(el('td', null, c.label));
      tr.appendChild(el('td', null, fmt(c.precision, 3)));
      tr.appendChild(el('td', null, fmt(c.recall, 3)));
      tr.appendChild(el('td', null, fmt(c.f1, 3)));
      tr.appendChild(el('td', null, c.support));
      t.tBodies[0].appendChild(tr);
    });
    chart(document.getElementById('chart-per-class')).setOption({
      animation: false,
      tooltip: { trigger: 'axis', formatter: function (items) { return esc(items[0] ? items[0].name : '') + '<br>' + items.map(function (it) { return esc(it.seriesName) + ': ' + esc(fmt(it.value, 3)); }).join('<br>'); } },
      legend: { top: 0 },
      grid: { left: 50, right: 10, top: 30, bottom: 30 },
      xAxis: { type: 'category', data: ev.perClass.map(function (c) { return c.label; }) },
      yAxis: { type: 'value', min: 0, max: 1 },
      series: [
        { name: 'precision', type: 'bar', data: ev.perClass.map(function (c) { return c.precision; }) },
        { name: 'recall', type: 'bar', data: ev.perClass.map(function (c) { return c.recall; }) }
      ]
    });
  }

  function autoReload() {
    var box = document.getElementById('auto-reload');
    if (!box) return;
    box.checked = state.reload !== false;
    var timer = null;
    var arm = function () { clearTimeout(timer); if (box.checked) timer = setTimeout(function () { location.reload(); }, 30000); };
    box.addEventListener('change', function () { state.reload = box.checked; saveState(); arm(); });
    arm();
  }

  renderTable();
  renderParallel();
  renderCurves();
  renderScatter();
  renderBest();
  autoReload();
  document.body.setAttribute('data-ready', 'true');
})();
`;
