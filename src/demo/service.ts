/**
 * The demo service of `headroom demo`: an HTTP server with a leaky report
 * cache and a background job that keeps every result. It trims both when
 * headroom reports pressure. Run it through `headroom demo`, not by hand.
 */
import { createServer } from 'node:http';
import { getDefaultManager } from '../manager/default.js';
import type { PressureLevel } from '../analysis/levels.js';

const REPORT_BYTES = 16 * 1024;
const JOB_RESULT_BYTES = 4 * 1024;
const port = Number(process.env.PORT ?? 0);

/** Every report ever built, keyed by id: the leak. */
const reportCache = new Map<number, string>();
/** Every background job result: a slower leak. */
const jobResults: string[] = [];
let trimmedEntries = 0;

/** Share of the entries dropped when each level is entered. */
const TRIM_SHARES: Record<PressureLevel, number> = { normal: 0, moderate: 0.25, high: 0.5, critical: 1 };

function buildReport(id: number): string {
  // A flat one-byte string, so the bytes live on the V8 heap.
  return Buffer.alloc(REPORT_BYTES, 97 + (id % 26)).toString('latin1');
}

/** Drops the oldest share of the cache and of the job results, as a releaser would. */
function trim(level: PressureLevel): void {
  const share = TRIM_SHARES[level];
  const drop = Math.ceil(reportCache.size * share);
  let dropped = 0;
  for (const key of reportCache.keys()) {
    if (dropped >= drop) break;
    reportCache.delete(key);
    dropped++;
  }
  jobResults.splice(0, Math.ceil(jobResults.length * share));
  trimmedEntries += dropped;
}

getDefaultManager()?.on('pressure', (event) => {
  if (event.to !== 'normal') trim(event.to);
});

const job = setInterval(() => {
  jobResults.push(Buffer.alloc(JOB_RESULT_BYTES, 106).toString('latin1'));
}, 100);

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const match = /^\/reports\/(\d+)$/.exec(url.pathname);

  if (match) {
    const id = Number(match[1]);
    const report = reportCache.get(id) ?? buildReport(id);
    reportCache.set(id, report);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id, length: report.length, cached: reportCache.size }));
    return;
  }

  if (url.pathname === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ cached: reportCache.size, jobResults: jobResults.length, trimmedEntries }));
    return;
  }

  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: 'not found' }));
});

function shutDown(): void {
  clearInterval(job);
  server.close(() => process.exit(0));
  server.closeAllConnections();
}

process.on('SIGTERM', shutDown);
process.on('SIGINT', shutDown);

// A bound of its own, in case the parent that drives it dies: the demo never runs for long.
setTimeout(shutDown, Number(process.env.DEMO_MAX_LIFETIME_MS ?? 300_000)).unref();

server.listen(port, '127.0.0.1');
