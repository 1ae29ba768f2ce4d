import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, describe, it } from 'node:test';
import { QDTMemoryManager, type QdtOptimizationEvent } from '../../src/qdt/manager.js';
import { createObjectPool } from '../../src/pools/object-pool.js';
import { silentLogger } from '../../src/util/logger.js';
import { createScriptedQdt, type ScriptedQdt } from './helpers.js';

describe('QDTMemoryManager', () => {
  const created: ScriptedQdt[] = [];
  afterEach(() => {
    for (const setup of created.splice(0)) setup.qdt.close();
  });

  function scripted(options: ConstructorParameters<typeof QDTMemoryManager>[0] = {}): ScriptedQdt {
    const setup = createScriptedQdt(options);
    created.push(setup);
    return setup;
  }

  /** Forced GC through a fake gc(), with no cooldown of its own, so only the QDT cooldown spaces the runs. */
  function withFakeGc(calls: { count: number }): ConstructorParameters<typeof QDTMemoryManager>[0] {
    return { responses: { automatic: false, forcedGc: { gc: () => void calls.count++, cooldownMs: 0 } } };
  }

  it('samples every 5 s by default', () => {
    const qdt = new QDTMemoryManager({ logger: silentLogger });
    assert.equal(qdt.manager.intervalMs, 5000);
    qdt.close();
  });

  it('rejects a thresholds option', () => {
    assert.throws(() => new QDTMemoryManager({ thresholds: { critical: 0.9 } } as never), { name: 'TypeError', message: /Invalid option `thresholds`/ });
  });

  it('rejects an invalid cooldown', () => {
    assert.throws(() => new QDTMemoryManager({ tunnelingCooldownMs: -1, logger: silentLogger }), { name: 'RangeError', message: /tunnelingCooldownMs/ });
  });

  it('reaches critical at LAMBDA', () => {
    const { qdt, sampleAt } = scripted();

    sampleAt(0.8);
    assert.equal(qdt.level, 'high');
    sampleAt(0.87);
    assert.equal(qdt.level, 'critical');
  });

  it('returns metrics of the latest sample', () => {
    const { qdt, sampleAt } = scripted();
    assert.equal(qdt.metrics(), null);

    sampleAt(0.5, 0.9);
    const metrics = qdt.metrics();
    assert.ok(metrics);
    assert.equal(metrics.filament, 0.5);
    assert.ok(Math.abs(metrics.coherence - 0.9) < 1e-6);
    assert.equal(metrics.status, 'BALANCED');
  });

  it('tunnels above LAMBDA with cooldown', () => {
    const gcCalls = { count: 0 };
    const { qdt, sampleAt } = scripted({ ...withFakeGc(gcCalls), tunnelingCooldownMs: 30_000 });
    const events: QdtOptimizationEvent[] = [];
    qdt.on('optimization', (event) => events.push(event));

    sampleAt(0.86);
    assert.equal(gcCalls.count, 0, 'no tunneling at or below LAMBDA');

    sampleAt(0.9);
    assert.equal(gcCalls.count, 1);
    assert.equal(events[0]?.operation, 'quantum-tunneling');
    assert.equal(events[0]?.trigger, 'automatic');
    assert.equal(events[0]?.action.action, 'forced-gc');
    assert.equal(events[0]?.before?.status, 'CRITICAL');

    sampleAt(0.9, 0.8, 10_000);
    assert.equal(gcCalls.count, 1, 'within the 30 s cooldown');

    sampleAt(0.9, 0.8, 20_000);
    assert.equal(gcCalls.count, 2, 'after the cooldown');
    assert.equal(qdt.operationStats()['quantum-tunneling'].automatic, 2);
  });

  it('tunneling reports a skipped GC', () => {
    const { qdt } = scripted();
    const event = qdt.quantumTunneling();

    assert.equal(event.action.action, 'forced-gc');
    assert.equal((event.action as { done: boolean }).done, false);
    assert.equal(qdt.operationStats()['quantum-tunneling'].skipped, 1);
  });

  it('funnels below ETA with cooldown', async () => {
    const { qdt, sampleAt } = scripted({ funnelingCooldownMs: 60_000 });
    const levels: string[] = [];
    qdt.manager.registerReleaser({ name: 'cache', minLevel: 'moderate', release: (level) => void levels.push(level) });
    const events: QdtOptimizationEvent[] = [];
    qdt.on('optimization', (event) => events.push(event));

    sampleAt(0.3, 0.53);
    await nextTurn();
    assert.deepEqual(levels, [], 'no funneling at coherence 0.53');

    sampleAt(0.3, 0.5);
    await nextTurn();
    assert.deepEqual(levels, ['moderate']);
    assert.equal(events[0]?.operation, 'gravitational-funneling');
    assert.equal(events[0]?.action.action, 'relieve');

    sampleAt(0.3, 0.5, 30_000);
    await nextTurn();
    assert.equal(levels.length, 1, 'within the 60 s cooldown');

    sampleAt(0.3, 0.5, 30_000);
    await nextTurn();
    assert.equal(levels.length, 2, 'after the cooldown');
  });

  it('runs nothing when automatic is off', async () => {
    const gcCalls = { count: 0 };
    const { qdt, sampleAt } = scripted({ ...withFakeGc(gcCalls), automatic: false });
    const events: QdtOptimizationEvent[] = [];
    qdt.on('optimization', (event) => events.push(event));

    sampleAt(0.95, 0.2);
    await nextTurn();
    assert.equal(gcCalls.count, 0);
    assert.equal(events.length, 0);
  });

  it('rejects overlapping funnelings', async () => {
    const { qdt } = scripted();
    let finish: () => void = () => {};
    qdt.manager.registerReleaser({ name: 'slow', release: () => new Promise<void>((resolve) => (finish = resolve)) });

    const first = qdt.gravitationalFunneling();
    assert.equal(qdt.funnelingRunning, true);
    await assert.rejects(qdt.gravitationalFunneling(), /previous one is still running/);
    finish();
    await first;
    assert.equal(qdt.funnelingRunning, false);
  });

  it('trims registered pools under pressure', async () => {
    const { qdt } = scripted();
    const pool = createObjectPool({ create: () => ({ data: new Array(16).fill(0) }), name: 'rows' });
    const objects = [pool.acquire(), pool.acquire()];
    for (const object of objects) pool.release(object);
    const remove = qdt.registerPool('rows', pool);

    assert.equal((qdt.poolStats().rows as { idle: number }).idle, 2);
    await qdt.manager.relieve('high');
    assert.equal((qdt.poolStats().rows as { idle: number }).idle, 0);

    remove();
    assert.deepEqual(qdt.poolStats(), {});
    assert.throws(() => qdt.registerPool('x', {} as never), { name: 'TypeError' });
  });

  it('summarizes statuses for analytics', () => {
    const { qdt, sampleAt } = scripted({ automatic: false });

    sampleAt(0.3, 0.9);
    sampleAt(0.5, 0.9);
    sampleAt(0.9, 0.9);
    sampleAt(0.5, 0.3);
    const summary = qdt.analytics(60_000);

    assert.equal(summary.samples, 4);
    assert.deepEqual(summary.statusCounts, { CRITICAL: 1, UNSTABLE: 1, OPTIMAL: 1, BALANCED: 1 });
    assert.ok(Math.abs((summary.filament.max ?? 0) - 0.9) < 1e-6);
    assert.equal(summary.operations['quantum-tunneling'].runs, 0);
  });

  it('bounds its history', () => {
    const { qdt, sampleAt } = scripted({ historySize: 2 });

    sampleAt(0.3);
    sampleAt(0.4);
    sampleAt(0.5);
    assert.equal(qdt.history.size, 2);
    assert.ok(Math.abs((qdt.analytics(3_600_000).filament.min ?? 0) - 0.4) < 1e-6);
  });
});
