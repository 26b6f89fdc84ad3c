// Overview: health, every pipeline's counters (refreshed every 2 s, with a
// records/s sparkline kept in the page), the latest alerts.
import { h, clear, showHealth } from '../dom';
import { api, Overview, Alert } from '../api';
import { si, int, utc, ago, tagLabel, timeMs } from '../format';
import { severityBadge, alertChartURL } from './alerts';

const REFRESH_MS = 2000;
const SPARK_POINTS = 60;

export function overviewPage(root: HTMLElement): () => void {
  const rates = new Map<string, number[]>();
  const healthEl = h('section', { class: 'cards', id: 'health-cards' });
  const table = h('div', { class: 'panel' });
  const recent = h('div', { class: 'panel' });
  const status = h('span', { class: 'muted small' });
  clear(root,
    h('div', { class: 'titlebar' }, h('h1', null, 'Overview'), status),
    healthEl,
    h('h2', null, 'Pipelines'), table,
    h('h2', null, 'Latest alerts ', h('a', { href: '/alerts', class: 'small' }, 'all alerts →')), recent,
  );

  const counter = (v: number, warnIfNonZero = false, id?: string) =>
    h('td', { class: `num${warnIfNonZero && v > 0 ? ' warn' : ''}`, 'data-value': v, 'data-testid': id }, int(v));

  function renderOverview(ov: Overview) {
    showHealth(ov.health);
    const started = new Date(ov.started);
    clear(healthEl,
      Object.entries(ov.health ?? {}).sort().map(([name, state]) =>
        h('div', { class: `card ${state === 'ok' ? 'ok' : 'bad'}`, 'data-health': name },
          h('div', { class: 'card-label' }, name),
          h('div', { class: 'card-value' }, state === 'ok' ? 'healthy' : 'unhealthy'),
          state === 'ok' ? null : h('div', { class: 'card-note' }, state))),
      h('div', { class: 'card' }, h('div', { class: 'card-label' }, 'pipelines'), h('div', { class: 'card-value' }, ov.pipelines.length)),
      h('div', { class: 'card' }, h('div', { class: 'card-label' }, 'records/s (all)'),
        h('div', { class: 'card-value', 'data-testid': 'total-rps' }, si(ov.pipelines.reduce((a, p) => a + p.records_per_sec, 0)))),
      h('div', { class: 'card' }, h('div', { class: 'card-label' }, 'up since'),
        h('div', { class: 'card-value small' }, started.getTime() > 0 ? utc(started) : '–'),
        h('div', { class: 'card-note' }, started.getTime() > 0 ? ago(started) : '')),
    );
    if (ov.pipelines.length === 0) {
      clear(table, h('p', { class: 'empty' }, 'No pipelines configured.'));
      return;
    }
    // Short headers keep the table on one screen; titles say them in full.
    const head: [string, string][] = [['pipeline', ''], ['window', 'window size'], ['group by', 'group keys'], ['records/s', 'records read per second'], ['', ''],
      ['aggregated', 'records aggregated into windows'], ['filtered', 'records dropped by where'], ['windows', 'windows written to InfluxDB'],
      ['points', 'points written to InfluxDB'], ['newest window', 'start of the newest window written (event time, UTC)'], ['open', 'windows open now'], ['late', 'records later than the watermark'],
      ['malformed', 'lines that did not decode (input-wide)'], ['dead-letter', 'records sent to the dead-letter topic'],
      ['errors', 'per-record transform errors'], ['overflow', 'records folded into __overflow__ past max_keys']];
    clear(table, h('table', { class: 'grid', id: 'pipelines' },
      h('thead', null, h('tr', null, head.map(([t, title], i) => h('th', { class: i >= 3 ? 'num' : null, title: title || null }, t)))),
      h('tbody', null, ov.pipelines.map((p) => {
        const hist = rates.get(p.name) ?? [];
        hist.push(p.records_per_sec);
        if (hist.length > SPARK_POINTS) hist.shift();
        rates.set(p.name, hist);
        return h('tr', { 'data-pipeline': p.name },
          h('td', null, h('a', { href: `/pipelines/${encodeURIComponent(p.name)}` }, p.name)),
          h('td', null, p.window),
          h('td', { class: 'muted' }, (p.group_by ?? []).join(', ') || '–'),
          h('td', { class: 'num strong', 'data-value': p.records_per_sec, 'data-testid': 'records-per-sec' }, si(p.records_per_sec)),
          h('td', { class: 'spark-cell' }, sparkline(hist)),
          counter(p.aggregated, false, 'aggregated'), counter(p.filtered),
          counter(p.windows_written, false, 'windows-written'), counter(p.points_written),
          h('td', { class: 'num nowrap', title: timeMs(p.last_window) ? `${utc(p.last_window)} UTC (${ago(p.last_window)})` : 'none yet' },
            timeMs(p.last_window) ? utc(p.last_window, false) : '–'),
          counter(p.open_windows),
          counter(p.late, true), counter(p.malformed, true), counter(p.dead_lettered, true), counter(p.errors, true), counter(p.overflowed, true));
      }))));
  }

  function renderRecent(list: Alert[]) {
    if (list.length === 0) {
      clear(recent, h('p', { class: 'empty' }, 'No alerts raised yet.'));
      return;
    }
    clear(recent, h('table', { class: 'grid' }, h('tbody', null, list.map((a) => h('tr', { class: `sev-row row-${a.severity}` },
      h('td', { class: 'nowrap' }, utc(a.at)), h('td', null, severityBadge(a.severity)), h('td', null, a.instance),
      h('td', null, a.pipeline), h('td', null, tagLabel(a.series)), h('td', { class: 'msg' }, a.message),
      h('td', null, h('a', { href: alertChartURL(a) }, 'chart →')))))));
  }

  let stopped = false;
  async function tick() {
    try {
      const [ov, alerts] = await Promise.all([api.overview(), api.alerts({ limit: 5 })]);
      if (stopped) return;
      renderOverview(ov);
      renderRecent(alerts);
      status.textContent = `updated ${utc(Date.now(), false)} UTC`;
      status.classList.remove('err');
    } catch (e) {
      status.textContent = `cannot reach the API: ${(e as Error).message}`;
      status.classList.add('err');
    }
  }
  tick();
  const timer = setInterval(tick, REFRESH_MS);
  return () => { stopped = true; clearInterval(timer); };
}

function sparkline(values: number[]): SVGElement {
  const w = 90, hgt = 20;
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('width', String(w));
  svg.setAttribute('height', String(hgt));
  svg.setAttribute('class', 'spark');
  if (values.length < 2) return svg;
  const max = Math.max(...values, 1e-9);
  // Newest at the right edge, one step per refresh.
  const step = w / (SPARK_POINTS - 1), n = values.length;
  const pts = values.map((v, i) => `${w - (n - 1 - i) * step},${hgt - 1 - (v / max) * (hgt - 2)}`).join(' ');
  const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  line.setAttribute('points', pts);
  svg.append(line);
  return svg;
}
