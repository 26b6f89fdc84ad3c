// Alerts: the recent list, then live over server-sent events; filter by
// instance and severity; each links to its pipeline's chart around the
// alert's window, with the window marked.
import { h, clear } from '../dom';
import { api, Alert } from '../api';
import { si, utc, tagLabel } from '../format';

const SEVERITIES = ['crit', 'warn', 'info', 'ok'];
const MAX_ROWS = 500;
const CONTEXT_MS = 30 * 60e3; // chart range either side of the alert's window

export function severityBadge(sev: string): HTMLElement {
  return h('span', { class: `sev sev-${sev}` }, sev === 'ok' ? 'resolved' : sev);
}

export function alertChartURL(a: Alert): string {
  const w = new Date(a.window).getTime();
  const q = new URLSearchParams({ field: a.field, from: String(w - CONTEXT_MS), to: String(w + CONTEXT_MS), mark: String(w), top: '10', hl: tagLabel(a.series) });
  return `/pipelines/${encodeURIComponent(a.pipeline)}?${q}`;
}

// band says the expected range, open on a side the analyzer did not give.
function band(lower: number | null, upper: number | null): string {
  if (lower !== null && upper !== null) return `${si(lower)} – ${si(upper)}`;
  if (upper !== null) return `≤ ${si(upper)}`;
  if (lower !== null) return `≥ ${si(lower)}`;
  return '–';
}

export function alertsPage(root: HTMLElement): () => void {
  const q = new URLSearchParams(location.search);
  let instance = q.get('instance') ?? '';
  const sevOn = new Set((q.get('severity') ?? '').split(',').filter((s) => SEVERITIES.includes(s)));
  const alerts: Alert[] = [];
  const seen = new Set<string>();
  let es: EventSource | null = null;
  let stopped = false;

  const live = h('span', { class: 'live', id: 'live', 'data-state': 'connecting' }, 'connecting');
  const count = h('span', { class: 'muted small', id: 'alert-count' });
  const instSel = h('select', { id: 'instance', 'aria-label': 'Instance' }, h('option', { value: '' }, 'all instances'));
  const sevBox = h('div', { class: 'seg', role: 'group', 'aria-label': 'Severity' });
  const body = h('tbody', { id: 'alert-rows' });
  const empty = h('p', { class: 'empty', id: 'alerts-empty' }, 'No alerts match. New ones appear here as analyzers raise them.');

  clear(root,
    h('div', { class: 'titlebar' }, h('h1', null, 'Alerts'), live, count),
    h('div', { class: 'toolbar' }, h('label', null, 'instance ', instSel), h('span', { class: 'muted small' }, 'severity'), sevBox),
    h('div', { class: 'panel' }, h('table', { class: 'grid', id: 'alerts' },
      h('thead', null, h('tr', null, ['raised (UTC)', 'severity', 'instance', 'module', 'pipeline', 'series', 'field', 'observed', 'expected', 'band', 'window (UTC)', 'message', ''].map((t, i) =>
        h('th', { class: i >= 7 && i <= 9 ? 'num' : null }, t)))),
      body), empty),
  );

  function renderSev() {
    clear(sevBox, SEVERITIES.map((s) => h('button', { type: 'button', class: `sev-btn sev-${s}${sevOn.has(s) ? ' on' : ''}`, 'data-sev': s, onclick: () => {
      if (sevOn.has(s)) sevOn.delete(s); else sevOn.add(s);
      restart();
    } }, s === 'ok' ? 'resolved' : s)));
  }

  function addInstance(name: string) {
    if (!name || [...instSel.options].some((o) => o.value === name)) return;
    instSel.append(h('option', { value: name, selected: name === instance }, name));
  }

  const row = (a: Alert, fresh: boolean) => h('tr', { class: `sev-row row-${a.severity}${fresh ? ' fresh' : ''}`, 'data-id': a.id, 'data-severity': a.severity },
    h('td', { class: 'nowrap' }, utc(a.at)), h('td', null, severityBadge(a.severity)), h('td', { class: 'nowrap' }, a.instance),
    h('td', { class: 'muted nowrap' }, a.module), h('td', null, a.pipeline), h('td', null, tagLabel(a.series)), h('td', { class: 'muted' }, a.field),
    h('td', { class: 'num strong' }, si(a.observed)), h('td', { class: 'num' }, si(a.expected)),
    h('td', { class: 'num muted nowrap' }, band(a.lower, a.upper)),
    h('td', { class: 'nowrap', title: utc(a.window) }, utc(a.window, false)), h('td', { class: 'msg' }, a.message),
    h('td', null, a.pipeline ? h('a', { href: alertChartURL(a), class: 'chart-link' }, 'chart →') : null));

  function add(a: Alert, fresh: boolean) {
    const key = `${a.id}/${a.severity}`;
    if (seen.has(key)) return;
    seen.add(key);
    addInstance(a.instance);
    if (fresh) { alerts.unshift(a); body.prepend(row(a, true)); }
    else { alerts.push(a); body.append(row(a, false)); }
    while (alerts.length > MAX_ROWS) { alerts.pop(); body.lastElementChild?.remove(); }
    empty.hidden = alerts.length > 0;
    count.textContent = `${alerts.length} shown`;
  }

  const setLive = (state: string, text: string) => { live.dataset.state = state; live.textContent = text; };

  async function restart() {
    renderSev();
    const p = new URLSearchParams();
    if (instance) p.set('instance', instance);
    if (sevOn.size) p.set('severity', [...sevOn].join(','));
    history.replaceState(null, '', `/alerts${p.size ? '?' + p : ''}`);
    es?.close();
    alerts.length = 0;
    seen.clear();
    clear(body);
    empty.hidden = false;
    const filter = { instance: instance || undefined, severity: sevOn.size ? [...sevOn].join(',') : undefined };
    // Subscribe first, then list: an alert raised in between shows once
    // (deduplicated by id and severity), never zero times.
    es = new EventSource(api.alertStreamURL(filter));
    es.onopen = () => setLive('live', 'live');
    es.onerror = () => setLive('down', 'reconnecting…');
    es.addEventListener('alert', (ev) => add(JSON.parse((ev as MessageEvent).data), true));
    try {
      const list = await api.alerts({ ...filter, limit: MAX_ROWS });
      if (stopped) return;
      for (const a of list) add(a, false);
      count.textContent = `${alerts.length} shown`;
    } catch (e) {
      setLive('down', `cannot list alerts: ${(e as Error).message}`);
    }
  }

  instSel.addEventListener('change', () => { instance = instSel.value; restart(); });
  addInstance(instance);
  api.analyzers().then((list) => list.forEach((a) => addInstance(a.name))).catch(() => {});
  restart();
  return () => { stopped = true; es?.close(); };
}
