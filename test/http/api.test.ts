import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { createHeadroomApi, type HeadroomApi } from '../../src/http/api.js';
import type { HeadroomApiOptions } from '../../src/http/api-options.js';
import type { ApiRequest, ApiResponse } from '../../src/http/types.js';
import type { MemoryManager } from '../../src/manager/manager.js';
import { silentLogger } from '../../src/util/logger.js';
import { RecordingLogger } from '../helpers/recording-logger.js';
import { createScriptedManager, emitManagerEvent, sampleAt, type ScriptedSetup } from '../helpers/http.js';

const managers: MemoryManager[] = [];
const apis: HeadroomApi[] = [];

afterEach(() => {
  for (const api of apis.splice(0)) api.close();
  for (const manager of managers.splice(0)) manager.stop();
});

const TOKEN = 'test-token-0123456789abcdef';

function setUp(options: HeadroomApiOptions = {}): ScriptedSetup & { api: HeadroomApi } {
  const setup = createScriptedManager();
  managers.push(setup.manager);
  const api = createHeadroomApi(setup.manager, { clock: setup.clock, logger: silentLogger, shedding: { warmUpMs: 0, clock: setup.clock }, ...options });
  apis.push(api);
  return { ...setup, api };
}

function request(method: string, target: string, extra: Partial<ApiRequest> = {}): ApiRequest {
  const [path = '', search = ''] = target.split('?');
  return { method, path, query: new URLSearchParams(search), headers: {}, remoteAddress: '127.0.0.1', ...extra };
}

async function call(api: HeadroomApi, method: string, target: string, extra: Partial<ApiRequest> = {}): Promise<ApiResponse> {
  const response = await api.handle(request(method, target, extra));
  assert.ok(response, `${method} ${target} should be handled`);
  return response;
}

function body(response: ApiResponse): Record<string, any> {
  return JSON.parse(response.body) as Record<string, any>;
}

/** Actions that record their calls and return what they were called with. */
function recordingActions(): { calls: string[]; actions: Required<NonNullable<HeadroomApiOptions['actions']>> } {
  const calls: string[] = [];
  return {
    calls,
    actions: {
      gc: async () => {
        calls.push('gc');
        return { reclaimedBytes: 1024 };
      },
      relieve: async (level) => {
        calls.push(`relieve:${level}`);
        return { level };
      },
      snapshot: async () => {
        calls.push('snapshot');
        return { path: '/tmp/heap.heapsnapshot' };
      },
    },
  };
}

describe('HeadroomApi routing', () => {
  it('passes paths outside the prefix on', async () => {
    const { api } = setUp();

    assert.equal(await api.handle(request('GET', '/metrics')), null);
    assert.equal(await api.handle(request('GET', '/headroomx/metrics')), null);
  });

  it('lists the routes at the prefix', async () => {
    const { api } = setUp();
    const response = await call(api, 'GET', '/headroom');

    assert.equal(response.status, 200);
    const paths = (body(response).routes as Array<{ method: string; path: string }>).map((route) => `${route.method} ${route.path}`);
    assert.ok(paths.includes('GET /headroom/metrics/prometheus'));
    assert.ok(paths.includes('POST /headroom/optimize'));
  });

  it('responds 404 as JSON for unknown paths', async () => {
    const { api } = setUp();
    const response = await call(api, 'GET', '/headroom/nope');

    assert.equal(response.status, 404);
    assert.equal(body(response).error, 'not_found');
    assert.match(response.headers['content-type'] ?? '', /application\/json/);
  });

  it('responds 405 with Allow for a wrong method', async () => {
    const { api } = setUp();
    const response = await call(api, 'DELETE', '/headroom/metrics');

    assert.equal(response.status, 405);
    assert.equal(response.headers.allow, 'GET');
    assert.equal(body(response).error, 'method_not_allowed');
  });

  it('responds HEAD as GET', async () => {
    const { api } = setUp();
    assert.equal((await call(api, 'HEAD', '/headroom/health')).status, 200);
  });

  it('rejects an unknown query parameter by name', async () => {
    const { api } = setUp();
    const response = await call(api, 'GET', '/headroom/metrics?verbose=1');

    assert.equal(response.status, 400);
    assert.equal(body(response).parameter, 'verbose');
    assert.match(body(response).message, /Unknown query parameter `verbose`/);
  });

  it('serves routes at the root with an empty prefix', async () => {
    const { api } = setUp({ prefix: '' });

    assert.equal((await call(api, 'GET', '/health')).status, 200);
    assert.equal((await call(api, 'GET', '/nope')).status, 404);
  });

  it('responds 426 on /stream without an upgrade', async () => {
    const { api } = setUp();
    const response = await call(api, 'GET', '/headroom/stream');

    assert.equal(response.status, 426);
    assert.equal(response.headers.upgrade, 'websocket');
  });
});

describe('HeadroomApi GET /metrics', () => {
  it('returns nulls before the first sample', async () => {
    const { api } = setUp();
    const metrics = body(await call(api, 'GET', '/headroom/metrics'));

    assert.equal(metrics.time, null);
    assert.equal(metrics.level, 'normal');
    assert.equal(metrics.heap, null);
    assert.equal(metrics.budgets, null);
    assert.equal(metrics.limits.heapLimitBytes, 100 * 2 ** 20);
  });

  it('returns the latest sample and state', async () => {
    const setup = setUp();
    setup.probe.gc = { ...setup.probe.gc, count: 4, pauseMs: 12 };
    sampleAt(setup, 0.85);
    const metrics = body(await call(setup.api, 'GET', '/headroom/metrics'));
    const rssBytes = Math.round(0.85 * 1024 * 2 ** 20);

    assert.equal(metrics.level, 'high');
    assert.equal(metrics.budget, 'process');
    assert.equal(metrics.usageRatio.toFixed(3), '0.850');
    assert.equal(metrics.budgets.process.usageRatio.toFixed(3), '0.850');
    assert.equal(metrics.budgets.process.usedBytes, rssBytes);
    assert.equal(metrics.budgets.process.limitBytes, 1024 * 2 ** 20);
    assert.equal(metrics.budgets.heap.usedBytes, 10 * 2 ** 20);
    assert.equal(metrics.heap.limitBytes, 100 * 2 ** 20);
    assert.equal(metrics.limits.processLimitSource, 'configured');
    assert.equal(metrics.process.rssBytes, rssBytes);
    assert.equal(metrics.process.pid, process.pid);
    assert.deepEqual(metrics.gc.total, { count: 4, pauseMs: 12 });
    assert.equal(metrics.eventLoop.utilization, 0.1);
    assert.equal(metrics.shedding.shedRatio, 0.5);
    assert.deepEqual(metrics.liveSet, { liveBytes: 10 * 2 ** 20 }, "the manager's live set estimate");
    assert.deepEqual(metrics.leak, { leaks: [] });
    assert.deepEqual(metrics.forecast, { timeToLimitMs: null, budget: null });
    assert.equal(metrics.sampler.samples, 1);
  });

  it('leaves leak figures out with analysis null', async () => {
    const setup = setUp({ analysis: null });
    sampleAt(setup, 0.5);
    const metrics = body(await call(setup.api, 'GET', '/headroom/metrics'));

    assert.equal(metrics.liveSet, null);
    assert.equal(metrics.leak, null);
    assert.equal(metrics.forecast, null);
  });

  it('adds analysis and extra sections', async () => {
    const setup = setUp({
      analysis: () => ({ liveSetBytes: 42, leaks: [{ kind: 'heap', rateBytesPerSecond: 1000 }], timeToLimitMs: 60_000, budget: 'heap' }),
      extraMetrics: () => ({ pools: { buffers: { size: 3 } }, governor: { concurrency: 8 }, level: 'overridden?' }),
    });
    sampleAt(setup, 0.5);
    const metrics = body(await call(setup.api, 'GET', '/headroom/metrics'));

    assert.deepEqual(metrics.liveSet, { liveBytes: 42 });
    assert.deepEqual(metrics.leak, { leaks: [{ kind: 'heap', rateBytesPerSecond: 1000 }] });
    assert.deepEqual(metrics.forecast, { timeToLimitMs: 60_000, budget: 'heap' });
    assert.deepEqual(metrics.pools, { buffers: { size: 3 } });
    assert.deepEqual(metrics.governor, { concurrency: 8 });
    assert.equal(metrics.level, 'normal', 'an extra section cannot replace a built-in one');
  });

  it('serves metrics when a provider throws', async () => {
    const logger = new RecordingLogger();
    const setup = setUp({
      logger,
      analysis: () => {
        throw new Error('detector broke');
      },
      extraMetrics: () => {
        throw new Error('pool broke');
      },
    });
    const response = await call(setup.api, 'GET', '/headroom/metrics');

    assert.equal(response.status, 200);
    assert.equal(body(response).leak, null);
    assert.equal(logger.at('error').length, 2);
  });
});

describe('HeadroomApi GET /health', () => {
  it('responds 200 below critical', async () => {
    const setup = setUp();
    sampleAt(setup, 0.85);
    const response = await call(setup.api, 'GET', '/headroom/health');

    assert.equal(response.status, 200);
    assert.equal(body(response).status, 'ok');
    assert.equal(body(response).level, 'high');
    assert.equal(response.headers['retry-after'], undefined);
  });

  it('responds 503 with Retry-After at critical', async () => {
    const setup = setUp({ healthRetryAfterSeconds: 30 });
    sampleAt(setup, 0.95);
    const response = await call(setup.api, 'GET', '/headroom/health');

    assert.equal(response.status, 503);
    assert.equal(response.headers['retry-after'], '30');
    assert.equal(body(response).status, 'unavailable');
    assert.equal(body(response).level, 'critical');
  });

  it('responds 503 from unhealthyLevel', async () => {
    const setup = setUp({ unhealthyLevel: 'high' });
    sampleAt(setup, 0.85);

    assert.equal((await call(setup.api, 'GET', '/headroom/health')).status, 503);
  });
});

describe('HeadroomApi GET /analytics', () => {
  it('summarizes the built-in history', async () => {
    const setup = setUp();
    for (const ratio of [0.5, 0.6, 0.75, 0.85, 0.95, 0.95, 0.7, 0.5]) sampleAt(setup, ratio);
    emitManagerEvent(setup.manager, 'action', { type: 'action', action: 'relieve', reclaimedBytes: 5000, durationMs: 3, time: setup.clock.epochNow() });
    emitManagerEvent(setup.manager, 'leak', { type: 'leak', kind: 'heap', rateBytesPerSecond: 100, time: setup.clock.epochNow() });

    const summary = body(await call(setup.api, 'GET', '/headroom/analytics?window=1m'));

    assert.equal(summary.source, 'built-in');
    assert.equal(summary.windowMs, 60_000);
    assert.equal(summary.samples, 8);
    assert.equal(summary.usageRatio.min.toFixed(2), '0.50');
    assert.equal(summary.usageRatio.max.toFixed(2), '0.95');
    assert.equal(summary.usageRatio.p95.toFixed(2), '0.95');
    assert.equal(summary.usageRatio.mean.toFixed(4), (5.8 / 8).toFixed(4));
    // Levels: normal, normal, moderate, high, critical, critical, moderate, normal.
    assert.deepEqual(summary.timeAtLevelMs, { normal: 3000, moderate: 2000, high: 1000, critical: 2000 });
    assert.equal(summary.pressureChanges, 5);
    assert.equal(summary.actions.count, 1);
    assert.deepEqual(summary.actions.byAction.relieve, { count: 1, reclaimedBytes: 5000, durationMs: 3 });
    assert.equal(summary.leaks.length, 1);
    assert.equal(summary.truncated, false);
  });

  it('limits the summary to the window', async () => {
    const setup = setUp();
    for (let index = 0; index < 10; index++) sampleAt(setup, 0.5, 1000);
    for (let index = 0; index < 3; index++) sampleAt(setup, 0.6, 10_000);

    // The last three samples are 10 s apart, and the one before them 30 s before the last.
    const summary = body(await call(setup.api, 'GET', '/headroom/analytics?window=25s'));
    assert.equal(summary.samples, 3);
    assert.equal(summary.usageRatio.min.toFixed(2), '0.60');
  });

  it('defaults the window to 15 minutes', async () => {
    const { api } = setUp();
    assert.equal(body(await call(api, 'GET', '/headroom/analytics')).windowMs, 900_000);
  });

  it('rejects a bad window by name', async () => {
    const { api } = setUp();
    for (const window of ['abc', '0s', '25h', '15', '-5m']) {
      const response = await call(api, 'GET', `/headroom/analytics?window=${window}`);
      assert.equal(response.status, 400, window);
      assert.equal(body(response).parameter, 'window', window);
    }

    const twice = await call(api, 'GET', '/headroom/analytics?window=1m&window=2m');
    assert.equal(twice.status, 400);
  });

  it('uses the history provider', async () => {
    const windows: number[] = [];
    const { api } = setUp({ history: { summarize: (windowMs) => (windows.push(windowMs), { fromStore: true }) } });

    assert.deepEqual(body(await call(api, 'GET', '/headroom/analytics?window=2h')), { fromStore: true });
    assert.deepEqual(windows, [7_200_000]);
  });

  it('keeps at most historySize samples', async () => {
    const setup = setUp({ historySize: 5 });
    for (let index = 0; index < 20; index++) sampleAt(setup, 0.5);

    const summary = body(await call(setup.api, 'GET', '/headroom/analytics?window=1h'));
    assert.equal(summary.samples, 5);
    assert.equal(summary.truncated, true);
  });
});

describe('HeadroomApi POST routes', () => {
  it('responds 501 with actions null', async () => {
    const { api } = setUp({ actions: null });
    for (const route of ['gc', 'optimize', 'snapshot']) {
      const response = await call(api, 'POST', `/headroom/${route}`);
      assert.equal(response.status, 501, route);
      assert.equal(body(response).error, 'not_implemented');
    }
  });

  it("uses the manager's responses by default", async () => {
    const setup = createScriptedManager();
    managers.push(setup.manager);
    const api = createHeadroomApi(setup.manager, { logger: silentLogger, clock: setup.clock });
    apis.push(api);

    const optimize = await call(api, 'POST', '/headroom/optimize', { body: '{"level":"high"}' });
    assert.equal(optimize.status, 200);
    assert.equal(body(optimize).result.action, 'relieve');
    assert.equal(body(optimize).result.trigger, 'http');

    const gc = await call(api, 'POST', '/headroom/gc');
    assert.equal(gc.status, 200);
    assert.equal(body(gc).result.action, 'forced-gc');

    // The manager reports its actions as `action` events, which feed the counters.
    assert.equal(api.counters.actions.get('relieve')?.count, 1);
    assert.equal(api.counters.actions.get('forced-gc')?.count, 1);
    assert.notEqual(body(await call(api, 'GET', '/headroom/metrics')).responses, null);
  });

  it('runs the actions for loopback clients', async () => {
    const { calls, actions } = recordingActions();
    const { api } = setUp({ actions });

    const gc = await call(api, 'POST', '/headroom/gc');
    assert.equal(gc.status, 200);
    assert.deepEqual(body(gc).result, { reclaimedBytes: 1024 });
    assert.equal(body(gc).route, 'gc');

    assert.equal((await call(api, 'POST', '/headroom/optimize', { body: '{"level":"high"}' })).status, 200);
    assert.equal((await call(api, 'POST', '/headroom/snapshot', { remoteAddress: '::1' })).status, 200);
    assert.deepEqual(calls, ['gc', 'relieve:high', 'snapshot']);
  });

  it('accepts IPv4-mapped loopback addresses', async () => {
    const { actions } = recordingActions();
    const { api } = setUp({ actions });

    assert.equal((await call(api, 'POST', '/headroom/gc', { remoteAddress: '::ffff:127.0.0.1' })).status, 200);
  });

  it('rejects remote clients without a token', async () => {
    const { calls, actions } = recordingActions();
    const { api } = setUp({ actions });

    const response = await call(api, 'POST', '/headroom/gc', { remoteAddress: '10.1.2.3' });
    assert.equal(response.status, 403);
    assert.equal(body(response).error, 'forbidden');
    assert.deepEqual(calls, []);
  });

  it('treats forwarded requests as remote', async () => {
    const { actions } = recordingActions();
    const { api } = setUp({ actions });

    const forwarded = await call(api, 'POST', '/headroom/gc', { headers: { 'x-forwarded-for': '203.0.113.9' } });
    assert.equal(forwarded.status, 403);
    const standard = await call(api, 'POST', '/headroom/gc', { headers: { forwarded: 'for=203.0.113.9' } });
    assert.equal(standard.status, 403);
  });

  it('requires the bearer token when one is set', async () => {
    const { calls, actions } = recordingActions();
    const { api } = setUp({ actions, token: TOKEN });

    const missing = await call(api, 'POST', '/headroom/gc');
    assert.equal(missing.status, 401, 'a token is required from loopback too');
    assert.equal(missing.headers['www-authenticate'], 'Bearer realm="headroom"');

    const wrong = await call(api, 'POST', '/headroom/gc', { headers: { authorization: 'Bearer not-the-token-at-all' } });
    assert.equal(wrong.status, 401);

    const right = await call(api, 'POST', '/headroom/gc', { remoteAddress: '10.1.2.3', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(right.status, 200);
    assert.deepEqual(calls, ['gc']);
  });

  it('leaves GET routes open unless protectReads', async () => {
    const open = setUp({ token: TOKEN });
    assert.equal((await call(open.api, 'GET', '/headroom/metrics', { remoteAddress: '10.1.2.3' })).status, 200);

    const guarded = setUp({ token: TOKEN, protectReads: true });
    assert.equal((await call(guarded.api, 'GET', '/headroom/metrics', { remoteAddress: '10.1.2.3' })).status, 401);
  });

  it('responds 429 with Retry-After during the cooldown', async () => {
    const { calls, actions } = recordingActions();
    const setup = setUp({ actions, cooldownMs: { gc: '10s' } });

    assert.equal((await call(setup.api, 'POST', '/headroom/gc')).status, 200);
    setup.clock.advance(2500);
    const limited = await call(setup.api, 'POST', '/headroom/gc');
    assert.equal(limited.status, 429);
    assert.equal(limited.headers['retry-after'], '8');
    assert.equal(body(limited).retryAfterSeconds, 8);

    assert.equal((await call(setup.api, 'POST', '/headroom/snapshot')).status, 200, 'each route has its own cooldown');
    setup.clock.advance(7500);
    assert.equal((await call(setup.api, 'POST', '/headroom/gc')).status, 200);
    assert.deepEqual(calls, ['gc', 'snapshot', 'gc']);
  });

  it('responds 426 to a plain GET /stream', async () => {
    const { api } = setUp();
    const response = await call(api, 'GET', '/headroom/stream');

    assert.equal(response.status, 426);
    assert.equal(response.headers.upgrade, 'websocket');
  });

  it('responds 501 to an unattached handshake', async () => {
    const { api } = setUp();
    const response = await call(api, 'GET', '/headroom/stream', { headers: { upgrade: 'websocket', connection: 'Upgrade' } });

    assert.equal(response.status, 501);
    assert.match(body(response).message, /No WebSocket stream is attached to this server: call headroom\.attachStream\(server\)/);
  });

  it('starts no cooldown when the action is off', async () => {
    let snapshots = 0;
    const off = { done: false, reason: 'disabled', message: 'heap snapshots are off' };
    const { api } = setUp({ cooldownMs: { snapshot: '60s' }, actions: { snapshot: async () => (snapshots++, off) } });

    const first = await call(api, 'POST', '/headroom/snapshot');
    const second = await call(api, 'POST', '/headroom/snapshot');

    assert.equal(first.status, 200);
    assert.equal(body(first).result.reason, 'disabled');
    assert.equal(second.status, 200, 'a disabled action leaves no cooldown behind');
    assert.equal(snapshots, 2);
  });

  it('responds 429 while the action still runs', async () => {
    let finish: () => void = () => {};
    const { api } = setUp({ cooldownMs: 0, actions: { gc: () => new Promise((resolve) => (finish = () => resolve({})) ) } });

    const first = call(api, 'POST', '/headroom/gc');
    const second = await call(api, 'POST', '/headroom/gc');
    assert.equal(second.status, 429);
    assert.match(body(second).message, /still running/);

    finish();
    assert.equal((await first).status, 200);
  });

  it('validates the optimize level by name', async () => {
    const { calls, actions } = recordingActions();
    const { api } = setUp({ actions });

    for (const level of ['normal', 'extreme', 3]) {
      const response = await call(api, 'POST', '/headroom/optimize', { body: JSON.stringify({ level }) });
      assert.equal(response.status, 400, String(level));
      assert.equal(body(response).parameter, 'level');
    }
    assert.deepEqual(calls, []);
  });

  it('defaults the optimize level to the current one', async () => {
    const { calls, actions } = recordingActions();
    const setup = setUp({ actions, cooldownMs: 0 });

    await call(setup.api, 'POST', '/headroom/optimize');
    sampleAt(setup, 0.85);
    await call(setup.api, 'POST', '/headroom/optimize', { body: '' });
    assert.deepEqual(calls, ['relieve:moderate', 'relieve:high']);
  });

  it('rejects bad bodies by name', async () => {
    const { calls, actions } = recordingActions();
    const { api } = setUp({ actions });

    const invalidJson = await call(api, 'POST', '/headroom/optimize', { body: '{"level":' });
    assert.equal(invalidJson.status, 400);
    assert.equal(body(invalidJson).parameter, 'body');

    const array = await call(api, 'POST', '/headroom/optimize', { body: '[1]' });
    assert.equal(body(array).parameter, 'body');

    const unknownField = await call(api, 'POST', '/headroom/gc', { body: { force: true } });
    assert.equal(unknownField.status, 400);
    assert.equal(body(unknownField).parameter, 'force');
    assert.deepEqual(calls, []);
  });

  it('responds 500 without a stack when an action fails', async () => {
    const logger = new RecordingLogger();
    const { api } = setUp({
      logger,
      actions: {
        gc: async () => {
          throw new Error('gc is not exposed');
        },
      },
    });
    const response = await call(api, 'POST', '/headroom/gc');

    assert.equal(response.status, 500);
    assert.equal(body(response).error, 'internal_error');
    assert.match(body(response).message, /gc is not exposed/);
    assert.doesNotMatch(response.body, /at .*\.js:\d+/);
    assert.equal(logger.at('error').length, 1);
  });
});

describe('HeadroomApi events', () => {
  it('pushes samples and events to subscribers', () => {
    const setup = setUp({ events: ['custom'] });
    const types: string[] = [];
    setup.api.subscribe((message) => types.push(message.type));

    sampleAt(setup, 0.95);
    emitManagerEvent(setup.manager, 'custom', { time: 1 });
    emitManagerEvent(setup.manager, 'leak', { time: 1 });
    emitManagerEvent(setup.manager, 'not-listed', { time: 1 });
    setup.api.publish('governor', { limit: 4 });

    assert.deepEqual(types, ['pressure', 'sample', 'custom', 'leak', 'governor']);
  });

  it('follows leak and action events', () => {
    const setup = setUp();
    const types: string[] = [];
    setup.api.subscribe((message) => types.push(message.type));

    for (const name of ['leak', 'leak-cleared', 'action', 'warning']) emitManagerEvent(setup.manager, name, { time: 1 });
    assert.deepEqual(types, ['leak', 'leak-cleared', 'action', 'warning']);
  });

  it('detaches from the manager on close', () => {
    const setup = createScriptedManager();
    managers.push(setup.manager);
    const before = setup.manager.eventNames().map((name) => [name, setup.manager.listenerCount(name)]);

    const api = createHeadroomApi(setup.manager, { logger: silentLogger });
    assert.ok(setup.manager.listenerCount('sample') > 0);
    api.close();

    assert.deepEqual(
      setup.manager.eventNames().map((name) => [name, setup.manager.listenerCount(name)]).filter(([, count]) => count !== 0),
      before,
    );
  });
});

describe('HeadroomApi options', () => {
  it('rejects invalid options by name', () => {
    const setup = createScriptedManager();
    managers.push(setup.manager);
    const cases: Array<[HeadroomApiOptions, RegExp]> = [
      [{ prefix: 'headroom' }, /`prefix`: expected an empty string or a path/],
      [{ prefix: '/headroom/' }, /`prefix`/],
      [{ token: 'short' }, /`token`: expected a string of 16 or more visible ASCII characters.*got a string of 5 characters/],
      [{ token: 1234 as never }, /`token`.*got a value of type number/],
      [{ cooldownMs: { gc: -1 } }, /`cooldownMs.gc`/],
      [{ cooldownMs: { purge: 1 } as never }, /`cooldownMs.purge`/],
      [{ unhealthyLevel: 'normal' as never }, /`unhealthyLevel`/],
      [{ historySize: 0 }, /`historySize`: expected an integer from 1/],
      [{ actions: { gc: 'yes' } as never }, /`actions.gc`: expected a function/],
      [{ history: {} as never }, /`history`: expected an object with a summarize/],
      [{ events: ['ok', ''] }, /`events`/],
      [{ maxBodyBytes: 1.5 }, /`maxBodyBytes`/],
      [{ prometheus: { registry: {} } as never }, /`prometheus.registry`/],
      [{ shedding: { warmUpMs: -1 } }, /`shedding.warmUpMs`/],
      [{ verbose: true } as never, /`options.verbose`: expected one of the known options/],
    ];

    for (const [options, message] of cases) {
      assert.throws(() => createHeadroomApi(setup.manager, { logger: silentLogger, ...options }), message, JSON.stringify(options));
    }
  });

  it('does not show the token in errors', () => {
    const setup = createScriptedManager();
    managers.push(setup.manager);

    assert.throws(
      () => createHeadroomApi(setup.manager, { token: 'secret value!' }),
      (error: Error) => !error.message.includes('secret'),
    );
  });
});
