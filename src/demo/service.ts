/**
 * The demo service of `headroom demo`: an HTTP server with a leaky report
 * cache and a background job that keeps every result. Both are registered as
 * releasers, so headroom trims them under pressure. Run it through
 * `headroom demo`, not by hand.
 */
import { createServer } from 'node:http';
import { getDefaultManager } from '../manager/default.js';
import { callbackReleaser, mapReleaser } from '../responses/release-adapters.js';

const REPORT_BYTES = 16 * 1024;
const JOB_RESULT_BYTES = 4 * 1024;
const port = Number(process.env.PORT ?? 0);

/** Every report ever built, keyed by id: the leak. */
const reportCache = new Map<number, string>();
/** Every background job result: a slower leak. */
const jobResults: string[] = [];

function buildReport(id: number): string {
  // A flat one-byte string, so the bytes live on the V8 heap.
  return Buffer.alloc(REPORT_BYTES, 97 + (id % 26)).toString('utf8');
}

// headroom calls these under pressure: the cache first, because rebuilding a report is cheap.
const manager = getDefaultManager();
manager?.registerReleaser(mapReleaser(reportCache, { name: 'report-cache', priority: 10 }));
manager?.registerReleaser(
  callbackReleaser(
    'job-results',
    (level) => {
      const dropped = level === 'critical' ? jobResults.length : Math.ceil(jobResults.length / 2);
      jobResults.splice(0, dropped);
      return dropped * JOB_RESULT_BYTES;
    },
    { priority: 5, minLevel: 'high' },
  ),
);

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
    res.end(JSON.stringify({ cached: reportCache.size, jobResults: jobResults.length }));
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
