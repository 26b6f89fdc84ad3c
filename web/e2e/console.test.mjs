// Browser tests of the console against a running Tidemark (normally
// `tidemark demo`, started by e2e/run.sh). TIDEMARK_URL is its base URL;
// screenshots go to SCREENSHOT_DIR (default test-output/console/).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const BASE = (process.env.TIDEMARK_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const OUT = process.env.SCREENSHOT_DIR ?? fileURLToPath(new URL('../../test-output/console/', import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
// How long to wait for data to flow and for an alert to be raised live.
const DATA_TIMEOUT = Number(process.env.TIDEMARK_E2E_DATA_TIMEOUT_MS ?? 45000);
const ALERT_TIMEOUT = Number(process.env.TIDEMARK_E2E_ALERT_TIMEOUT_MS ?? 90000);

let browser;
let page;
// The alerts page opens first and stays open through every test, so an
// alert raised at any time during the run arrives over its event stream.
let alertsPage;
const consoleErrors = [];

before(async () => {
  mkdirSync(OUT, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`console: ${m.text()}`); });
  alertsPage = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  alertsPage.on('pageerror', (e) => consoleErrors.push(`pageerror (alerts): ${e.message}`));
  await alertsPage.goto(`${BASE}/alerts`);
  await alertsPage.waitForSelector('#live[data-state=live]', { timeout: 10000 });
});

after(async () => {
  await browser?.close();
});

const shot = (name, pg = page) => pg.screenshot({ path: join(OUT, name), fullPage: true });
const pipelines = async () => (await (await fetch(`${BASE}/api/overview`)).json()).pipelines;

test('overview shows pipelines with non-zero records and healthy dependencies', async () => {
  await page.goto(`${BASE}/`);
  await page.waitForSelector('#pipelines tbody tr', { timeout: DATA_TIMEOUT });
  const names = await page.$$eval('#pipelines tbody tr', (rows) => rows.map((r) => r.dataset.pipeline));
  assert.deepEqual(names, (await pipelines()).map((p) => p.name));
  // The page refreshes itself; wait for records to flow through at least one pipeline.
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=aggregated]')].some((td) => Number(td.dataset.value) > 0),
    null, { timeout: DATA_TIMEOUT });
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=records-per-sec]')].some((td) => Number(td.dataset.value) > 0),
    null, { timeout: DATA_TIMEOUT });
  const health = await page.$$eval('[data-health]', (cards) => cards.map((c) => [c.dataset.health, c.classList.contains('ok')]));
  assert.ok(health.length > 0, 'no health cards');
  for (const [name, ok] of health) assert.ok(ok, `${name} is not healthy`);
  await shot('overview.png');
});

test('each pipeline chart renders data points, with a legend and the top keys', async () => {
  for (const p of await pipelines()) {
    await page.goto(`${BASE}/pipelines/${encodeURIComponent(p.name)}?range=1h`);
    // Windows close every few seconds and the page re-reads the range
    // every 10 s: wait for at least two windows, a line rather than a dot.
    await page.waitForFunction(() => Number(document.querySelector('#chart')?.dataset.times) >= 2, null, { timeout: DATA_TIMEOUT, polling: 500 });
    assert.ok(Number(await page.getAttribute('#chart', 'data-points')) >= 2, `${p.name}: points`);
    assert.ok(await page.$('#chart canvas'), `${p.name}: no uPlot canvas`);
    const series = Number(await page.getAttribute('#chart', 'data-series'));
    assert.ok(series > 0, `${p.name}: no series`);
    const legend = await page.$$eval('#chart .u-legend .u-series', (els) => els.length);
    assert.equal(legend, series + 1, `${p.name}: legend rows (time + one per series)`);
    const top = await page.$$eval('#topn tbody tr', (rows) => rows.length);
    assert.equal(top, series, `${p.name}: top-N table rows`);
    const axis = await page.getAttribute('#chart', 'data-ylabel');
    assert.match(axis, new RegExp(`${p.fields[0]} \\(.+ per .+\\)`), `${p.name}: y axis label with unit`);
    await shot(`chart-${p.name}.png`);
  }
  // Another field and range redraw the chart with data.
  const p = (await pipelines())[0];
  await page.goto(`${BASE}/pipelines/${encodeURIComponent(p.name)}?range=1h`);
  await page.waitForFunction(() => Number(document.querySelector('#chart')?.dataset.points) > 0, null, { timeout: DATA_TIMEOUT });
  const last = p.fields[p.fields.length - 1];
  await page.selectOption('#field', last);
  await page.click('.seg button:has-text("6h")');
  await page.waitForFunction((f) => new URL(location.href).searchParams.get('field') === f && new URL(location.href).searchParams.get('range') === '6h', last);
  // The drawn chart (not only the URL) is of that field and range.
  await page.waitForFunction((f) => {
    const c = document.querySelector('#chart');
    return c?.dataset.field === f && Number(c.dataset.to) - Number(c.dataset.from) === 6 * 3600e3 && Number(c.dataset.points) > 0;
  }, last, { timeout: DATA_TIMEOUT });
  assert.match(await page.getAttribute('#chart', 'data-ylabel'), new RegExp(`^${last} `));
  // Dragging across the plot zooms: an absolute range inside the old one.
  const before = new URL(page.url()).searchParams;
  assert.equal(before.get('range'), '6h');
  const box = await page.locator('#chart .u-over').boundingBox();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.9, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction(() => new URL(location.href).searchParams.has('from'));
  const q = new URL(page.url()).searchParams;
  const [from, to] = [Number(q.get('from')), Number(q.get('to'))];
  await page.waitForFunction(([f, t]) => Number(document.querySelector('#chart')?.dataset.from) === f && Number(document.querySelector('#chart')?.dataset.to) === t, [from, to]);
  assert.ok(to - from > 0 && to - from < 6 * 3600e3 * 0.5, `zoomed range ${from}..${to}`);
});

test('an alert appears live on the alerts page and links to its window on the chart', async () => {
  const ap = alertsPage; // subscribed since the start of the run
  // Rows with class "fresh" arrived over the event stream after the page subscribed.
  const row = await ap.waitForSelector('#alert-rows tr.fresh', { timeout: ALERT_TIMEOUT });
  const sev = await row.getAttribute('data-severity');
  assert.ok(['crit', 'warn', 'info', 'ok'].includes(sev), `severity ${sev}`);
  const colour = await row.$eval('.sev', (e) => getComputedStyle(e).color);
  assert.notEqual(colour, await ap.$eval('body', (e) => getComputedStyle(e).color), 'severity badge is coloured');
  assert.equal(await ap.getAttribute('#live', 'data-state'), 'live');
  await shot('alerts.png', ap);

  // Filter by the alert's own severity: only that severity stays.
  await ap.click(`.sev-btn[data-sev=${sev}]`);
  await ap.waitForFunction((s) => new URL(location.href).searchParams.get('severity') === s, sev);
  await ap.waitForSelector('#alert-rows tr', { timeout: 10000 });
  const sevs = await ap.$$eval('#alert-rows tr', (rows) => rows.map((r) => r.dataset.severity));
  assert.ok(sevs.length > 0 && sevs.every((s) => s === sev), `filtered severities ${sevs}`);

  const link = await ap.$('#alert-rows tr .chart-link');
  assert.ok(link, 'alert has a chart link');
  await link.click();
  await ap.waitForURL(/\/pipelines\/[^?]+\?.*mark=\d+/);
  await ap.waitForFunction(() => Number(document.querySelector('#chart')?.dataset.points) > 0, null, { timeout: DATA_TIMEOUT });
  const mark = Number(new URL(ap.url()).searchParams.get('mark'));
  assert.equal(Number(await ap.getAttribute('#chart', 'data-mark')), mark, 'alert window marked on the chart');
  // The alert's own series is on the chart, even when not among the top keys.
  const hl = new URL(ap.url()).searchParams.get('hl');
  await ap.waitForFunction((h) => document.querySelector('#chart-info')?.textContent.includes(`alert series ${h} drawn thick`), hl, { timeout: 10000 });
  await shot('alert-chart.png', ap);
});

test('analyzers list instances with version and hash, and reload posts', async () => {
  await page.goto(`${BASE}/analyzers`);
  await page.waitForSelector('#analyzers table tbody tr', { timeout: DATA_TIMEOUT });
  const api = await (await fetch(`${BASE}/api/analyzers`)).json();
  const rows = await page.$$eval('#analyzers tbody tr', (trs) => trs.map((tr) => tr.dataset.instance));
  assert.deepEqual(rows, api.map((a) => a.name));
  const reloadDone = page.waitForResponse((r) => r.url().endsWith(`/api/analyzers/${encodeURIComponent(api[0].module)}/reload`) && r.request().method() === 'POST');
  await page.click(`#analyzers tbody tr:first-child button.reload`);
  const resp = await reloadDone;
  assert.equal(resp.status(), 200, `reload: ${await resp.text()}`);
  await page.waitForSelector('.toast.ok', { timeout: 5000 });
  await shot('analyzers.png');
});

test('no script errors in the pages', () => {
  assert.deepEqual(consoleErrors.filter((e) => !/EventSource|ERR_INCOMPLETE_CHUNKED|net::ERR_ABORTED/.test(e)), []);
});
