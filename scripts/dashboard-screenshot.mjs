/**
 * Takes docs/dashboard.png: runs the `headroom demo` service (its leaky
 * cache, releasers and bounded loopback load) under the same supervisor and
 * limit as `headroom demo`, serves the dashboard beside it, and photographs
 * the page in Debian's Chromium after DURATION_MS of load.
 *
 *   npm run build && node scripts/dashboard-screenshot.mjs [output.png]
 *
 * Everything runs on 127.0.0.1 and stops by itself: the load after
 * DURATION_MS, the service on SIGTERM (or after its own lifetime bound).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { runLoad, waitForPort } from '../dist/src/cli/load.js';
import { runSupervised } from '../dist/src/cli/run.js';

const DURATION_MS = Number(process.env.DURATION_MS ?? 50_000);
const LIMIT_BYTES = 160 * 2 ** 20;
const RATE_PER_SECOND = 250;
const output = process.argv[2] ?? fileURLToPath(new URL('../docs/dashboard.png', import.meta.url));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const servicePort = await freePort();
const dashboardPort = await freePort();
const stop = new AbortController();

const run = runSupervised({
  command: process.execPath,
  args: [fileURLToPath(new URL('./demo-with-dashboard.mjs', import.meta.url))],
  limitBytes: LIMIT_BYTES,
  intervalMs: 1000,
  eventsFile: null,
  exposeGc: true,
  dashboard: 'off',
  killAtLimit: true,
  watchdogPollMs: 50,
  extraEnv: { PORT: String(servicePort), DASHBOARD_PORT: String(dashboardPort), DEMO_MAX_LIFETIME_MS: String(DURATION_MS + 60_000) },
  stopSignal: stop.signal,
});

const userDataDir = mkdtempSync(join(tmpdir(), 'headroom-screenshot-'));
let context = null;
try {
  if (!(await waitForPort('127.0.0.1', dashboardPort, 10_000))) throw new Error(`The dashboard did not open port ${dashboardPort} within 10 s`);

  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1400, height: 900 },
  });
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${dashboardPort}/headroom/`, { waitUntil: 'load' });

  const load = await runLoad({
    host: '127.0.0.1',
    port: servicePort,
    pathFor: (index) => `/reports/${index}`,
    ratePerSecond: RATE_PER_SECOND,
    concurrency: 8,
    durationMs: DURATION_MS,
    maxRequests: Math.ceil((RATE_PER_SECOND * DURATION_MS) / 1000),
    signal: stop.signal,
  });
  // One more sample and render after the load, so the last figures are on screen.
  await page.waitForTimeout(1500);
  await page.screenshot({ path: output, fullPage: true });

  const state = await page.evaluate(() => ({ points: globalThis.__headroomDashboard.pointCount, events: globalThis.__headroomDashboard.events.length, connection: globalThis.__headroomDashboard.connection }));
  process.stderr.write(`screenshot ${output}: ${state.points} points, ${state.events} events, ${state.connection}; load ${load.completed} of ${load.sent} answered\n`);
} finally {
  await context?.close();
  rmSync(userDataDir, { recursive: true, force: true });
  stop.abort();
  const result = await run;
  process.stderr.write(`service ended: ${result.description}\n`);
}
