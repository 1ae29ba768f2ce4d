// The "QDT-Enhanced Memory Management" service in small: an Express 5 API
// with a SQLite storage layer, a bounded cache, a continuous background job
// engine, a WebSocket, and the QDT layer installed by one middleware.
//
//   npm run build && npm run example:qdt            # listens on PORT, default 5000
//   curl localhost:5000/api/qdt/metrics
//   curl -X POST localhost:5000/api/qdt/gravitational-funneling
//
// Stops cleanly on SIGTERM and SIGINT.
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import { LRUCache } from 'lru-cache';
import { createWorkloadGovernor, lruCacheReleaser } from 'headroom';
import { openDatabaseOrNull } from 'headroom/store';
import { QDTEnhancedStorage, QDTMemoryManager, qdtMiddleware, startQdtDashboard } from 'headroom/qdt';

const port = Number(process.env.PORT ?? 5000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  throw new RangeError(`Invalid PORT: expected an integer from 0 to 65535, got ${JSON.stringify(process.env.PORT)}`);
}

// Storage layer: operations in SQLite (in memory here; use a file such as
// '.headroom/qdt-example.db' to keep them), with batch buffers from a pool.
const database = openDatabaseOrNull({ path: process.env.QDT_DB ?? ':memory:' });
const storage = new QDTEnhancedStorage({ database });

// A bounded cache: lru-cache refuses a cache with no bound.
const cache = new LRUCache({ max: 5000 });

const qdt = new QDTMemoryManager({ responses: { forcedGc: { enableAtRuntime: true } } }).start();
qdt.manager.registerReleaser(lruCacheReleaser(cache, { name: 'item-cache', priority: 10 }));

// The background job engine: 2 to 5 jobs at once (fewer under pressure),
// a health check every 90 s, and at most 500 starts a day.
const governor = createWorkloadGovernor({
  pressure: qdt.manager,
  minActive: 2,
  maxActive: 5,
  healthCheckMs: '90s',
  dailyLimit: 500,
  factory: () => ({ kind: 'analysis', run: (signal) => analysisJob(signal) }),
}).start();

/** Runs one background job: a few seconds of batch work, recorded as an operation. */
async function analysisJob(signal) {
  const { id } = storage.begin('analysis');
  try {
    let checksum = 0;
    for (let batch = 0; batch < 10; batch++) {
      signal.throwIfAborted();
      checksum = storage.withBatchBuffer(64 * 1024, (buffer) => {
        buffer.fill(batch);
        return (checksum + buffer[0]) % 65_536;
      });
      await sleep(500, undefined, { signal });
    }
    storage.finish(id, 'done', `checksum ${checksum}`);
  } catch (err) {
    storage.finish(id, signal.aborted ? 'cancelled' : 'failed', String(err?.message ?? err));
    throw err;
  }
}

const app = express();
app.use(express.json());

// The QDT layer: /api/qdt routes, headroom's /headroom API, load shedding.
const installation = qdtMiddleware(app, { qdt, storage, governor });

app.get('/api/items/:id', (request, response) => {
  const id = request.params.id;
  let item = cache.get(id);
  if (item === undefined) {
    item = { id, payload: 'x'.repeat(2048), createdAt: Date.now() };
    cache.set(id, item);
  }
  response.json(item);
});

app.get('/api/operations', (_request, response) => {
  response.json({ operations: storage.list({ limit: 20 }), governor: governor.stats() });
});

const server = app.listen(port, () => {
  const address = server.address();
  console.log(`qdt-express listening on port ${typeof address === 'object' && address ? address.port : port}`);
});
installation.attachStream(server); // ws://host:PORT/headroom/stream; QDT optimizations arrive as `qdt-optimization`

// The design's console dashboard, every sixth sample (30 s at the 5 s interval).
const stopDashboard = startQdtDashboard(qdt, { everySamples: 6 });

let stopping = false;
async function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`qdt-express: ${signal} received, stopping`);

  stopDashboard();
  governor.stop();
  await installation.close();
  qdt.close();
  storage.close();
  database?.close();
  server.closeAllConnections();
  server.close(() => process.exit(0));
  // A connection that does not close within 5 s does not keep the process.
  setTimeout(() => process.exit(0), 5000).unref();
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
