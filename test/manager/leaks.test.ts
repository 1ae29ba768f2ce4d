import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { LeakClearedEvent, LeakEvent, MemoryLeakEvent, ResourceLeakEvent } from '../../src/analysis/leak-events.js';
import { createMemoryManager, type MemoryManager } from '../../src/manager/manager.js';
import type { MemoryManagerOptions } from '../../src/manager/options.js';
import type { Sample } from '../../src/sampling/sample.js';
import { expectedHeapFailureBytes, heapBudget } from '../../src/sampling/sampler.js';
import type { Logger } from '../../src/util/logger.js';
import { silentLogger } from '../../src/util/logger.js';
import { MIB, uniformNoise } from '../helpers/memory-script.js';
import { ScriptedClock, ScriptedProbe } from '../helpers/scripted.js';

/** V8's young generation as `headroom run` assumes it on Node 20: `heap_size_limit` minus `--max-old-space-size`. */
const YOUNG_GENERATION_BYTES = 48 * MIB;

/** A scripted probe that also reports active resources by type. */
class ResourceProbe extends ScriptedProbe {
  resourceCounts: Record<string, number> = {};

  resources(): Record<string, number> {
    return { ...this.resourceCounts };
  }
}

/** What a script sets for one sample. */
interface Moment {
  heapUsedBytes: number;
  /** True when the interval that ends at this sample held a major GC. */
  majorGc: boolean;
  rssBytes?: number;
  externalBytes?: number;
  resources?: Record<string, number>;
}

interface Recorded {
  samples: Array<{ atMs: number; sample: Sample }>;
  leaks: Array<{ atMs: number; event: LeakEvent }>;
  cleared: Array<{ atMs: number; event: LeakClearedEvent }>;
}

const running: MemoryManager[] = [];

afterEach(() => {
  for (const manager of running.splice(0)) manager.stop();
});

/**
 * Creates a manager on a scripted clock and probe with `--max-old-space-size`
 * of `oldSpaceMiB`, as V8 reports it. The one-hour interval keeps the real
 * timer from firing, so only the script takes samples.
 */
function createLeakManager(oldSpaceMiB: number, options: MemoryManagerOptions = {}): { manager: MemoryManager; clock: ScriptedClock; probe: ResourceProbe } {
  const clock = new ScriptedClock();
  const probe = new ResourceProbe();
  probe.majorGcEverySample = false;
  probe.heapReading = { usedBytes: 10 * MIB, totalBytes: 16 * MIB, limitBytes: oldSpaceMiB * MIB + YOUNG_GENERATION_BYTES, externalBytes: 1 * MIB, youngGenerationBytes: YOUNG_GENERATION_BYTES };

  const manager = createMemoryManager({ clock, probe, logger: silentLogger, intervalMs: '1h', pressureIntervalMs: '1h', ...options });
  running.push(manager);
  return { manager, clock, probe };
}

/** Takes one sample per second from 1 s to `durationMs`, with the readings `script(seconds)` returns. */
function runScript(manager: MemoryManager, clock: ScriptedClock, probe: ResourceProbe, durationMs: number, script: (seconds: number) => Moment): Recorded {
  const recorded: Recorded = { samples: [], leaks: [], cleared: [] };
  manager.on('leak', (event) => recorded.leaks.push({ atMs: clock.monotonicMs, event }));
  manager.on('leak-cleared', (event) => recorded.cleared.push({ atMs: clock.monotonicMs, event }));
  manager.start();

  for (let atMs = 1000; atMs <= durationMs; atMs += 1000) {
    const moment = script(atMs / 1000);
    probe.heapReading.usedBytes = moment.heapUsedBytes;
    probe.heapReading.totalBytes = Math.ceil(moment.heapUsedBytes / MIB) * MIB + 4 * MIB;
    probe.heapReading.externalBytes = moment.externalBytes ?? 1 * MIB;
    probe.rss = moment.rssBytes ?? probe.heapReading.totalBytes + probe.heapReading.externalBytes + 40 * MIB;
    probe.resourceCounts = moment.resources ?? {};
    if (moment.majorGc) {
      probe.gc.count = 1;
      probe.gc.byKind.major.count = 1;
    }

    clock.advance(1000);
    recorded.samples.push({ atMs, sample: manager.sampleNow() });
  }

  return recorded;
}

/**
 * Returns heap used in a sawtooth: `garbageBytes` of garbage builds up over each
 * `periodSeconds`, and a major GC at each period boundary leaves the live set.
 */
function sawtooth(seconds: number, liveBytes: number, garbageBytes: number, periodSeconds: number): Moment {
  const phase = (seconds % periodSeconds) / periodSeconds;
  return { heapUsedBytes: liveBytes + garbageBytes * phase, majorGc: phase === 0 };
}

function describeLeaks(recorded: Recorded): string {
  return JSON.stringify([...recorded.leaks, ...recorded.cleared].map(({ atMs, event }) => `${atMs / 1000}s ${event.type} ${event.kind}`));
}

function firstLeak(recorded: Recorded, kind: string): { atMs: number; event: LeakEvent } | undefined {
  return recorded.leaks.find(({ event }) => event.kind === kind);
}

function assertWithin(actual: number | null, expected: number, ratio: number, label: string): void {
  assert.notEqual(actual, null, `${label} is null`);
  const error = Math.abs((actual as number) - expected) / expected;
  assert.ok(error <= ratio, `${label}: ${actual} is ${(error * 100).toFixed(1)} % from ${expected}, more than ${ratio * 100} %`);
}

describe('MemoryManager leak events', () => {
  it('reports unbounded cache as heap leak', () => {
    // 200 requests per second each keep 10 KiB: 2000 KiB/s of live set, under a 96 MiB old space.
    const leakRate = 200 * 10 * 1024;
    const liveAt = (seconds: number): number => 8 * MIB + leakRate * seconds;
    const { manager, clock, probe } = createLeakManager(96);
    const budgetBytes = heapBudget(probe.heapReading.limitBytes, YOUNG_GENERATION_BYTES);

    const recorded = runScript(manager, clock, probe, 40_000, (seconds) => sawtooth(seconds, liveAt(seconds), 12 * MIB, 5));

    const found = firstLeak(recorded, 'heap');
    assert.ok(found, `no heap leak event; events: ${describeLeaks(recorded)}`);
    assert.ok(found.atMs <= 30_000, `reported at ${found.atMs} ms, later than 30 s`);
    assert.ok(liveAt(found.atMs / 1000) < budgetBytes, 'reported only after the live set passed the heap budget');

    const event = found.event as MemoryLeakEvent;
    assertWithin(event.rateBytesPerSecond, leakRate, 0.2, 'rateBytesPerSecond');
    assert.equal(event.budget, 'heap');
    // The manager forecasts to where V8 is expected to give up, 90 % of the old space, past the 80 % budget.
    const realRemainingMs = ((expectedHeapFailureBytes(budgetBytes) - liveAt(found.atMs / 1000)) / leakRate) * 1000;
    assertWithin(event.timeToLimitMs, realRemainingMs, 0.25, 'timeToLimitMs');
    assert.deepEqual(manager.activeLeaks(), [event]);
  });

  it('puts liveBytes and timeToLimitMs on samples', () => {
    const leakRate = 2 * MIB;
    const { manager, clock, probe } = createLeakManager(96);

    const recorded = runScript(manager, clock, probe, 30_000, (seconds) => sawtooth(seconds, 8 * MIB + leakRate * seconds, 12 * MIB, 5));
    const detectedAtMs = firstLeak(recorded, 'heap')?.atMs ?? Number.POSITIVE_INFINITY;

    assert.ok(detectedAtMs <= 30_000, `no heap leak by 30 s; events: ${describeLeaks(recorded)}`);
    for (const { atMs, sample } of recorded.samples) {
      // A post-GC reading stays the estimate until the next major GC.
      const lastGcSeconds = Math.floor(atMs / 5000) * 5;
      const expectedLiveBytes = lastGcSeconds > 0 ? 8 * MIB + leakRate * lastGcSeconds : sample.heapUsedBytes;
      assert.ok(sample.liveBytes <= sample.heapUsedBytes, `liveBytes above heap used at ${atMs} ms`);
      if (lastGcSeconds > 0) assert.equal(sample.liveBytes, expectedLiveBytes, `liveBytes at ${atMs} ms`);

      if (atMs < detectedAtMs) assert.equal(sample.timeToLimitMs, null, `timeToLimitMs at ${atMs} ms, before the leak was reported`);
      else assert.equal(typeof sample.timeToLimitMs, 'number', `timeToLimitMs at ${atMs} ms`);
    }
  });

  it('ignores warm-up fill then sawtooth', () => {
    // 60 MiB filled over 10 s, then trimmed to 20 MiB and sawed between 20 and 80 MiB for 40 s.
    const { manager, clock, probe } = createLeakManager(256);

    const recorded = runScript(manager, clock, probe, 50_000, (seconds) => {
      if (seconds <= 10) return { heapUsedBytes: 6 * MIB * seconds, majorGc: seconds % 2 === 0 };
      return sawtooth(seconds - 10, 20 * MIB, 60 * MIB, 3);
    });

    assert.equal(recorded.leaks.length, 0, describeLeaks(recorded));
    for (const { atMs, sample } of recorded.samples) assert.equal(sample.timeToLimitMs, null, `timeToLimitMs at ${atMs} ms`);
  });

  it('reports leak after sawtooth within 60 s', () => {
    // The fill and sawtooth above, then a 1 MiB/s leak from 50 s on, with the sawtooth still running.
    const leakStartSeconds = 50;
    const { manager, clock, probe } = createLeakManager(256);

    const recorded = runScript(manager, clock, probe, 120_000, (seconds) => {
      if (seconds <= 10) return { heapUsedBytes: 6 * MIB * seconds, majorGc: seconds % 2 === 0 };
      const leakedBytes = MIB * Math.max(0, seconds - leakStartSeconds);
      return sawtooth(seconds - 10, 20 * MIB + leakedBytes, 60 * MIB, 3);
    });

    const found = firstLeak(recorded, 'heap');
    assert.ok(found, `no heap leak event; events: ${describeLeaks(recorded)}`);
    assert.ok(found.atMs > leakStartSeconds * 1000, `reported at ${found.atMs} ms, before the leak began`);
    assert.ok(found.atMs - leakStartSeconds * 1000 <= 60_000, `reported ${found.atMs - leakStartSeconds * 1000} ms after the leak began`);
    assert.equal(recorded.leaks.length, 1, describeLeaks(recorded));
  });

  it('reports native growth without heap leak', () => {
    // Heap flat at 6 MiB; RSS rises 10 MiB/s under swings of +-20 MiB, as zlib streams left open make it do.
    const swing = uniformNoise(7, 20 * MIB);
    const { manager, clock, probe } = createLeakManager(128, { limit: '1GiB' });

    const recorded = runScript(manager, clock, probe, 30_000, (seconds) => ({
      heapUsedBytes: 6 * MIB,
      majorGc: seconds % 4 === 0,
      rssBytes: 80 * MIB + 10 * MIB * Math.min(seconds, 20) + swing(),
    }));

    const found = firstLeak(recorded, 'native');
    assert.ok(found, `no native leak event; events: ${describeLeaks(recorded)}`);
    assert.ok(found.atMs <= 25_000, `reported at ${found.atMs} ms`);
    const event = found.event as MemoryLeakEvent;
    assertWithin(event.rateBytesPerSecond, 10 * MIB, 0.25, 'native rateBytesPerSecond');
    assert.equal(event.budget, 'process');
    assert.ok((event.timeToLimitMs ?? 0) > 0, `timeToLimitMs ${event.timeToLimitMs}`);
    assert.equal(firstLeak(recorded, 'heap'), undefined, describeLeaks(recorded));
  });

  it('reports Timeout growth and heap leak', () => {
    // 20 connections per second; every fourth leaks an interval retaining 1 MiB: 5 Timeouts and 5 MiB per second.
    const { manager, clock, probe } = createLeakManager(256);

    const recorded = runScript(manager, clock, probe, 35_000, (seconds) => {
      const leakedIntervals = 5 * seconds;
      return {
        ...sawtooth(seconds, 8 * MIB + leakedIntervals * MIB, 20 * MIB, 3),
        resources: { Timeout: 4 + leakedIntervals, TTYWrap: 2 },
      };
    });

    const timeouts = recorded.leaks.find(({ event }) => event.kind === 'resources' && event.resourceType === 'Timeout');
    assert.ok(timeouts, `no Timeout leak event; events: ${describeLeaks(recorded)}`);
    assert.ok(timeouts.atMs <= 30_000, `Timeout leak reported at ${timeouts.atMs} ms`);
    assertWithin((timeouts.event as ResourceLeakEvent).ratePerSecond, 5, 0.1, 'Timeout ratePerSecond');

    const heap = firstLeak(recorded, 'heap');
    assert.ok(heap, `no heap leak event; events: ${describeLeaks(recorded)}`);
    assert.ok(heap.atMs <= 30_000, `heap leak reported at ${heap.atMs} ms`);
    assert.equal(recorded.leaks.filter(({ event }) => event.kind === 'resources').length, 1, describeLeaks(recorded));
  });

  it('logs each leak event as a warning', () => {
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (_object, message) => warnings.push(message ?? '') };
    const { manager, clock, probe } = createLeakManager(96, { logger });

    const recorded = runScript(manager, clock, probe, 30_000, (seconds) => sawtooth(seconds, 8 * MIB + 2 * MIB * seconds, 12 * MIB, 5));

    assert.equal(recorded.leaks.length, 1, describeLeaks(recorded));
    assert.deepEqual(warnings, ['headroom: leak (heap)']);
  });

  it('emits nothing with leakDetection false', () => {
    const { manager, clock, probe } = createLeakManager(96, { leakDetection: false });

    const recorded = runScript(manager, clock, probe, 40_000, (seconds) => sawtooth(seconds, 8 * MIB + 2 * MIB * seconds, 12 * MIB, 5));

    assert.equal(recorded.leaks.length, 0, describeLeaks(recorded));
    assert.deepEqual(manager.activeLeaks(), []);
    for (const { sample } of recorded.samples) assert.equal(sample.timeToLimitMs, null);
  });
});
