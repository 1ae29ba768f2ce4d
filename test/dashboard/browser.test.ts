import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { ConsoleMessage, Page } from 'playwright-core';
import { CHROMIUM_MISSING, launchChromium, type LaunchedBrowser } from '../helpers/browser.js';
import { startDashboardServer, type DashboardServer } from '../helpers/dashboard-server.js';
import { createScriptedManager, emitManagerEvent, sampleAt, type ScriptedSetup } from '../helpers/http.js';

const MIB = 2 ** 20;
const WAIT_MS = 10_000;

/** The page's read-only test state, `window.__headroomDashboard`. */
interface DashboardState {
  pointCount: number;
  chartLength: number;
  events: Array<{ type: string; time: number; category: string; text: string }>;
  connection: string;
  lastSampleTime: number | null;
  errors: { render: number; badMessages: number };
}

/** The page's global object, as seen from functions that playwright runs in the page. */
type PageGlobal = { __headroomDashboard: DashboardState };

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function scriptedManager(): ScriptedSetup {
  const setup = createScriptedManager();
  cleanups.push(() => void setup.manager.stop());
  return setup;
}

async function serve(setup: ScriptedSetup, options: Parameters<typeof startDashboardServer>[1] = {}): Promise<DashboardServer> {
  const server = await startDashboardServer(setup.manager, options);
  cleanups.push(() => server.close());
  return server;
}

/** Opens a page and records its uncaught errors and Content Security Policy reports. */
async function openPage(browser: LaunchedBrowser, url: string): Promise<{ page: Page; pageErrors: Error[]; policyErrors: string[] }> {
  const page = await browser.context.newPage();
  cleanups.push(() => page.close());
  const pageErrors: Error[] = [];
  const policyErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error));
  page.on('console', (message: ConsoleMessage) => {
    if (/Content Security Policy/i.test(message.text())) policyErrors.push(message.text());
  });

  await page.goto(url, { waitUntil: 'load', timeout: WAIT_MS });
  return { page, pageErrors, policyErrors };
}

function readState(page: Page): Promise<DashboardState> {
  return page.evaluate(() => {
    const state = (globalThis as unknown as PageGlobal).__headroomDashboard;
    return {
      pointCount: state.pointCount,
      chartLength: state.chartLength,
      events: state.events,
      connection: state.connection,
      lastSampleTime: state.lastSampleTime,
      errors: state.errors,
    };
  });
}

async function waitForConnection(page: Page, connection: string): Promise<void> {
  await page.waitForFunction((expected) => (globalThis as unknown as PageGlobal).__headroomDashboard?.connection === expected, connection, { timeout: WAIT_MS });
}

async function waitForChartLength(page: Page, length: number): Promise<void> {
  await page.waitForFunction((expected) => (globalThis as unknown as PageGlobal).__headroomDashboard?.chartLength >= expected, length, { timeout: WAIT_MS });
}

describe('dashboard page in Chromium', { skip: CHROMIUM_MISSING }, () => {
  let browser: LaunchedBrowser;

  before(async () => {
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
  });

  it('follows samples, events and a restart', async () => {
    const setup = scriptedManager();
    for (let index = 0; index < 3; index++) sampleAt(setup, 0.3);
    let server = await serve(setup);
    const { page, pageErrors, policyErrors } = await openPage(browser, server.pageUrl);

    await waitForConnection(page, 'stream');
    const start = await readState(page);
    assert.ok(start.chartLength >= 1, `the first screen has ${start.chartLength} points`);
    assert.equal(await page.locator('#card-level .value').textContent(), 'NORMAL');

    for (let index = 0; index < 3; index++) sampleAt(setup, 0.4);
    await waitForChartLength(page, start.chartLength + 3);

    sampleAt(setup, 0.85);
    emitManagerEvent(setup.manager, 'leak', {
      type: 'leak',
      time: setup.clock.epochNow(),
      kind: 'heap',
      rateBytesPerSecond: 2 * MIB,
      since: setup.clock.epochNow() - 60_000,
      timeToLimitMs: 240_000,
      budget: 'heap',
    });
    await page.locator('#events li[data-type="pressure"]').first().waitFor({ timeout: WAIT_MS });
    await page.locator('#events li[data-type="leak"]').first().waitFor({ timeout: WAIT_MS });
    assert.match((await page.locator('#events li[data-type="pressure"]').first().textContent()) ?? '', /normal → high on the process budget, 85 % used/);
    assert.match((await page.locator('#events li[data-type="leak"]').first().textContent()) ?? '', /heap growing by 2\.0 MiB\/s, heap limit in 4m 00s/);
    await page.locator('#card-level .value', { hasText: /^HIGH$/ }).waitFor({ timeout: WAIT_MS });

    const beforeRestart = await readState(page);
    const port = server.port;
    await server.close();
    await page.waitForFunction(() => (globalThis as unknown as PageGlobal).__headroomDashboard.connection !== 'stream', null, { timeout: WAIT_MS });

    sampleAt(setup, 0.5);
    server = await serve(setup, { port });
    await waitForConnection(page, 'stream');
    sampleAt(setup, 0.5);
    sampleAt(setup, 0.5);
    await waitForChartLength(page, beforeRestart.chartLength + 2);

    const end = await readState(page);
    assert.equal(end.lastSampleTime, setup.clock.epochNow());
    assert.deepEqual(end.errors, { render: 0, badMessages: 0 });
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(policyErrors, []);
  });

  it('draws the history before the first stream sample', async () => {
    const setup = scriptedManager();
    sampleAt(setup, 0.3);
    const now = setup.clock.epochNow();
    const points = Array.from({ length: 30 }, (_, index) => ({
      time: now - (30 - index) * 1000,
      intervalMs: 1000,
      level: index < 20 ? 'normal' : 'moderate',
      usageRatio: 0.5 + index * 0.01,
      heapUsedBytes: (20 + index) * MIB,
      rssBytes: (300 + index * 10) * MIB,
      gcCount: 1,
      gcPauseMs: 2,
      majorGcPauseMs: 0,
      eventLoopUtilization: 0.1,
      eventLoopDelayP99Ms: 12,
    }));
    const events = [{ name: 'action', time: now - 5000, payload: { type: 'action', action: 'relieve', time: now - 5000, level: 'high', trigger: 'pressure', reclaimedBytes: 8 * MIB, durationMs: 12, errors: [] } }];
    const history = { summarize: () => ({ windowMs: 900_000, samples: points.length, points, events }) };
    const server = await serve(setup, { api: { history } });

    const { page, pageErrors } = await openPage(browser, server.pageUrl);
    await waitForChartLength(page, 31);

    const state = await readState(page);
    assert.equal(state.chartLength, 31);
    assert.equal(state.events[0]?.type, 'action');
    assert.match(state.events[0]?.text ?? '', /relieve at high \(pressure\), reclaimed 8\.0 MiB, in 12 ms/);
    assert.deepEqual(pageErrors, []);
  });

  it('polls metrics without a stream', async () => {
    const setup = scriptedManager();
    sampleAt(setup, 0.3);
    const server = await serve(setup, { stream: false });
    const { page, pageErrors } = await openPage(browser, server.pageUrl);

    await waitForConnection(page, 'polling');
    const start = await readState(page);
    sampleAt(setup, 0.4);
    await waitForChartLength(page, start.chartLength + 1);
    sampleAt(setup, 0.4);
    await waitForChartLength(page, start.chartLength + 2);
    assert.deepEqual(pageErrors, []);
  });

  it('shows the forecast of the latest sample', async () => {
    const setup = scriptedManager();
    sampleAt(setup, 0.3);
    const server = await serve(setup);
    const { page, pageErrors } = await openPage(browser, server.pageUrl);
    await waitForConnection(page, 'stream');

    const latest = setup.manager.latest;
    assert.ok(latest);
    server.api.publish('sample', { ...latest, time: latest.time + 1000, liveBytes: 60 * MIB, timeToLimitMs: 120_000, budget: 'heap' });
    await page.locator('#card-forecast .value', { hasText: /^limit in 2m 00s$/ }).waitFor({ timeout: WAIT_MS });

    const state = await readState(page);
    assert.equal(state.errors.render, 0);
    assert.deepEqual(pageErrors, []);
  });

  it('keeps working on samples with missing fields', async () => {
    const setup = scriptedManager();
    sampleAt(setup, 0.3);
    const server = await serve(setup);
    const { page, pageErrors } = await openPage(browser, server.pageUrl);
    await waitForConnection(page, 'stream');
    const start = await readState(page);

    // What an older or newer headroom might send: fields missing, renamed, or of another type.
    const time = setup.clock.epochNow();
    server.api.publish('sample', { time: time + 1000 });
    server.api.publish('sample', { time: time + 2000, heapUsedBytes: 40 * MIB, level: 'extreme', gc: null, eventLoop: 'n/a', newSection: { nested: [1, 2] } });
    server.api.publish('sample', { heapUsedBytes: 1 });
    server.api.publish('shedding', { time: time + 2000, shedRatio: 0.25, reason: 'memory' });
    server.api.publish('future-event', { time: time + 2000, answer: 42, details: { deep: true } });
    server.api.publish('leak', null);
    await waitForChartLength(page, start.chartLength + 2);
    await page.locator('#events li[data-type="future-event"]').waitFor({ timeout: WAIT_MS });

    assert.equal(await page.locator('#card-level .value').textContent(), 'EXTREME');
    assert.match((await page.locator('#events li[data-type="shedding"]').textContent()) ?? '', /shedding 25 % of requests \(memory\)/);
    assert.match((await page.locator('#events li[data-type="future-event"]').textContent()) ?? '', /answer=42/);

    // Past the published samples' times, so the page takes it as the newest.
    setup.clock.advance(5000);
    sampleAt(setup, 0.4);
    await page.waitForFunction((expected) => (globalThis as unknown as PageGlobal).__headroomDashboard.lastSampleTime === expected, setup.clock.epochNow(), { timeout: WAIT_MS });
    await page.locator('#card-level .value', { hasText: /^NORMAL$/ }).waitFor({ timeout: WAIT_MS });
    const end = await readState(page);
    assert.equal(end.errors.render, 0);
    assert.deepEqual(pageErrors, []);
  });
});
