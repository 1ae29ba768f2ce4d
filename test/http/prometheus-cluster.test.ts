import assert from 'node:assert/strict';
import cluster, { type Worker } from 'node:cluster';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createClusterMetricsHandler } from '../../src/adapters/http.js';
import { collectClusterMetrics } from '../../src/http/prometheus-cluster.js';
import { parsePrometheus, promValue, send } from '../helpers/http.js';

const MIB = 2 ** 20;
const WORKER_PATH = fileURLToPath(new URL('../fixtures/http-cluster-worker.js', import.meta.url));

/** Heap used, RSS over the 1 GiB process limit, and event-loop utilization of each worker. */
const WORKERS = [
  { heapMiB: 10, rssRatio: 0.5, utilization: 0.2 },
  { heapMiB: 76, rssRatio: 0.95, utilization: 0.6 },
];

const workers: Worker[] = [];

/** Forks one worker and waits for its ready message, for at most 15 s. */
function forkWorker(heapMiB: number, rssRatio: number, utilization: number): Promise<{ worker: Worker; level: string }> {
  const worker = cluster.fork({
    HEADROOM_TEST_HEAP_MIB: String(heapMiB),
    HEADROOM_TEST_RSS_RATIO: String(rssRatio),
    HEADROOM_TEST_UTILIZATION: String(utilization),
  });
  workers.push(worker);

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker with ${heapMiB} MiB did not start within 15 s`)), 15_000);
    worker.once('message', (message: { ready?: boolean; level: string }) => {
      clearTimeout(timer);
      resolve({ worker, level: message.level });
    });
    worker.once('exit', (code) => reject(new Error(`worker with ${heapMiB} MiB exited with code ${code} before it was ready`)));
  });
}

/** Disconnects every worker and waits for it to exit, killing it after 5 s. */
async function stopWorkers(): Promise<void> {
  await Promise.all(
    workers.splice(0).map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.isDead()) {
            resolve();
            return;
          }
          const timer = setTimeout(() => worker.process.kill('SIGKILL'), 5000);
          worker.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          worker.disconnect();
        }),
    ),
  );
}

describe('Prometheus in cluster mode', () => {
  before(async () => {
    cluster.setupPrimary({ exec: WORKER_PATH });
    const started = await Promise.all(WORKERS.map(({ heapMiB, rssRatio, utilization }) => forkWorker(heapMiB, rssRatio, utilization)));
    assert.deepEqual(
      started.map(({ level }) => level),
      ['normal', 'critical'],
    );
  });

  after(stopWorkers);

  it('aggregates the workers', async () => {
    const { text, contentType } = await collectClusterMetrics();
    const families = parsePrometheus(text);

    assert.match(contentType, /^text\/plain/);
    assert.equal(promValue(families, 'headroom_heap_used_bytes'), 86 * MIB, 'bytes add up');
    assert.equal(promValue(families, 'headroom_heap_limit_bytes'), 200 * MIB, 'each worker has its own heap');
    assert.equal(promValue(families, 'headroom_level'), 3, 'the level is the worst worker');
    assert.equal(promValue(families, 'headroom_usage_ratio', { budget: 'process' }).toFixed(3), '0.950', 'ratios take the worst worker');
    assert.equal(promValue(families, 'headroom_rss_bytes'), Math.round(0.5 * 1024 * MIB) + Math.round(0.95 * 1024 * MIB), 'bytes add up');
    assert.equal(promValue(families, 'headroom_event_loop_utilization_ratio').toFixed(3), '0.400', 'utilization is averaged');
    assert.equal(promValue(families, 'headroom_process_limit_bytes'), 1024 * MIB, 'workers share one limit, so it is not added up');
    assert.equal(promValue(families, 'headroom_shed_requests_total'), 0);
  });

  it('serves the aggregate over HTTP', async () => {
    const server: Server = createServer(createClusterMetricsHandler());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const result = await send((server.address() as AddressInfo).port, '/metrics');
      assert.equal(result.status, 200);
      assert.equal(promValue(parsePrometheus(result.text), 'headroom_heap_used_bytes'), 86 * MIB);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
