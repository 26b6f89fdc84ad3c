// The console: four pages routed by path, each a function that renders
// into #page and returns its cleanup (timers, streams, charts).
import { h, clear, showHealth } from './dom';
import { api } from './api';
import { overviewPage } from './pages/overview';
import { chartPage } from './pages/chart';
import { alertsPage } from './pages/alerts';
import { analyzersPage } from './pages/analyzers';

export type Cleanup = () => void;
type Page = (root: HTMLElement, params: Record<string, string>) => Cleanup;

const routes: [RegExp, Page, string][] = [
  [/^\/$/, overviewPage, 'overview'],
  [/^\/pipelines\/([^/]+)$/, chartPage, 'pipelines'],
  [/^\/alerts$/, alertsPage, 'alerts'],
  [/^\/analyzers$/, analyzersPage, 'analyzers'],
];

let cleanup: Cleanup | null = null;

function header(active: string) {
  const top = document.getElementById('top')!;
  const link = (href: string, label: string, key: string) =>
    h('a', { href, class: active === key ? 'active' : null, 'data-nav': key }, label);
  const pipes = h('select', { id: 'nav-pipelines', 'aria-label': 'Pipeline charts', onchange: (e: Event) => {
    const v = (e.target as HTMLSelectElement).value;
    if (v) navigate(`/pipelines/${encodeURIComponent(v)}`);
  } }, h('option', { value: '' }, 'Charts…'));
  clear(top,
    h('a', { href: '/', class: 'brand' }, h('span', { class: 'logo' }, '≋'), 'Tidemark'),
    h('nav', null, link('/', 'Overview', 'overview'), pipes, link('/alerts', 'Alerts', 'alerts'), link('/analyzers', 'Analyzers', 'analyzers')),
    h('div', { id: 'health', class: 'health' }),
  );
  api.overview().then((ov) => {
    const current = decodeURIComponent(location.pathname.match(/^\/pipelines\/([^/]+)/)?.[1] ?? '');
    for (const p of ov.pipelines) pipes.append(h('option', { value: p.name, selected: p.name === current }, p.name));
    showHealth(ov.health);
  }).catch(() => { /* the page shows the error */ });
}

export function navigate(url: string): void {
  history.pushState(null, '', url);
  render();
}

function render(): void {
  cleanup?.();
  cleanup = null;
  const root = document.getElementById('page')!;
  const path = location.pathname.replace(/\/+$/, '') || '/';
  for (const [re, page, key] of routes) {
    const m = path.match(re);
    if (!m) continue;
    header(key);
    const name = m[1] ? decodeURIComponent(m[1]) : '';
    document.title = `${name || key[0].toUpperCase() + key.slice(1)} · Tidemark`;
    clear(root);
    cleanup = page(root, { name: m[1] ? decodeURIComponent(m[1]) : '' });
    return;
  }
  header('');
  clear(root, h('h1', null, 'Not found'), h('p', null, h('a', { href: '/' }, 'Back to the overview')));
}

// Same-origin links route in the page; the server serves index.html for
// every page path too, so reloads and shared links work.
document.addEventListener('click', (e) => {
  const a = (e.target as Element).closest?.('a');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || a.target) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/') || url.pathname === '/metrics') return;
  e.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener('popstate', render);
render();
