// Analyzers: each instance with its module version and hash, state, calls,
// failures, last error and reload, and a button that reloads its module.
import { h, clear, toast } from '../dom';
import { api, Analyzer } from '../api';
import { int, utc, ago } from '../format';

const REFRESH_MS = 5000;

export function analyzersPage(root: HTMLElement): () => void {
  const table = h('div', { class: 'panel', id: 'analyzers' });
  const status = h('span', { class: 'muted small' });
  clear(root, h('div', { class: 'titlebar' }, h('h1', null, 'Analyzers'), status), table);
  const busy = new Set<string>();

  async function reload(module: string) {
    busy.add(module);
    render(last);
    try {
      await api.reload(module);
      toast(`Module ${module} reloaded`);
    } catch (e) {
      toast(`Reload of ${module} failed: ${(e as Error).message}. The previous version keeps running.`, 'err');
    } finally {
      busy.delete(module);
      tick();
    }
  }

  let last: Analyzer[] = [];
  function render(list: Analyzer[]) {
    last = list;
    if (list.length === 0) {
      clear(table, h('p', { class: 'empty' }, 'No analyzer instances configured.'));
      return;
    }
    clear(table, h('table', { class: 'grid' },
      h('thead', null, h('tr', null, ['instance', 'module', 'version', 'hash', 'pipeline', 'state', 'calls', 'failures', 'last error', 'last reload (UTC)', ''].map((t, i) =>
        h('th', { class: i === 6 || i === 7 ? 'num' : null }, t)))),
      h('tbody', null, list.map((a) => h('tr', { 'data-instance': a.name },
        h('td', { class: 'strong' }, a.name), h('td', null, a.module), h('td', null, a.version || '–'),
        h('td', { class: 'mono', title: a.hash }, a.hash ? a.hash.replace(/^sha256:/, '').slice(0, 12) : '–'),
        h('td', null, h('a', { href: `/pipelines/${encodeURIComponent(a.pipeline)}` }, a.pipeline)),
        h('td', null, h('span', { class: `state state-${a.state}` }, a.state)),
        h('td', { class: 'num' }, int(a.calls)), h('td', { class: `num${a.failures > 0 ? ' warn' : ''}` }, int(a.failures)),
        h('td', { class: 'msg err-text', title: a.last_error ?? '' }, a.last_error || ''),
        h('td', { class: 'nowrap' }, new Date(a.last_reload).getTime() > 0 ? `${utc(a.last_reload)} (${ago(a.last_reload)})` : 'never'),
        h('td', null, h('button', { type: 'button', class: 'reload', 'data-module': a.module, disabled: busy.has(a.module),
          title: `recompile ${a.module} from its file now; a module that fails to load leaves the old one running`,
          onclick: () => reload(a.module) }, busy.has(a.module) ? 'reloading…' : 'reload')))))));
  }

  let stopped = false;
  async function tick() {
    try {
      const list = await api.analyzers();
      if (stopped) return;
      render(list);
      status.textContent = `${list.length} instances · updated ${utc(Date.now(), false)} UTC`;
    } catch (e) {
      status.textContent = `cannot reach the API: ${(e as Error).message}`;
    }
  }
  tick();
  const timer = setInterval(tick, REFRESH_MS);
  return () => { stopped = true; clearInterval(timer); };
}
