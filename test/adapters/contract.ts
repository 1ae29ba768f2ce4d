/**
 * The behaviour every adapter must show over real HTTP on loopback, run by
 * each adapter's test file against an app built with that adapter.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import type { HeadroomApiOptions } from '../../src/http/api-options.js';
import type { HeadroomActions } from '../../src/http/types.js';
import type { MemoryManager } from '../../src/manager/manager.js';
import { silentLogger } from '../../src/util/logger.js';
import { createScriptedManager, json, parsePrometheus, postJson, promValue, sampleAt, send, type ScriptedSetup } from '../helpers/http.js';

export interface AppHandle {
  port: number;
  close(): Promise<void>;
}

/**
 * Starts an app on 127.0.0.1 with port 0 that mounts the API under
 * `/headroom`, sheds load with `exemptPaths`, attaches the stream, and serves
 * `GET /work`, `GET /healthz` and `GET /opt-out` (opted out of shedding the
 * adapter's own way), each responding 200 "ok".
 */
export type StartApp = (manager: MemoryManager, options: HeadroomApiOptions, exemptPaths: string[]) => Promise<AppHandle>;

export const TOKEN = 'adapter-test-token-0123456789';

/** Actions that record their calls. */
export function recordingActions(calls: string[]): Required<HeadroomActions> {
  return {
    gc: async () => (calls.push('gc'), { reclaimedBytes: 1 }),
    relieve: async (level) => (calls.push(`relieve:${level}`), { level }),
    snapshot: async () => (calls.push('snapshot'), { path: 'heap.heapsnapshot' }),
  };
}

export function describeAdapterContract(name: string, startApp: StartApp): void {
  const cleanups: Array<() => Promise<void> | void> = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp(options: HeadroomApiOptions = {}): Promise<ScriptedSetup & { port: number; calls: string[] }> {
    const setup = createScriptedManager();
    cleanups.push(() => void setup.manager.stop());
    const calls: string[] = [];
    const app = await startApp(
      setup.manager,
      { logger: silentLogger, clock: setup.clock, actions: recordingActions(calls), shedding: { warmUpMs: 0, clock: setup.clock }, ...options },
      ['/healthz'],
    );
    cleanups.push(() => app.close());
    return { ...setup, port: app.port, calls };
  }

  describe(`${name} routes`, () => {
    it('serves every GET route', async () => {
      const setup = await setUp();
      sampleAt(setup, 0.5);

      const index = await send(setup.port, '/headroom');
      assert.equal(index.status, 200);
      assert.ok(Array.isArray(json(index).routes));

      const metrics = await send(setup.port, '/headroom/metrics');
      assert.equal(metrics.status, 200);
      assert.match(String(metrics.headers['content-type']), /application\/json/);
      assert.equal(json(metrics).level, 'normal');

      const prometheus = await send(setup.port, '/headroom/metrics/prometheus');
      assert.equal(prometheus.status, 200);
      assert.match(String(prometheus.headers['content-type']), /^text\/plain/);
      assert.equal(promValue(parsePrometheus(prometheus.text), 'headroom_level'), 0);

      const analytics = await send(setup.port, '/headroom/analytics?window=5m');
      assert.equal(analytics.status, 200);
      assert.equal(json(analytics).samples, 1);

      const health = await send(setup.port, '/headroom/health');
      assert.equal(health.status, 200);
      assert.equal(json(health).status, 'ok');
    });

    it('responds unknown paths and methods with JSON', async () => {
      const setup = await setUp();

      const missing = await send(setup.port, '/headroom/nope');
      assert.equal(missing.status, 404);
      assert.equal(json(missing).error, 'not_found');

      const wrongMethod = await send(setup.port, '/headroom/gc');
      assert.equal(wrongMethod.status, 405);
      assert.equal(wrongMethod.headers.allow, 'POST');
    });

    it('leaves the app routes alone', async () => {
      const setup = await setUp();
      const work = await send(setup.port, '/work');

      assert.equal(work.status, 200);
      assert.equal(work.text, 'ok');
    });

    it('runs the POST routes for loopback clients', async () => {
      const setup = await setUp({ cooldownMs: 0 });

      assert.equal((await postJson(setup.port, '/headroom/gc', {})).status, 200);
      const optimize = await postJson(setup.port, '/headroom/optimize', { level: 'critical' });
      assert.equal(optimize.status, 200);
      assert.deepEqual(json(optimize).result, { level: 'critical' });
      assert.equal((await send(setup.port, '/headroom/snapshot', { method: 'POST' })).status, 200);
      assert.deepEqual(setup.calls, ['gc', 'relieve:critical', 'snapshot']);
    });

    it('rejects forwarded clients without a token', async () => {
      const setup = await setUp();
      const response = await postJson(setup.port, '/headroom/gc', {}, { 'x-forwarded-for': '198.51.100.7' });

      assert.equal(response.status, 403);
      assert.equal(json(response).error, 'forbidden');
      assert.deepEqual(setup.calls, []);
    });

    it('requires the token when set', async () => {
      const setup = await setUp({ token: TOKEN });

      const missing = await postJson(setup.port, '/headroom/gc', {});
      assert.equal(missing.status, 401);
      assert.equal(missing.headers['www-authenticate'], 'Bearer realm="headroom"');

      const wrong = await postJson(setup.port, '/headroom/gc', {}, { authorization: 'Bearer wrong-token-0123456789' });
      assert.equal(wrong.status, 401);

      const right = await postJson(setup.port, '/headroom/gc', {}, { authorization: `Bearer ${TOKEN}`, 'x-forwarded-for': '198.51.100.7' });
      assert.equal(right.status, 200);
      assert.deepEqual(setup.calls, ['gc']);
    });

    it('responds 400 naming the parameter', async () => {
      const setup = await setUp();

      const window = await send(setup.port, '/headroom/analytics?window=forever');
      assert.equal(window.status, 400);
      assert.equal(json(window).parameter, 'window');

      const unknown = await send(setup.port, '/headroom/health?verbose=1');
      assert.equal(unknown.status, 400);
      assert.equal(json(unknown).parameter, 'verbose');

      const level = await postJson(setup.port, '/headroom/optimize', { level: 'severe' });
      assert.equal(level.status, 400);
      assert.equal(json(level).parameter, 'level');

      const body = await send(setup.port, '/headroom/optimize', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"level":' });
      assert.equal(body.status, 400);
      assert.equal(json(body).parameter, 'body');
      assert.doesNotMatch(body.text, /\n\s+at /, 'no stack trace');
      assert.deepEqual(setup.calls, []);
    });

    it('responds 413 past maxBodyBytes', async () => {
      const setup = await setUp({ maxBodyBytes: 64 });
      const response = await send(setup.port, '/headroom/gc', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pad: 'x'.repeat(200) }) });

      assert.equal(response.status, 413);
      assert.equal(json(response).error, 'payload_too_large');
      assert.equal(json(response).message, 'Request body is larger than 64 bytes');
      assert.equal(json(response).maxBytes, 64);
      assert.deepEqual(setup.calls, []);
    });

    it('responds 429 with Retry-After in the cooldown', async () => {
      const setup = await setUp({ cooldownMs: { gc: '30s' } });

      assert.equal((await postJson(setup.port, '/headroom/gc', {})).status, 200);
      const limited = await postJson(setup.port, '/headroom/gc', {});
      assert.equal(limited.status, 429);
      assert.equal(limited.headers['retry-after'], '30');
      assert.equal(json(limited).error, 'too_many_requests');
      assert.deepEqual(setup.calls, ['gc']);
    });

    it('streams samples', async () => {
      const setup = await setUp();
      sampleAt(setup, 0.5);
      const client = new WebSocket(`ws://127.0.0.1:${setup.port}/headroom/stream`);
      cleanups.push(() => client.terminate());

      const first = await new Promise<{ type: string; data: { level: string } }>((resolve, reject) => {
        client.once('message', (data) => resolve(JSON.parse(String(data)) as { type: string; data: { level: string } }));
        client.once('error', reject);
      });
      assert.equal(first.type, 'sample');
      assert.equal(first.data.level, 'normal');
    });
  });

  describe(`${name} load shedding`, () => {
    it('responds 503 with Retry-After at critical', async () => {
      const setup = await setUp();
      sampleAt(setup, 0.95);
      const response = await send(setup.port, '/work');

      assert.equal(response.status, 503);
      assert.equal(response.headers['retry-after'], '10');
      assert.match(String(response.headers['content-type']), /application\/json/);
      const body = json(response);
      assert.equal(body.error, 'service_unavailable');
      assert.equal(body.level, 'critical');
      assert.equal(body.reason, 'memory');
    });

    it('responds 503 on health at critical', async () => {
      const setup = await setUp();
      sampleAt(setup, 0.95);
      const health = await send(setup.port, '/headroom/health');

      assert.equal(health.status, 503);
      assert.equal(health.headers['retry-after'], '10');
      assert.equal(json(health).level, 'critical');
    });

    it('exempts the API, exempt paths and opted-out routes', async () => {
      const setup = await setUp();
      sampleAt(setup, 0.95);

      assert.equal((await send(setup.port, '/headroom/metrics')).status, 200);
      assert.equal((await send(setup.port, '/headroom/metrics/prometheus')).status, 200);
      assert.equal((await send(setup.port, '/healthz')).status, 200);
      assert.equal((await send(setup.port, '/healthz?probe=1')).status, 200);
      assert.equal((await send(setup.port, '/opt-out')).status, 200);
    });

    it('counts shed requests', async () => {
      const setup = await setUp();
      sampleAt(setup, 0.95);
      for (let index = 0; index < 3; index++) assert.equal((await send(setup.port, '/work')).status, 503);

      assert.equal((json(await send(setup.port, '/headroom/metrics')).shedding as { shedRequests: number }).shedRequests, 3);
      const families = parsePrometheus((await send(setup.port, '/headroom/metrics/prometheus')).text);
      assert.equal(promValue(families, 'headroom_shed_requests_total'), 3);
    });

    it('sheds half the requests mid-ramp', async () => {
      const setup = await setUp();
      sampleAt(setup, 0.85);

      const statuses: number[] = [];
      for (let index = 0; index < 10; index++) statuses.push((await send(setup.port, '/work')).status);
      assert.deepEqual(statuses, [200, 503, 200, 503, 200, 503, 200, 503, 200, 503]);
    });

    it('resumes serving after pressure falls', async () => {
      const setup = await setUp();
      sampleAt(setup, 0.95);
      assert.equal((await send(setup.port, '/work')).status, 503);

      sampleAt(setup, 0.6);
      assert.equal((await send(setup.port, '/work')).status, 200);
    });

    it('sheds nothing in the first 5 s', async () => {
      const setup = createScriptedManager();
      cleanups.push(() => void setup.manager.stop());
      const app = await startApp(setup.manager, { logger: silentLogger, clock: setup.clock, shedding: { clock: setup.clock } }, []);
      cleanups.push(() => app.close());

      sampleAt(setup, 0.95, 4900);
      assert.equal(setup.manager.level, 'critical');
      assert.equal((await send(app.port, '/work')).status, 200);

      sampleAt(setup, 0.95, 100);
      assert.equal((await send(app.port, '/work')).status, 503);
    });

    it('sheds nothing before the first sample', async () => {
      const setup = createScriptedManager();
      cleanups.push(() => void setup.manager.stop());
      const app = await startApp(setup.manager, { logger: silentLogger, shedding: { warmUpMs: 0 } }, []);
      cleanups.push(() => app.close());

      assert.equal((await send(app.port, '/work')).status, 200);
    });
  });
}
