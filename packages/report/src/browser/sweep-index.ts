// The sweep index page's script (sweepq's sweeps/index.html; see ../browser-script.ts for how it reaches the page):
// sorting and filtering of the server-rendered rows, each of which carries its sort keys as data-* attributes.
// A classic script (no imports).

(function () {
  'use strict';
  const tbody = document.querySelector('#ix-table tbody') as HTMLTableSectionElement;
  const rows: HTMLTableRowElement[] = Array.prototype.slice.call(tbody.rows);
  const filter = document.getElementById('ix-filter') as HTMLInputElement, stateSel = document.getElementById('ix-state') as HTMLSelectElement, count = document.getElementById('ix-count') as HTMLElement;
  let sort: string | null = null, dir = 1;
  function apply(): void {
    const q = filter.value.trim().toLowerCase(), st = stateSel.value;
    let n = 0;
    const list = rows.slice();
    if (sort) list.sort(function (a, b) {
      const x = a.getAttribute('data-' + sort) || '', y = b.getAttribute('data-' + sort) || '';
      if (x === '' || y === '') return x === y ? 0 : x === '' ? 1 : -1;
      const nx = Number(x), ny = Number(y);
      return dir * (isFinite(nx) && isFinite(ny) ? nx - ny : x.localeCompare(y));
    });
    const frag = document.createDocumentFragment();
    list.forEach(function (tr) {
      const ok = (!st || tr.getAttribute('data-state') === st) && (!q || (tr.textContent ?? '').toLowerCase().indexOf(q) >= 0);
      tr.hidden = !ok; if (ok) n++;
      frag.appendChild(tr);
    });
    tbody.appendChild(frag);
    count.textContent = n + ' of ' + rows.length + ' sweeps';
    Array.prototype.forEach.call(document.querySelectorAll('#ix-table thead th'), function (th: HTMLTableCellElement) {
      th.className = th.getAttribute('data-key') === sort ? (dir > 0 ? 'sorted-asc' : 'sorted-desc') : '';
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll('#ix-table thead th'), function (th: HTMLTableCellElement) {
    th.addEventListener('click', function () {
      const k = th.getAttribute('data-key');
      if (sort === k) dir = -dir; else { sort = k; dir = k === 'submitted' || k === 'finished' || k === 'best' ? -1 : 1; }
      apply();
    });
  });
  filter.addEventListener('input', apply);
  stateSel.addEventListener('change', apply);
  apply();
  const now = Math.round(performance.now());
  window.__sweepqTimings = { ready: now, drawn: now }; // for the benchmark
  document.body.setAttribute('data-ready', 'true');
})();
