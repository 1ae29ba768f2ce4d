import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createHeadroomApi, type HeadroomApi } from '../../src/http/api.js';
import type { HeadroomApiOptions } from '../../src/http/api-options.js';
import type { MemoryManager } from '../../src/manager/manager.js';
import { silentLogger } from '../../src/util/logger.js';
import { createScriptedManager, emitManagerEvent, parsePrometheus, promValue, sampleAt, type ScriptedSetup } from '../helpers/http.js';

const MIB = 2 ** 20;
const managers: MemoryManager[] = [];
const apis: HeadroomApi[] = [];

afterEach(() => {
  for (const api of apis.splice(0)) api.close();
  for (const manager of managers.splice(0)) manager.stop();
});

function setUp(options: HeadroomApiOptions = {}): ScriptedSetup & { api: HeadroomApi } {
  const setup = createScriptedManager({ limit: '256MiB' });
  managers.push(setup.manager);
  const api = createHeadroomApi(setup.manager, { clock: setup.clock, logger: silentLogger, shedding: { warmUpMs: 0, clock: setup.clock }, ...options });
  apis.push(api);
  return { ...setup, api };
}

async function scrape(api: HeadroomApi): Promise<{ text: string; contentType: string | undefined }> {
  const response = await api.handle({ method: 'GET', path: '/headroom/metrics/prometheus', query: new URLSearchParams(), headers: {}, remoteAddress: '127.0.0.1' });
  assert.ok(response);
  assert.equal(response.status, 200);
  return { text: response.body, contentType: response.headers['content-type'] };
}

const HEADROOM_FAMILIES: Record<string, string> = {
  headroom_heap_used_bytes: 'gauge',
  headroom_heap_total_bytes: 'gauge',
  headroom_heap_limit_bytes: 'gauge',
  headroom_heap_budget_bytes: 'gauge',
  headroom_external_bytes: 'gauge',
  headroom_array_buffers_bytes: 'gauge',
  headroom_rss_bytes: 'gauge',
  headroom_process_limit_bytes: 'gauge',
  headroom_event_loop_utilization_ratio: 'gauge',
  headroom_event_loop_delay_p99_seconds: 'gauge',
  headroom_level: 'gauge',
  headroom_usage_ratio: 'gauge',
  headroom_shed_ratio: 'gauge',
  headroom_live_bytes: 'gauge',
  headroom_leak_rate_bytes_per_second: 'gauge',
  headroom_seconds_to_limit: 'gauge',
  headroom_gc_collections_total: 'counter',
  headroom_gc_pause_seconds_total: 'counter',
  headroom_actions_total: 'counter',
  headroom_reclaimed_bytes_total: 'counter',
  headroom_shed_requests_total: 'counter',
};

describe('Prometheus export', () => {
  it('parses and carries every headroom family', async () => {
    const setup = setUp();
    sampleAt(setup, 0.5);
    const { text, contentType } = await scrape(setup.api);
    const families = parsePrometheus(text);

    assert.match(contentType ?? '', /^text\/plain; version=0\.0\.4/);
    for (const [name, type] of Object.entries(HEADROOM_FAMILIES)) {
      assert.equal(families.get(name)?.type, type, `${name} should be a ${type}`);
      assert.ok((families.get(name)?.help ?? '').length > 0, `${name} should have help text`);
    }
    assert.equal([...families.keys()].filter((name) => !name.startsWith('headroom_')).length, 0, 'no default metrics unless asked');
  });

  it('reads values from the latest sample', async () => {
    const setup = setUp();
    setup.probe.heapReading.usedBytes = 20 * MIB;
    setup.probe.eventLoop = { delayP50Ms: 10, delayP99Ms: 25, utilization: 0.4 };
    sampleAt(setup, 0.95);
    const families = parsePrometheus((await scrape(setup.api)).text);

    assert.equal(promValue(families, 'headroom_level'), 3);
    assert.equal(promValue(families, 'headroom_rss_bytes'), Math.round(0.95 * 256 * MIB));
    assert.equal(promValue(families, 'headroom_process_limit_bytes'), 256 * MIB);
    assert.equal(promValue(families, 'headroom_heap_limit_bytes'), 100 * MIB);
    assert.equal(promValue(families, 'headroom_heap_used_bytes'), 20 * MIB);
    assert.equal(promValue(families, 'headroom_heap_budget_bytes'), setup.manager.latest?.heapBudgetBytes);
    assert.equal(promValue(families, 'headroom_usage_ratio', { budget: 'process' }).toFixed(3), '0.950');
    assert.equal(promValue(families, 'headroom_usage_ratio', { budget: 'heap' }), setup.manager.latest?.heapUsageRatio);
    assert.equal(promValue(families, 'headroom_event_loop_utilization_ratio'), 0.4);
    assert.equal(promValue(families, 'headroom_event_loop_delay_p99_seconds'), 0.025);
    assert.equal(promValue(families, 'headroom_shed_ratio'), 1);
  });

  it('omits sample figures before the first sample', async () => {
    const { api } = setUp();
    const families = parsePrometheus((await scrape(api)).text);

    assert.equal(families.get('headroom_heap_used_bytes')?.samples.length, 0);
    assert.equal(families.get('headroom_rss_bytes')?.samples.length, 0);
    assert.equal(promValue(families, 'headroom_level'), 0);
    assert.equal(families.get('headroom_usage_ratio')?.samples.length, 0);
  });

  it('omits the process limit and forecast without one', async () => {
    const setup = createScriptedManager({ limit: null });
    managers.push(setup.manager);
    const api = createHeadroomApi(setup.manager, { logger: silentLogger, analysis: null });
    apis.push(api);
    setup.clock.advance(1000);
    setup.manager.sampleNow();
    const families = parsePrometheus((await scrape(api)).text);

    assert.equal(families.get('headroom_process_limit_bytes')?.samples.length, 0);
    assert.equal(families.get('headroom_seconds_to_limit')?.samples.length, 0);
    assert.equal(families.get('headroom_live_bytes')?.samples.length, 0, 'no live set without an analysis provider');
  });

  it('reads leak figures from the analysis provider', async () => {
    const setup = setUp({
      analysis: () => ({
        liveSetBytes: 50 * MIB,
        leaks: [
          { kind: 'heap', rateBytesPerSecond: 2048 },
          { kind: 'native', rateBytesPerSecond: 512 },
        ],
        timeToLimitMs: 90_000,
        budget: 'process',
      }),
    });
    sampleAt(setup, 0.5);
    const families = parsePrometheus((await scrape(setup.api)).text);

    assert.equal(promValue(families, 'headroom_live_bytes'), 50 * MIB);
    assert.equal(promValue(families, 'headroom_leak_rate_bytes_per_second', { kind: 'heap' }), 2048);
    assert.equal(promValue(families, 'headroom_leak_rate_bytes_per_second', { kind: 'native' }), 512);
    assert.equal(promValue(families, 'headroom_seconds_to_limit'), 90);
  });

  it("reads the manager's live set by default", async () => {
    const setup = setUp();
    sampleAt(setup, 0.5);
    const families = parsePrometheus((await scrape(setup.api)).text);

    assert.equal(promValue(families, 'headroom_live_bytes'), setup.manager.latest?.liveBytes);
    assert.equal(families.get('headroom_leak_rate_bytes_per_second')?.samples.length, 0, 'no leak reported');
  });

  it('counts GC, actions and shed requests', async () => {
    const setup = setUp();
    setup.probe.gc = { ...setup.probe.gc, count: 3, pauseMs: 1500 };
    sampleAt(setup, 0.5);
    setup.probe.gc = { ...setup.probe.gc, count: 2, pauseMs: 500 };
    sampleAt(setup, 0.95);
    emitManagerEvent(setup.manager, 'action', { type: 'action', action: 'relieve', reclaimedBytes: 4 * MIB });
    emitManagerEvent(setup.manager, 'action', { type: 'action', action: 'relieve', reclaimedBytes: 2 * MIB });
    emitManagerEvent(setup.manager, 'action', { type: 'action', action: 'forced-gc', reclaimedBytes: 1 * MIB });
    for (let index = 0; index < 7; index++) setup.api.shedder?.shouldShed();

    const families = parsePrometheus((await scrape(setup.api)).text);
    assert.equal(promValue(families, 'headroom_gc_collections_total'), 5);
    assert.equal(promValue(families, 'headroom_gc_pause_seconds_total'), 2);
    assert.equal(promValue(families, 'headroom_actions_total', { action: 'relieve' }), 2);
    assert.equal(promValue(families, 'headroom_actions_total', { action: 'forced-gc' }), 1);
    assert.equal(promValue(families, 'headroom_reclaimed_bytes_total', { action: 'relieve' }), 6 * MIB);
    assert.equal(promValue(families, 'headroom_shed_requests_total'), 7);

    // A second scrape repeats the totals instead of adding them again.
    const again = parsePrometheus((await scrape(setup.api)).text);
    assert.equal(promValue(again, 'headroom_gc_collections_total'), 5);
    assert.equal(promValue(again, 'headroom_actions_total', { action: 'relieve' }), 2);
  });

  it('adds default nodejs metrics when asked', async () => {
    const { api } = setUp({ prometheus: { defaultMetrics: true } });
    const families = parsePrometheus((await scrape(api)).text);

    assert.equal(families.get('nodejs_heap_size_used_bytes')?.type, 'gauge');
    assert.ok(families.has('process_cpu_seconds_total'));
    assert.ok(families.has('headroom_level'));
  });

  it('fills and cleans up a given registry', async () => {
    const registry = new Registry();
    const setup = setUp({ prometheus: { registry } });
    sampleAt(setup, 0.5);

    assert.ok((await registry.metrics()).includes('headroom_level 0'));
    setup.api.close();
    assert.equal((await registry.metrics()).trim(), '');
  });

  it('responds 404 when turned off', async () => {
    const { api } = setUp({ prometheus: false });
    const response = await api.handle({ method: 'GET', path: '/headroom/metrics/prometheus', query: new URLSearchParams(), headers: {}, remoteAddress: '127.0.0.1' });

    assert.equal(response?.status, 404);
    assert.equal(api.registry, null);
  });
});
