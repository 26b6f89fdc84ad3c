// A pipeline's chart: one aggregate field over time, one line per group key
// (the top N by total), a time range picker, and, when opened from an
// alert, the alert's window marked.
import uPlot from 'uplot';
import { h, clear, toast } from '../dom';
import { api, PipelineStatus, SeriesResponse } from '../api';
import { si, withUnit, unitOf, durationMs, utc, tagLabel, palette, timeTicks, timeMs, span } from '../format';

const RANGES: [string, number][] = [['5m', 5 * 60e3], ['15m', 15 * 60e3], ['1h', 3600e3], ['6h', 6 * 3600e3], ['24h', 24 * 3600e3], ['7d', 7 * 86400e3]];
const TOPS = [5, 10, 20, 50];
const AUTO_REFRESH_MS = 10000;

// hl is the label of the series an alert was raised on, drawn thicker.
interface State { field: string; range: string; from?: number; to?: number; top: number; mark?: number; perSec: boolean; hl?: string; log: boolean; }

function readState(): State {
  const q = new URLSearchParams(location.search);
  const num = (k: string) => (q.get(k) && isFinite(Number(q.get(k))) ? Number(q.get(k)) : undefined);
  const from = num('from'), to = num('to');
  return {
    field: q.get('field') ?? '',
    range: from !== undefined && to !== undefined ? '' : (q.get('range') ?? '15m'),
    from, to,
    top: num('top') ?? 10,
    mark: num('mark'),
    perSec: q.get('per') === 's',
    hl: q.get('hl') ?? undefined,
    log: q.get('scale') === 'log',
  };
}

function writeState(s: State) {
  const q = new URLSearchParams();
  if (s.field) q.set('field', s.field);
  if (s.range) q.set('range', s.range);
  else { q.set('from', String(s.from)); q.set('to', String(s.to)); }
  q.set('top', String(s.top));
  if (s.mark !== undefined) q.set('mark', String(s.mark));
  if (s.perSec) q.set('per', 's');
  if (s.hl !== undefined) q.set('hl', s.hl);
  if (s.log) q.set('scale', 'log');
  history.replaceState(null, '', `${location.pathname}?${q}`);
}

// datetime-local inputs are shown and read as UTC.
const toInput = (ms: number) => new Date(ms).toISOString().slice(0, 16);
const fromInput = (v: string) => Date.parse(v + ':00Z');

export function chartPage(root: HTMLElement, params: Record<string, string>): () => void {
  const name = params.name;
  const st = readState();
  let pipe: PipelineStatus | undefined;
  let plot: uPlot | null = null;
  let stopped = false;
  let timer: ReturnType<typeof setInterval> | undefined;
  let seq = 0; // only the newest request draws
  let pressed = false; // no auto-refresh under a drag

  const fieldSel = h('select', { id: 'field', 'aria-label': 'Field' });
  const topSel = h('select', { id: 'top-keys', 'aria-label': 'Top keys' }, TOPS.map((n) => h('option', { value: n, selected: n === st.top }, `top ${n}`)));
  const perSel = h('select', { id: 'per', 'aria-label': 'Per' }, h('option', { value: 'w', selected: !st.perSec }, 'per window'), h('option', { value: 's', selected: st.perSec }, 'per second'));
  const scaleSel = h('select', { id: 'scale', 'aria-label': 'Y scale' }, h('option', { value: 'lin', selected: !st.log }, 'linear'), h('option', { value: 'log', selected: st.log }, 'log scale'));
  const rangeBtns = h('div', { class: 'seg', role: 'group', 'aria-label': 'Time range' });
  const fromIn = h('input', { type: 'datetime-local', id: 'from', 'aria-label': 'From (UTC)' });
  const toIn = h('input', { type: 'datetime-local', id: 'to', 'aria-label': 'To (UTC)' });
  const chartEl = h('div', { id: 'chart', class: 'chart', 'data-points': 0, 'data-series': 0 });
  const info = h('div', { class: 'muted small', id: 'chart-info' });
  const topTable = h('div', { class: 'panel', id: 'topn' });
  const title = h('h1', null, name);
  const sub = h('span', { class: 'muted small' });

  clear(root,
    h('div', { class: 'titlebar' }, title, sub),
    h('div', { class: 'toolbar' },
      h('label', null, 'field ', fieldSel), topSel, perSel, scaleSel, rangeBtns,
      h('span', { class: 'custom' }, fromIn, '→', toIn, h('span', { class: 'muted small', title: 'or drag across the chart to zoom' }, 'UTC'),
        h('button', { type: 'button', onclick: () => {
          const f = fromInput(fromIn.value), t = fromInput(toIn.value);
          if (!(f < t)) { toast('From must be before To', 'err'); return; }
          Object.assign(st, { range: '', from: f, to: t });
          load();
        } }, 'apply'))),
    h('div', { class: 'panel chart-panel' }, chartEl, info),
    h('h2', null, 'Top keys'), topTable,
  );

  function renderRangeButtons() {
    clear(rangeBtns, RANGES.map(([label]) => h('button', { type: 'button', class: st.range === label ? 'on' : null, onclick: () => {
      Object.assign(st, { range: label, from: undefined, to: undefined });
      load();
    } }, label)));
  }

  // A relative range ends now, unless the newest window is more than three
  // windows away from the wall clock (a replay, the demo's simulated time,
  // a stalled input): then it ends at that window, and the page says so.
  let anchorNote = '';
  function timeSpan(): [number, number] {
    anchorNote = '';
    if (!st.range) return [st.from!, st.to!];
    const width = RANGES.find(([l]) => l === st.range)?.[1] ?? 15 * 60e3;
    let to = Date.now();
    const last = timeMs(pipe?.last_window);
    const win = durationMs(pipe?.window ?? '') || 10000;
    if (last !== undefined && Math.abs(to - (last + win)) > 3 * win) {
      const lag = to - (last + win);
      to = last + win;
      anchorNote = ` · range ends at the newest window, ${span(Math.abs(lag))} ${lag > 0 ? 'behind' : 'ahead of'} the wall clock`;
    }
    return [to - width, to];
  }

  fieldSel.addEventListener('change', () => { st.field = fieldSel.value; load(); });
  topSel.addEventListener('change', () => { st.top = Number(topSel.value); load(); });
  perSel.addEventListener('change', () => { st.perSec = perSel.value === 's'; load(); });
  scaleSel.addEventListener('change', () => { st.log = scaleSel.value === 'log'; load(); });

  async function load() {
    if (!pipe) return;
    const my = ++seq;
    if (st.range) {
      // The newest window moves on: re-read it for the anchor.
      try { pipe = (await api.overview()).pipelines.find((p) => p.name === name) ?? pipe; } catch { /* keep the last */ }
      if (stopped || my !== seq) return;
    }
    renderRangeButtons();
    writeState(st);
    const [from, to] = timeSpan();
    fromIn.value = toInput(from);
    toIn.value = toInput(to);
    clearInterval(timer);
    if (st.range) timer = setInterval(() => { if (!pressed) load(); }, AUTO_REFRESH_MS);
    try {
      let res = await api.series(name, { field: st.field, from: Math.floor(from), to: Math.ceil(to), top: st.top });
      if (stopped || my !== seq) return;
      if (st.hl !== undefined && !res.series.some((x) => tagLabel(x.tags) === st.hl)) {
        // The alert's series is not among the top keys: ask for more and
        // show it beside them, since it is what the operator came for.
        const wide = await api.series(name, { field: st.field, from: Math.floor(from), to: Math.ceil(to), top: 100 });
        if (stopped || my !== seq) return;
        const extra = wide.series.find((x) => tagLabel(x.tags) === st.hl);
        if (extra) res = { ...res, series: [...res.series, extra] };
      }
      draw(res, from, to);
    } catch (e) {
      if (stopped || my !== seq) return;
      plot?.destroy();
      plot = null;
      chartEl.dataset.points = '0';
      chartEl.dataset.times = '0';
      clear(chartEl, h('p', { class: 'empty err' }, `Cannot load the series: ${(e as Error).message}`));
    }
  }

  function draw(res: SeriesResponse, from: number, to: number) {
    const winMs = durationMs(res.window) || 10000;
    const div = st.perSec ? winMs / 1000 : 1;
    const unit = unitOf(res.field);
    const times = [...new Set(res.series.flatMap((s) => s.times ?? []))].sort((a, b) => a - b);
    const index = new Map(times.map((t, i) => [t, i]));
    let points = 0;
    const columns = res.series.map((s) => {
      const col: (number | null)[] = new Array(times.length).fill(null);
      (s.times ?? []).forEach((t, i) => {
        const v = (s.values ?? [])[i] / div;
        col[index.get(t)!] = st.log && v <= 0 ? null : v; // log scale has no zero
        points++;
      });
      return col;
    });
    chartEl.dataset.points = String(points);
    chartEl.dataset.series = String(res.series.length);
    chartEl.dataset.times = String(times.length);
    chartEl.dataset.field = res.field;
    chartEl.dataset.from = String(from);
    chartEl.dataset.to = String(to);
    const unitLabel = `${unit === 'distinct' || unit === 'records' ? unit : unit || 'value'} ${st.perSec ? 'per second' : `per ${res.window} window`}`;
    chartEl.dataset.ylabel = `${res.field} (${unitLabel})`;
    info.textContent = `${res.series.length} keys · ${points} points · ${utc(from)} → ${utc(to)} UTC · window ${res.window}` +
      anchorNote + (st.mark !== undefined ? ` · alert window ${utc(st.mark)}` : '') +
      (st.hl !== undefined ? (res.series.some((s) => tagLabel(s.tags) === st.hl) ? ` · alert series ${st.hl} drawn thick` : ` · alert series ${st.hl} has no points here`) : '');
    plot?.destroy();
    plot = null;
    if (points === 0) {
      clear(chartEl, h('p', { class: 'empty' }, `No points for ${res.field} in this range.`));
      clear(topTable);
      return;
    }
    clear(chartEl);
    const mark = st.mark;
    const fmt = (v: number | null) => (v === null ? '–' : withUnit(v, unit === 'distinct' || unit === 'records' ? '' : unit + (st.perSec ? '/s' : '')));
    const opts: uPlot.Options = {
      width: Math.max(chartEl.clientWidth, 400),
      height: 360,
      ms: 1,
      tzDate: (ts) => uPlot.tzDate(new Date(ts), 'Etc/UTC'),
      scales: { x: { time: true, range: () => [from, to] }, // Log scale for keys of very different size (one flooded host among quiet ones).
        y: st.log ? { distr: 3 } : { range: (_u, _min, max) => [0, max > 0 ? max * 1.05 : 1] } },
      axes: [
        { stroke: '#9aa4b2', grid: { stroke: '#252b36', width: 1 }, ticks: { stroke: '#252b36' }, values: (_u, splits) => timeTicks(splits, to - from) },
        { stroke: '#9aa4b2', grid: { stroke: '#252b36', width: 1 }, ticks: { stroke: '#252b36' }, size: 70,
          label: chartEl.dataset.ylabel, labelSize: 18, labelFont: '12px system-ui, sans-serif',
          values: (_u, vals) => vals.map((v) => (v === null || v === undefined ? "" : si(v))) },
      ],
      series: [
        { label: 'time (UTC)', value: (_u, v) => (v === null ? '–' : utc(v)) },
        ...res.series.map((s, i) => ({
          label: tagLabel(s.tags), stroke: palette[i % palette.length], width: st.hl === undefined ? 1.5 : tagLabel(s.tags) === st.hl ? 3 : 1, spanGaps: false,
          points: { show: times.length < 120, size: 4 }, value: (_u: uPlot, v: number | null) => fmt(v),
        })),
      ],
      legend: { live: true },
      // Dragging across the chart selects a new range, read afresh from the API.
      cursor: { points: { size: 6 }, drag: { x: true, y: false, setScale: false } },
      hooks: {
        // Off the plot, the legend shows the newest window's values.
        ready: [(u: uPlot) => u.setLegend({ idx: times.length - 1 }, false)],
        setLegend: [(u: uPlot) => { if (u.legend.idx == null) u.setLegend({ idx: times.length - 1 }, false); }],
        setSelect: [(u: uPlot) => {
          if (u.select.width < 5) return;
          const f = u.posToVal(u.select.left, 'x'), t = u.posToVal(u.select.left + u.select.width, 'x');
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          Object.assign(st, { range: '', from: Math.floor(f), to: Math.ceil(t) });
          load();
        }],
        drawClear: [(u: uPlot) => {
          if (mark === undefined) return;
          // The alert's window as a band, under the lines.
          const x0 = u.valToPos(mark, 'x', true), x1 = u.valToPos(mark + winMs, 'x', true);
          const { top, height } = u.bbox;
          u.ctx.save();
          u.ctx.fillStyle = 'rgba(255, 82, 82, 0.22)';
          u.ctx.fillRect(x0, top, Math.max(x1 - x0, 3), height);
          u.ctx.strokeStyle = 'rgba(255, 82, 82, 0.9)';
          u.ctx.lineWidth = 1;
          u.ctx.strokeRect(x0, top, Math.max(x1 - x0, 3), height);
          u.ctx.fillStyle = '#ff8a80';
          u.ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
          u.ctx.fillText('alert window', x1 + 4, top + 14 * devicePixelRatio);
          u.ctx.restore();
        }],
      },
    };
    plot = new uPlot(opts, [times, ...columns] as uPlot.AlignedData, chartEl);
    if (mark !== undefined) chartEl.dataset.mark = String(mark);
    renderTop(res, columns, fmt);
  }

  function renderTop(res: SeriesResponse, columns: (number | null)[][], fmt: (v: number | null) => string) {
    const rows = res.series.map((s, i) => {
      const vals = columns[i].filter((v): v is number => v !== null);
      const total = vals.reduce((a, b) => a + b, 0);
      return { i, label: tagLabel(s.tags), total, max: Math.max(...vals), last: vals[vals.length - 1], n: vals.length };
    });
    const sum = rows.reduce((a, r) => a + r.total, 0) || 1;
    clear(topTable, h('table', { class: 'grid' },
      h('thead', null, h('tr', null, h('th', null, ''), h('th', null, (pipe?.group_by ?? []).join(', ') || 'key'),
        h('th', { class: 'num' }, st.perSec ? 'mean' : 'total'), h('th', { class: 'num' }, 'share'), h('th', { class: 'num' }, 'max'),
        h('th', { class: 'num' }, 'last'), h('th', { class: 'num' }, 'windows'))),
      h('tbody', null, rows.map((r) => {
        const tr = h('tr', { class: 'clickable', title: 'show/hide this series', onclick: () => {
          if (!plot) return;
          const show = !plot.series[r.i + 1].show;
          plot.setSeries(r.i + 1, { show });
          tr.classList.toggle('off', !show);
        } },
        h('td', null, h('span', { class: 'swatch', style: `background:${palette[r.i % palette.length]}` })),
        h('td', null, r.label),
        h('td', { class: 'num strong' }, fmt(st.perSec ? r.total / r.n : r.total)),
        h('td', { class: 'num' }, h('span', { class: 'bar', style: `width:${Math.round((r.total / sum) * 60)}px` }), ` ${((r.total / sum) * 100).toFixed(1)}%`),
        h('td', { class: 'num' }, fmt(r.max)), h('td', { class: 'num' }, fmt(r.last)), h('td', { class: 'num' }, r.n));
        return tr;
      }))));
  }

  chartEl.addEventListener('mousedown', () => { pressed = true; });
  const onUp = () => { pressed = false; };
  addEventListener('mouseup', onUp);
  const onResize = () => { if (plot) plot.setSize({ width: Math.max(chartEl.clientWidth, 400), height: 360 }); };
  addEventListener('resize', onResize);

  api.overview().then((ov) => {
    pipe = ov.pipelines.find((p) => p.name === name);
    if (!pipe) {
      clear(root, h('h1', null, name), h('p', { class: 'empty err' }, `No pipeline named "${name}".`), h('a', { href: '/' }, 'Back to the overview'));
      return;
    }
    const fields = pipe.fields ?? [];
    if (!fields.includes(st.field)) st.field = fields[0] ?? '';
    clear(fieldSel, fields.map((f) => h('option', { value: f, selected: f === st.field }, f)));
    sub.textContent = `window ${pipe.window} · group by ${(pipe.group_by ?? []).join(', ') || '–'} · ${si(pipe.records_per_sec)} records/s`;
    load();
  }).catch((e) => clear(chartEl, h('p', { class: 'empty err' }, `Cannot reach the API: ${(e as Error).message}`)));

  return () => { stopped = true; clearInterval(timer); removeEventListener('resize', onResize); removeEventListener('mouseup', onUp); plot?.destroy(); };
}
