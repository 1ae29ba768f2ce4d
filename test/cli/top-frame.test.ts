import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCompleteSample, renderTopFrame, sampleFromMetrics, describeTopEvent, type TopState } from '../../src/cli/top-frame.js';
import { createHeadroomApi } from '../../src/http/api.js';
import { silentLogger } from '../../src/util/logger.js';
import { createScriptedManager, json, sampleAt } from '../helpers/http.js';

const MIB = 2 ** 20;

function state(overrides: Partial<TopState> = {}): TopState {
  return { url: 'http://127.0.0.1:9000/headroom', connection: 'stream', lastError: null, sample: null, metrics: null, events: [], ...overrides };
}

describe('renderTopFrame', () => {
  it('draws a full sample with the dashboard lines', () => {
    const setup = createScriptedManager();
    sampleAt(setup, 0.5);
    const sample = setup.manager.latest;
    setup.manager.stop();
    assert.ok(sample);
    assert.equal(isCompleteSample(sample), true);

    const lines = renderTopFrame(state({ sample: sample as unknown as Record<string, unknown> }));
    assert.match(lines[0] ?? '', /^headroom top · http:\/\/127\.0\.0\.1:9000\/headroom · live {2}\d\d:\d\d:\d\d {2}level NORMAL \(process budget\)$/);
    assert.match(lines[1] ?? '', /^heap {5}10\.0 MiB \/ /);
    assert.match(lines[2] ?? '', /^process  512\.0 MiB \/ 1\.0 GiB {3}50 % used/);
    assert.ok(lines.some((line) => line.startsWith('forecast live set 10.0 MiB, no growth reported')), lines.join('\n'));
    assert.deepEqual(lines.slice(-2), ['events', '  none yet']);
  });

  it('draws a sample with missing fields', () => {
    const lines = renderTopFrame(state({ sample: { time: 1_700_000_000_000, heapUsedBytes: 50 * MIB, level: 'extreme', newField: { nested: true } } }));
    assert.match(lines[0] ?? '', /level EXTREME$/);
    assert.equal(lines[1], 'heap     50.0 MiB used, budget n/a, n/a of it (live set); V8 limit n/a');
    assert.equal(lines[2], 'process  n/a RSS, no limit');
    assert.ok(lines.every((line) => !line.includes('undefined') && !line.includes('NaN')), lines.join('\n'));
  });

  it('draws a frame before any sample', () => {
    const lines = renderTopFrame(state({ connection: 'offline', lastError: 'connect ECONNREFUSED 127.0.0.1:9000' }));
    assert.equal(lines[0], 'headroom top · http://127.0.0.1:9000/headroom · offline, retrying');
    assert.ok(lines.includes('error    connect ECONNREFUSED 127.0.0.1:9000'), lines.join('\n'));
  });

  it('lists forecast, shedding, governor, pools and events', () => {
    const metrics = {
      forecast: { timeToLimitMs: 252_000, budget: 'heap' },
      leak: { leaks: [{ kind: 'heap', rateBytesPerSecond: 1.5 * MIB }] },
      liveSet: { liveBytes: 80 * MIB },
      shedding: { shedRatio: 0.25, reason: 'memory', shedRequests: 120 },
      governor: { level: 'high', windowSize: 2, active: 2, queued: 5, nested: { ignored: true } },
      pools: { buffers: { inUse: 3, idle: 5, idleBytes: 2 * MIB, hitRatio: 0.9 } },
    };
    const events = [{ type: 'pressure', time: 1_700_000_000_000, text: 'normal → high' }];
    const lines = renderTopFrame(state({ metrics, events }));

    assert.ok(lines.includes('forecast live set 80.0 MiB, limit in 4m 12s on the heap budget (heap +1.5 MiB/s)'), lines.join('\n'));
    assert.ok(lines.includes('shedding 25 % of requests (memory), 120 shed in all'), lines.join('\n'));
    assert.ok(lines.includes('governor level high, windowSize 2, active 2, queued 5'), lines.join('\n'));
    assert.ok(lines.includes('pool     buffers: inUse 3, idle 5, idleBytes 2.0 MiB, hitRatio 90 %'), lines.join('\n'));
    assert.ok(lines.includes('  22:13:20 pressure     normal → high'), lines.join('\n'));
  });
});

describe('sampleFromMetrics', () => {
  it('rebuilds a full sample from GET /metrics', async () => {
    const setup = createScriptedManager();
    const api = createHeadroomApi(setup.manager, { logger: silentLogger });
    sampleAt(setup, 0.5);
    sampleAt(setup, 0.5);
    const response = await api.handle({ method: 'GET', path: '/headroom/metrics', query: new URLSearchParams(), headers: {}, remoteAddress: '127.0.0.1' });
    api.close();
    setup.manager.stop();
    assert.ok(response);

    const metrics = json({ status: response.status, headers: {}, text: response.body });
    const sample = sampleFromMetrics(metrics);
    assert.equal(isCompleteSample(sample), true, JSON.stringify(sample));
    assert.equal(sample?.rssBytes, 512 * MIB);
    assert.equal(sample?.level, 'normal');
  });

  it('returns null before the first sample', () => {
    assert.equal(sampleFromMetrics({ time: null, level: 'normal' }), null);
    assert.equal(sampleFromMetrics(null), null);
  });
});

describe('describeTopEvent', () => {
  it('describes the known event types', () => {
    assert.equal(describeTopEvent('pressure', { from: 'normal', to: 'high', budget: 'heap', usageRatio: 0.83 }), 'normal → high on the heap budget, 83 % used');
    assert.equal(describeTopEvent('leak', { kind: 'heap', rateBytesPerSecond: MIB, timeToLimitMs: 90_000 }), 'heap growing by 1.0 MiB/s, limit in 1m 30s');
    assert.equal(describeTopEvent('leak-cleared', { kind: 'heap', reason: 'freed' }), 'heap: freed');
    assert.equal(describeTopEvent('action', { action: 'relieve', level: 'high', reclaimedBytes: 12 * MIB, errors: [] }), 'relieve at high, reclaimed 12.0 MiB');
    assert.equal(describeTopEvent('action', { action: 'forced-gc', done: false, reason: 'unavailable', message: 'gc is not exposed' }), 'forced-gc skipped: gc is not exposed');
    assert.equal(describeTopEvent('action', { action: 'heap-snapshot', done: true, path: '/tmp/a.heapsnapshot' }), 'heap snapshot written to /tmp/a.heapsnapshot');
    assert.equal(describeTopEvent('warning', { code: 'HEADROOM_X', message: 'text' }), 'HEADROOM_X: text');
  });

  it('lists figures of an unknown type', () => {
    assert.equal(describeTopEvent('shed', { type: 'shed', time: 1, shedRatio: 0.5, reason: 'memory' }), 'shedRatio 50 %, reason memory');
    assert.equal(describeTopEvent('odd', 'text'), 'text');
    assert.equal(describeTopEvent('odd', null), 'null');
  });
});
