import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { PressureEvent, WarningEvent } from '../../src/manager/events.js';
import { MemoryManager, createMemoryManager } from '../../src/manager/manager.js';
import type { MemoryManagerOptions } from '../../src/manager/options.js';
import { HEAP_ABOVE_LIMIT_CODE, resetStartupWarningsForTests } from '../../src/manager/startup-warnings.js';
import type { Sample } from '../../src/sampling/sample.js';
import { heapBudget } from '../../src/sampling/sampler.js';
import { silentLogger, type Logger } from '../../src/util/logger.js';
import { ScriptedClock, ScriptedProbe } from '../helpers/scripted.js';

const MIB = 2 ** 20;

const runningManagers: MemoryManager[] = [];

interface LogEntry {
  level: keyof Logger;
  object: Record<string, unknown>;
  message: string | undefined;
}

/** Creates a logger that records every call, so a test can check what was logged. */
function createCapturingLogger(): { logger: Logger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const record = (level: keyof Logger) => (object: Record<string, unknown>, message?: string) => {
    entries.push({ level, object, message });
  };

  return { logger: { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') }, entries };
}

/**
 * Creates a manager on a scripted clock and probe. The one-hour interval keeps
 * the real timer from firing, so only `sampleNow()` takes samples, and the
 * warm-up is off unless a test sets it.
 */
function createScriptedManager(options: MemoryManagerOptions = {}): { manager: MemoryManager; clock: ScriptedClock; probe: ScriptedProbe } {
  const clock = new ScriptedClock();
  const probe = new ScriptedProbe();
  const manager = createMemoryManager({ clock, probe, logger: silentLogger, intervalMs: '1h', warmUpMs: 0, ...options });
  runningManagers.push(manager);
  return { manager, clock, probe };
}

/** Returns the heap budget the sampler derives from the probe's heap reading: the denominator of `heapUsageRatio`. */
function heapBudgetOf(probe: ScriptedProbe): number {
  return heapBudget(probe.heapReading.limitBytes, probe.heapReading.youngGenerationBytes ?? 0);
}

/** Sets heap used to `ratio` of the heap budget, so the heap usage ratio of the next sample is `ratio`. */
function setHeapUsageRatio(probe: ScriptedProbe, ratio: number): void {
  probe.heapReading.usedBytes = Math.round(ratio * heapBudgetOf(probe));
}

/** Advances the clock by `stepMs` and takes one sample. */
function sampleAfter(manager: MemoryManager, clock: ScriptedClock, stepMs: number): Sample {
  clock.advance(stepMs);
  return manager.sampleNow();
}

function collectEvents<T>(manager: MemoryManager, name: 'pressure' | 'warning' | 'sample'): T[] {
  const events: T[] = [];
  manager.on(name, (event: unknown) => events.push(event as T));
  return events;
}

/** Counts the entries of `process.getActiveResourcesInfo()` by resource type. */
function countByType(resources: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of resources) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

/** Waits until the `process.emitWarning` calls made so far reach 'warning' listeners, because Node emits them on the next tick. */
async function flushProcessWarnings(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

beforeEach(() => {
  resetStartupWarningsForTests();
});

afterEach(() => {
  for (const manager of runningManagers.splice(0)) manager.stop();
  resetStartupWarningsForTests();
});

describe('MemoryManager samples', () => {
  it('carries the figures the probe returned', () => {
    const { manager, clock, probe } = createScriptedManager();
    probe.heapReading = { usedBytes: 30 * MIB, totalBytes: 40 * MIB, limitBytes: 120 * MIB, externalBytes: 2 * MIB };
    probe.rss = 90 * MIB;
    probe.arrayBuffers = 3 * MIB;
    probe.eventLoop = { delayP50Ms: 11, delayP99Ms: 40, utilization: 0.35 };
    probe.gc = {
      count: 3,
      pauseMs: 7.5,
      byKind: {
        minor: { count: 2, pauseMs: 1.5 },
        major: { count: 1, pauseMs: 6 },
        incremental: { count: 0, pauseMs: 0 },
        weakCallbacks: { count: 0, pauseMs: 0 },
      },
    };

    manager.start();
    const sample = sampleAfter(manager, clock, 1000);

    assert.equal(sample.time, clock.epochStartMs + 1000);
    assert.equal(sample.heapUsedBytes, 30 * MIB);
    assert.equal(sample.heapTotalBytes, 40 * MIB);
    assert.equal(sample.heapLimitBytes, 120 * MIB);
    assert.equal(sample.heapBudgetBytes, heapBudgetOf(probe));
    assert.equal(sample.externalBytes, 2 * MIB);
    assert.equal(sample.arrayBuffersBytes, 3 * MIB);
    assert.equal(sample.rssBytes, 90 * MIB);
    assert.equal(sample.heapUsageRatio, (30 * MIB) / heapBudgetOf(probe));
    assert.deepEqual(sample.eventLoop, { delayP50Ms: 11, delayP99Ms: 40, utilization: 0.35 });
    assert.equal(sample.gc.count, 3);
    assert.equal(sample.gc.pauseMs, 7.5);
    assert.deepEqual(sample.gc.byKind.major, { count: 1, pauseMs: 6 });
    assert.deepEqual(sample.spaces, [{ name: 'old_space', sizeBytes: 40 * MIB, usedBytes: 30 * MIB, availableBytes: 0 }]);
    assert.equal(sample.level, 'normal');
    assert.equal(sample.budget, 'heap');
  });

  it('keeps the latest sample and counts samples', () => {
    const { manager, clock } = createScriptedManager();
    manager.start();

    assert.equal(manager.latest, null);
    const first = sampleAfter(manager, clock, 1000);
    assert.equal(manager.latest, first);
    const second = sampleAfter(manager, clock, 1000);
    assert.equal(manager.latest, second);
    assert.equal(manager.stats.samples, 2);
  });

  it('sets intervalMs to the clock step', () => {
    const { manager, clock } = createScriptedManager();
    clock.advance(123_456);
    manager.start();

    const intervals = [1000, 250, 4000, 1].map((stepMs) => sampleAfter(manager, clock, stepMs).intervalMs);
    assert.deepEqual(intervals, [1000, 250, 4000, 1]);
  });

  it('starts the probe and stops it', () => {
    const { manager, probe } = createScriptedManager();

    manager.start();
    assert.equal(probe.started, true);
    assert.equal(manager.running, true);

    manager.stop();
    assert.equal(probe.started, false);
    assert.equal(manager.running, false);
  });

  it('ignores a second start', () => {
    const { manager, probe } = createScriptedManager();

    manager.start();
    manager.start();
    assert.equal(probe.limitReads, 1);
    assert.equal(manager.running, true);
  });

  it('reads arrayBuffers every arrayBuffersEverySamples samples', () => {
    const { manager, clock, probe } = createScriptedManager({ arrayBuffersEverySamples: 3 });
    manager.start();

    const readings: number[] = [];
    for (let index = 1; index <= 7; index++) {
      probe.arrayBuffers = index * MIB;
      readings.push(sampleAfter(manager, clock, 1000).arrayBuffersBytes / MIB);
    }

    // Samples 1, 4 and 7 read the probe. The others repeat the last reading.
    assert.deepEqual(readings, [1, 1, 1, 4, 4, 4, 7]);
    assert.equal(probe.arrayBufferReads, 3);
  });

  it('reads arrayBuffers every sample at 1', () => {
    const { manager, clock, probe } = createScriptedManager({ arrayBuffersEverySamples: 1 });
    manager.start();

    for (let index = 1; index <= 3; index++) {
      probe.arrayBuffers = index * MIB;
      assert.equal(sampleAfter(manager, clock, 1000).arrayBuffersBytes, index * MIB);
    }
    assert.equal(probe.arrayBufferReads, 3);
  });
});

describe('MemoryManager limits', () => {
  it('uses configured limit when smallest', () => {
    const { manager, clock, probe } = createScriptedManager({ limit: '256MiB' });
    probe.platformLimits = { cgroupV2Bytes: 512 * MIB, cgroupV1Bytes: null, constrainedMemoryBytes: 512 * MIB };
    manager.start();

    const sample = sampleAfter(manager, clock, 1000);
    assert.equal(sample.limitBytes, 256 * MIB);
    assert.equal(manager.limits().limitSource, 'configured');
  });

  it('uses cgroup limit when smallest', () => {
    const { manager, clock, probe } = createScriptedManager({ limit: '512MiB' });
    probe.platformLimits = { cgroupV2Bytes: 300 * MIB, cgroupV1Bytes: null, constrainedMemoryBytes: 1024 * MIB };
    manager.start();

    const sample = sampleAfter(manager, clock, 1000);
    assert.equal(sample.limitBytes, 300 * MIB);
    assert.equal(sample.processUsageRatio, probe.rss / (300 * MIB));

    const limits = manager.limits();
    assert.equal(limits.limitBytes, 300 * MIB);
    assert.equal(limits.limitSource, 'cgroup-v2');
    assert.equal(limits.heapLimitBytes, 100 * MIB);
    assert.deepEqual(limits.readings, {
      cgroupV2Bytes: 300 * MIB,
      cgroupV1Bytes: null,
      constrainedMemoryBytes: 1024 * MIB,
      configuredBytes: 512 * MIB,
    });
  });

  it('ignores platform readings that mean no limit', () => {
    const { manager, clock, probe } = createScriptedManager({ limit: '768MiB' });
    probe.platformLimits = { cgroupV2Bytes: null, cgroupV1Bytes: 9223372036854771712, constrainedMemoryBytes: 0 };
    manager.start();

    assert.equal(sampleAfter(manager, clock, 1000).limitBytes, 768 * MIB);
    assert.equal(manager.limits().limitSource, 'configured');
  });

  it('leaves processUsageRatio null without a limit', () => {
    const { manager, clock, probe } = createScriptedManager();
    probe.rss = 4000 * MIB;
    manager.start();

    const sample = sampleAfter(manager, clock, 1000);
    assert.equal(sample.limitBytes, null);
    assert.equal(sample.processUsageRatio, null);
    assert.equal(sample.budget, 'heap');
    assert.equal(sample.level, 'normal');
    assert.equal(manager.limits().limitSource, null);
  });

  it('re-reads platform limits only after limitRefreshMs', () => {
    const { manager, clock, probe } = createScriptedManager({ limitRefreshMs: '10s' });
    manager.start();
    assert.equal(probe.limitReads, 1);

    probe.platformLimits = { cgroupV2Bytes: 300 * MIB, cgroupV1Bytes: null, constrainedMemoryBytes: null };
    const before = sampleAfter(manager, clock, 9999);
    assert.equal(probe.limitReads, 1);
    assert.equal(before.limitBytes, null);

    const at = sampleAfter(manager, clock, 1);
    assert.equal(probe.limitReads, 2);
    assert.equal(at.limitBytes, 300 * MIB);

    sampleAfter(manager, clock, 9999);
    assert.equal(probe.limitReads, 2);

    sampleAfter(manager, clock, 1);
    assert.equal(probe.limitReads, 3);
  });
});

describe('MemoryManager pressure', () => {
  it('emits a pressure event with the figures behind it', () => {
    const { manager, clock, probe } = createScriptedManager();
    const events = collectEvents<PressureEvent>(manager, 'pressure');
    manager.start();

    setHeapUsageRatio(probe, 0.85);
    sampleAfter(manager, clock, 1000);

    assert.equal(events.length, 1);
    const event = events[0];
    assert.equal(event?.type, 'pressure');
    assert.equal(event?.time, clock.epochStartMs + 1000);
    assert.equal(event?.from, 'normal');
    assert.equal(event?.to, 'high');
    assert.equal(event?.budget, 'heap');
    assert.equal(event?.usageRatio, probe.heapReading.usedBytes / heapBudgetOf(probe));
    assert.equal(event?.heapUsedBytes, probe.heapReading.usedBytes);
    assert.equal(event?.heapLimitBytes, 100 * MIB);
    assert.equal(event?.rssBytes, 60 * MIB);
    assert.equal(event?.limitBytes, null);
    assert.equal(manager.level, 'high');
  });

  it('names process budget for high RSS', () => {
    const { manager, clock, probe } = createScriptedManager({ limit: '200MiB' });
    const events = collectEvents<PressureEvent>(manager, 'pressure');
    manager.start();

    probe.rss = 190 * MIB;
    const sample = sampleAfter(manager, clock, 1000);

    assert.equal(sample.level, 'critical');
    assert.equal(sample.budget, 'process');
    assert.equal(sample.processUsageRatio, 0.95);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.budget, 'process');
    assert.equal(events[0]?.to, 'critical');
    assert.equal(events[0]?.usageRatio, 0.95);
    assert.equal(events[0]?.limitBytes, 200 * MIB);
    assert.equal(events[0]?.rssBytes, 190 * MIB);
  });

  it('emits only when the level changes', () => {
    const { manager, clock, probe } = createScriptedManager();
    const events = collectEvents<PressureEvent>(manager, 'pressure');
    manager.start();

    for (const ratio of [0.5, 0.85, 0.86, 0.76, 0.74, 0.95, 0.3]) {
      setHeapUsageRatio(probe, ratio);
      sampleAfter(manager, clock, 1000);
    }

    assert.deepEqual(
      events.map((event) => `${event.from}->${event.to}`),
      ['normal->high', 'high->moderate', 'moderate->critical', 'critical->normal'],
    );
  });

  it('logs each level change', () => {
    const { logger, entries } = createCapturingLogger();
    const { manager, clock, probe } = createScriptedManager({ logger });
    manager.start();

    setHeapUsageRatio(probe, 0.92);
    sampleAfter(manager, clock, 1000);

    const info = entries.filter((entry) => entry.level === 'info');
    assert.equal(info.length, 1);
    assert.equal(info[0]?.message, 'headroom: pressure normal -> critical');
    assert.equal(info[0]?.object.budget, 'heap');
  });

  it('reads normal during warm-up', () => {
    const { manager, clock, probe } = createScriptedManager({ warmUpMs: '5s' });
    const events = collectEvents<PressureEvent>(manager, 'pressure');
    clock.advance(50_000);
    manager.start();

    setHeapUsageRatio(probe, 0.85);
    const during = sampleAfter(manager, clock, 4999);
    assert.equal(during.level, 'normal');
    assert.equal(events.length, 0);

    const after = sampleAfter(manager, clock, 1);
    assert.equal(after.level, 'high');
    assert.equal(events.length, 1);
    assert.equal(events[0]?.from, 'normal');
    assert.equal(events[0]?.to, 'high');
  });

  it('lets critical through during warm-up', () => {
    const { manager, clock, probe } = createScriptedManager({ warmUpMs: '5s' });
    const events = collectEvents<PressureEvent>(manager, 'pressure');
    manager.start();

    setHeapUsageRatio(probe, 0.95);
    const sample = sampleAfter(manager, clock, 1000);

    assert.equal(sample.level, 'critical');
    assert.equal(events.length, 1);
    assert.equal(events[0]?.to, 'critical');
  });

  it('applies custom thresholds', () => {
    const { manager, clock, probe } = createScriptedManager({ thresholds: { moderate: 0.4, high: 0.5, critical: 0.6 } });
    manager.start();

    setHeapUsageRatio(probe, 0.55);
    assert.equal(sampleAfter(manager, clock, 1000).level, 'high');
  });
});

describe('MemoryManager listeners', () => {
  it('isolates a throwing sample listener', () => {
    const { logger, entries } = createCapturingLogger();
    const { manager, clock } = createScriptedManager({ logger });
    const failure = new Error('listener failed');
    const received: Sample[] = [];
    manager.on('sample', () => {
      throw failure;
    });
    manager.on('sample', (sample) => received.push(sample));
    manager.start();

    const sample = sampleAfter(manager, clock, 1000);

    assert.deepEqual(received, [sample]);
    assert.equal(manager.stats.listenerErrors, 1);
    assert.equal(manager.stats.samples, 1);

    const errors = entries.filter((entry) => entry.level === 'error');
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.object.err, failure);
    assert.equal(errors[0]?.object.event, 'sample');
    assert.equal(errors[0]?.object.listenerErrors, 1);
    assert.equal(errors[0]?.message, "headroom: a 'sample' listener threw");
  });

  it('counts each throwing listener call', () => {
    const { logger, entries } = createCapturingLogger();
    const { manager, clock, probe } = createScriptedManager({ logger });
    const pressureEvents = collectEvents<PressureEvent>(manager, 'pressure');
    manager.on('pressure', () => {
      throw new Error('pressure listener failed');
    });
    manager.on('sample', () => {
      throw new Error('sample listener failed');
    });
    manager.start();

    setHeapUsageRatio(probe, 0.85);
    sampleAfter(manager, clock, 1000);
    sampleAfter(manager, clock, 1000);

    assert.equal(pressureEvents.length, 1);
    assert.equal(manager.stats.listenerErrors, 3);
    assert.deepEqual(
      entries.filter((entry) => entry.level === 'error').map((entry) => entry.object.event),
      ['pressure', 'sample', 'sample'],
    );
  });

  it('calls a once listener only once', () => {
    const { manager, clock } = createScriptedManager();
    let calls = 0;
    manager.once('sample', () => {
      calls++;
    });
    manager.start();

    sampleAfter(manager, clock, 1000);
    sampleAfter(manager, clock, 1000);

    assert.equal(calls, 1);
    assert.equal(manager.listenerCount('sample'), 0);
  });
});

describe('MemoryManager startup warning', () => {
  it('warns when heap reaches configured limit', async () => {
    const processWarnings: Error[] = [];
    const onProcessWarning = (warning: Error): void => {
      processWarnings.push(warning);
    };
    process.on('warning', onProcessWarning);

    try {
      const { logger, entries } = createCapturingLogger();
      const { manager, clock } = createScriptedManager({ limit: '64MiB', logger });
      const events = collectEvents<WarningEvent>(manager, 'warning');
      manager.start();
      await flushProcessWarnings();

      assert.equal(events.length, 1);
      assert.equal(events[0]?.type, 'warning');
      assert.equal(events[0]?.code, HEAP_ABOVE_LIMIT_CODE);
      assert.equal(events[0]?.time, clock.epochNow());
      assert.match(events[0]?.message ?? '', /heap limit \(100\.0 MiB\).*process limit \(64\.0 MiB, from configured\)/);
      assert.match(events[0]?.message ?? '', /--max-old-space-size below the limit, for example 48 \(MiB\)/);

      const warned = entries.filter((entry) => entry.level === 'warn');
      assert.equal(warned.length, 1);
      assert.equal(warned[0]?.object.code, HEAP_ABOVE_LIMIT_CODE);
      assert.equal(warned[0]?.object.heapLimitBytes, 100 * MIB);
      assert.equal(warned[0]?.object.limitBytes, 64 * MIB);

      const ours = processWarnings.filter((warning) => (warning as Error & { code?: string }).code === HEAP_ABOVE_LIMIT_CODE);
      assert.equal(ours.length, 1);
      assert.equal(ours[0]?.name, 'HeadroomWarning');
      assert.equal(ours[0]?.message, events[0]?.message);
    } finally {
      process.off('warning', onProcessWarning);
    }
  });

  it('warns once per process', async () => {
    const processWarnings: Error[] = [];
    const onProcessWarning = (warning: Error): void => {
      processWarnings.push(warning);
    };
    process.on('warning', onProcessWarning);

    try {
      const first = createScriptedManager({ limit: '64MiB' });
      const second = createScriptedManager({ limit: '32MiB' });
      const firstEvents = collectEvents<WarningEvent>(first.manager, 'warning');
      const secondEvents = collectEvents<WarningEvent>(second.manager, 'warning');

      first.manager.start();
      second.manager.start();
      first.manager.stop();
      first.manager.start();
      await flushProcessWarnings();

      assert.equal(firstEvents.length, 1);
      assert.equal(secondEvents.length, 0);
      assert.equal(processWarnings.filter((warning) => (warning as Error & { code?: string }).code === HEAP_ABOVE_LIMIT_CODE).length, 1);
    } finally {
      process.off('warning', onProcessWarning);
    }
  });

  it('warns at an equal cgroup limit', () => {
    const { manager, probe } = createScriptedManager();
    probe.platformLimits = { cgroupV2Bytes: 100 * MIB, cgroupV1Bytes: null, constrainedMemoryBytes: null };
    const events = collectEvents<WarningEvent>(manager, 'warning');
    manager.start();

    assert.equal(events.length, 1);
    assert.equal(events[0]?.code, HEAP_ABOVE_LIMIT_CODE);
    assert.match(events[0]?.message ?? '', /from cgroup-v2/);
  });

  it('stays quiet below the process limit', () => {
    const { manager } = createScriptedManager({ limit: '101MiB' });
    const events = collectEvents<WarningEvent>(manager, 'warning');
    manager.start();

    assert.equal(events.length, 0);
  });

  it('stays quiet without a process limit', () => {
    const { manager } = createScriptedManager();
    const events = collectEvents<WarningEvent>(manager, 'warning');
    manager.start();

    assert.equal(events.length, 0);
  });
});

describe('MemoryManager options', () => {
  it('rejects an invalid option at creation', () => {
    assert.throws(() => createMemoryManager({ logger: silentLogger, intervalMs: 5 }), {
      name: 'RangeError',
      message: /`intervalMs`.*got 5 \(number\)/,
    });
  });

  it('checks setIntervalMs like the option', () => {
    const { manager } = createScriptedManager();

    assert.throws(() => manager.setIntervalMs('fast'), { name: 'RangeError', message: /`intervalMs`.*got "fast" \(string\)/ });
    assert.equal(manager.intervalMs, 3_600_000);

    manager.setIntervalMs('2s');
    assert.equal(manager.intervalMs, 2000);
  });
});

describe('MemoryManager with the real probe', () => {
  it('returns plausible figures from this process', () => {
    const manager = createMemoryManager({ logger: silentLogger, intervalMs: '1h' });
    runningManagers.push(manager);
    manager.start();

    const sample = manager.sampleNow();

    assert.ok(sample.heapUsedBytes > 0, `heapUsedBytes ${sample.heapUsedBytes}`);
    assert.ok(sample.heapLimitBytes > sample.heapUsedBytes, `heapLimitBytes ${sample.heapLimitBytes}, heapUsedBytes ${sample.heapUsedBytes}`);
    assert.ok(sample.heapTotalBytes >= sample.heapUsedBytes, `heapTotalBytes ${sample.heapTotalBytes}`);
    assert.ok(sample.rssBytes > sample.heapUsedBytes, `rssBytes ${sample.rssBytes}, heapUsedBytes ${sample.heapUsedBytes}`);
    assert.ok(sample.spaces.length > 0);
    assert.ok(sample.eventLoop.utilization >= 0, `utilization ${sample.eventLoop.utilization}`);
    assert.ok(sample.eventLoop.utilization <= 1, `utilization ${sample.eventLoop.utilization}`);
  });

  it('leaves no resource behind after stop', async () => {
    // getActiveResourcesInfo() omits unref()'d timers, so the hook also checks
    // that every Timeout created by start() is destroyed by stop().
    const createdTimeouts = new Set<number>();
    const destroyedIds = new Set<number>();
    const hook = createHook({
      init(asyncId, type) {
        if (type === 'Timeout') createdTimeouts.add(asyncId);
      },
      destroy(asyncId) {
        destroyedIds.add(asyncId);
      },
    });

    const before = process.getActiveResourcesInfo();
    const manager = createMemoryManager({ logger: silentLogger, intervalMs: '1h' });

    hook.enable();
    manager.start();
    hook.disable();

    assert.equal(manager.running, true);
    // One for the sampler, one for the event-loop delay timer.
    assert.equal(createdTimeouts.size, 2);

    hook.enable();
    manager.sampleNow();
    manager.stop();

    // Node queues destroy hooks and runs them after the current operation.
    await new Promise((resolve) => setImmediate(resolve));
    hook.disable();

    assert.equal(manager.running, false);
    // Resources of other code may close meanwhile, so the check is that no type has grown, not that both lists are equal.
    const beforeCounts = countByType(before);
    for (const [type, count] of countByType(process.getActiveResourcesInfo())) {
      assert.ok(count <= (beforeCounts.get(type) ?? 0), `${count} ${type} active after stop(), ${beforeCounts.get(type) ?? 0} before start()`);
    }
    for (const asyncId of createdTimeouts) {
      assert.ok(destroyedIds.has(asyncId), `Timeout ${asyncId} created by start() is still alive after stop()`);
    }
  });
});
