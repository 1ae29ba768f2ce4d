import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, describe, it } from 'node:test';
import express from 'express';
import { WebSocket } from 'ws';
import { qdtMiddleware, type QdtInstallation } from '../../src/qdt/middleware.js';
import { createQDTEnhancedStorage } from '../../src/qdt/storage.js';
import { createObjectPool } from '../../src/pools/object-pool.js';
import { silentLogger } from '../../src/util/logger.js';
import { json, send } from '../helpers/http.js';
import { createScriptedQdt, type ScriptedQdt } from './helpers.js';

interface Served {
  port: number;
  setup: ScriptedQdt;
  installation: QdtInstallation;
  gcCalls: { count: number };
  releases: string[];
}

describe('qdt routes and middleware', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function serve(options: { token?: string } = {}): Promise<Served> {
    const gcCalls = { count: 0 };
    const releases: string[] = [];
    const setup = createScriptedQdt({ automatic: false, responses: { automatic: false, forcedGc: { gc: () => void gcCalls.count++, cooldownMs: 0 } } });
    cleanups.push(() => setup.qdt.close());
    setup.qdt.manager.registerReleaser({ name: 'cache', release: (level) => void releases.push(level) });

    const storage = createQDTEnhancedStorage({ database: null });
    cleanups.push(() => storage.close());
    const rows = createObjectPool({ create: () => ({ values: [] as number[] }), name: 'rows' });

    const app = express();
    const installation = qdtMiddleware(app, {
      qdt: setup.qdt,
      storage,
      pools: { rows },
      headroom: { logger: silentLogger, shedding: { warmUpMs: 0, ramp: { fromRatio: 0.767, toRatio: 0.867 } }, ...(options.token ? { token: options.token } : {}) },
    });
    app.get('/work', (_request, response) => void response.type('text/plain').send('ok'));

    const server = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    installation.attachStream(server);
    cleanups.push(async () => {
      await installation.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    return { port: (server.address() as AddressInfo).port, setup, installation, gcCalls, releases };
  }

  it('GET /api/qdt/metrics returns qdt and pools', async () => {
    const { port, setup } = await serve();
    setup.sampleAt(0.5, 0.9);

    const result = await send(port, '/api/qdt/metrics');
    const body = json(result) as { qdt: Record<string, unknown>; pools: Record<string, Record<string, unknown>> };

    assert.equal(result.status, 200);
    assert.equal(body.qdt.filament, 0.5);
    assert.equal(body.qdt.status, 'BALANCED');
    assert.deepEqual(Object.keys(body.pools).sort(), ['rows', 'storage']);
    assert.equal(body.pools.rows?.name, 'rows');
    assert.ok(body.pools.storage?.pools, 'storage reports its buffer pool');
  });

  it('GET /api/qdt/metrics before a sample', async () => {
    const { port } = await serve();
    const body = json(await send(port, '/api/qdt/metrics'));
    assert.equal(body.qdt, null);
  });

  it('GET /api/qdt/analytics summarizes the window', async () => {
    const { port, setup } = await serve();
    setup.sampleAt(0.3, 0.9);
    setup.sampleAt(0.9, 0.9);

    const result = await send(port, '/api/qdt/analytics?window=5m');
    const body = json(result) as { qdt: { windowMs: number; samples: number; statusCounts: Record<string, number> }; headroom: { source: string } };

    assert.equal(result.status, 200);
    assert.equal(body.qdt.windowMs, 300_000);
    assert.equal(body.qdt.samples, 2);
    assert.equal(body.qdt.statusCounts.OPTIMAL, 1);
    assert.equal(body.qdt.statusCounts.CRITICAL, 1);
    assert.equal(body.headroom.source, 'built-in');
  });

  it('GET /api/qdt/analytics rejects a bad window', async () => {
    const { port } = await serve();
    const result = await send(port, '/api/qdt/analytics?window=forever');

    assert.equal(result.status, 400);
    assert.equal(json(result).parameter, 'window');
  });

  it('POST /api/qdt/quantum-tunneling forces a GC', async () => {
    const { port, gcCalls } = await serve();

    const result = await send(port, '/api/qdt/quantum-tunneling', { method: 'POST' });
    const body = json(result) as { operation: string; trigger: string; action: { action: string; done: boolean } };

    assert.equal(result.status, 200);
    assert.equal(body.operation, 'quantum-tunneling');
    assert.equal(body.trigger, 'api');
    assert.equal(body.action.action, 'forced-gc');
    assert.equal(body.action.done, true);
    assert.equal(gcCalls.count, 1);
  });

  it('POST /api/qdt/quantum-tunneling has a cooldown', async () => {
    const { port, gcCalls } = await serve();

    await send(port, '/api/qdt/quantum-tunneling', { method: 'POST' });
    const second = await send(port, '/api/qdt/quantum-tunneling', { method: 'POST' });

    assert.equal(second.status, 429);
    assert.equal(second.headers['retry-after'], '10');
    assert.equal(gcCalls.count, 1);
  });

  it('POST /api/qdt/gravitational-funneling relieves', async () => {
    const { port, releases } = await serve();

    const result = await send(port, '/api/qdt/gravitational-funneling', { method: 'POST' });
    const body = json(result) as { operation: string; action: { action: string; level: string } };

    assert.equal(result.status, 200);
    assert.equal(body.operation, 'gravitational-funneling');
    assert.equal(body.action.action, 'relieve');
    assert.equal(body.action.level, 'moderate');
    assert.deepEqual(releases, ['moderate']);
  });

  it('POST routes require the token', async () => {
    const { port } = await serve({ token: 'a-token-of-24-characters' });

    const denied = await send(port, '/api/qdt/gravitational-funneling', { method: 'POST' });
    const allowed = await send(port, '/api/qdt/gravitational-funneling', { method: 'POST', headers: { authorization: 'Bearer a-token-of-24-characters' } });

    assert.equal(denied.status, 401);
    assert.equal(allowed.status, 200);
  });

  it('GET /api/qdt/pools lists pool figures', async () => {
    const { port } = await serve();
    const result = await send(port, '/api/qdt/pools');
    const body = json(result) as { pools: Record<string, { hitRatio?: number }> };

    assert.equal(result.status, 200);
    assert.equal(body.pools.rows?.hitRatio, 0);
    assert.ok(body.pools.storage);
  });

  it('GET /api/qdt/health is 503 at CRITICAL', async () => {
    const { port, setup } = await serve();

    setup.sampleAt(0.5, 0.9);
    const healthy = await send(port, '/api/qdt/health');
    assert.equal(healthy.status, 200);
    assert.deepEqual({ ...json(healthy), time: null }, { status: 'ok', qdtStatus: 'BALANCED', level: 'normal', filament: 0.5, coherence: json(healthy).coherence, time: null });

    setup.sampleAt(0.9, 0.9);
    const critical = await send(port, '/api/qdt/health');
    assert.equal(critical.status, 503);
    assert.equal(critical.headers['retry-after'], '10');
    assert.equal(json(critical).qdtStatus, 'CRITICAL');
  });

  it('answers 404, 405 and 400', async () => {
    const { port } = await serve();

    assert.equal((await send(port, '/api/qdt/nothing')).status, 404);
    const wrongMethod = await send(port, '/api/qdt/metrics', { method: 'POST' });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.allow, 'GET');
    assert.equal((await send(port, '/api/qdt/metrics?x=1')).status, 400);
  });

  it('mounts headroom API with QDT sections', async () => {
    const { port, setup } = await serve();
    setup.sampleAt(0.5, 0.9);

    const result = await send(port, '/headroom/metrics');
    const body = json(result) as { qdt: { status: string }; pools: Record<string, unknown> };

    assert.equal(result.status, 200);
    assert.equal(body.qdt.status, 'BALANCED');
    assert.ok(body.pools.rows);
  });

  it('sheds the app routes at CRITICAL', async () => {
    const { port, setup } = await serve();

    setup.sampleAt(0.5, 0.9);
    assert.equal((await send(port, '/work')).status, 200);
    setup.sampleAt(0.95, 0.9);
    assert.equal((await send(port, '/work')).status, 503);
    assert.equal((await send(port, '/api/qdt/health')).status, 503, 'the QDT routes are served, not shed');
  });

  it('broadcasts optimizations on the stream', async () => {
    const { port } = await serve();
    const client = new WebSocket(`ws://127.0.0.1:${port}/headroom/stream`);
    const messages: Array<{ type: string; data: { operation?: string } }> = [];
    client.on('message', (data) => messages.push(JSON.parse(String(data))));
    await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));

    await send(port, '/api/qdt/quantum-tunneling', { method: 'POST' });
    for (let turn = 0; turn < 50 && !messages.some((message) => message.type === 'qdt-optimization'); turn++) await nextTurn();
    await new Promise((resolve) => setTimeout(resolve, 50));
    client.close();

    const optimization = messages.find((message) => message.type === 'qdt-optimization');
    assert.ok(optimization, `messages: ${messages.map((message) => message.type).join(', ')}`);
    assert.equal(optimization.data.operation, 'quantum-tunneling');
  });

  it('creates and stops its own manager', async () => {
    const app = express();
    const installation = qdtMiddleware(app, { qdt: { logger: silentLogger }, headroom: { logger: silentLogger } });

    assert.equal(installation.qdt.running, true);
    assert.equal(installation.qdt.manager.intervalMs, 5000);
    await installation.close();
    assert.equal(installation.qdt.running, false);
  });
});
