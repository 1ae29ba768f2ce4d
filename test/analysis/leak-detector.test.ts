import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LeakDetector, type LeakReading } from '../../src/analysis/leak-detector.js';
import { countResources } from '../../src/analysis/resources.js';
import type { LeakClearedEvent, MemoryLeakEvent, ResourceLeakEvent } from '../../src/analysis/leak-events.js';
import { describeEvents, firstEvent, GIB, KIB, MIB, runScript, sawtooth, uniformNoise, type ScriptedMemory, type ScriptRun } from '../helpers/memory-script.js';

const HEAP_BUDGET_BYTES = 128 * MIB;

/** Asserts that `actual` is within `ratio` of `expected`, with both in the message. */
function assertWithin(actual: number | null, expected: number, ratio: number, what: string): void {
  assert.notEqual(actual, null, `${what} is null`);
  const error = Math.abs((actual as number) - expected) / expected;
  assert.ok(error <= ratio, `${what}: ${actual} is ${(error * 100).toFixed(1)} % from ${expected}, more than ${ratio * 100} %`);
}

function eventsOfKind(run: ScriptRun, kind: string): number {
  return run.events.filter(({ event }) => event.kind === kind).length;
}

describe('LeakDetector heap leaks', () => {
  for (const periodSeconds of [3, 5, 7]) {
    it(`flags 1 MiB/s leak under ${periodSeconds} s sawtooth`, () => {
      // Live set 10 MiB + 1 MiB/s from start; 30 MiB of garbage on top, collected every period.
      const leakRate = 1 * MIB;
      const liveAt = (seconds: number): number => 10 * MIB + leakRate * seconds;
      const run = runScript((seconds) => sawtooth(seconds, liveAt(seconds), 30 * MIB, periodSeconds), { durationMs: 110_000 });

      const found = firstEvent(run, 'leak', 'heap');
      assert.ok(found, `no heap leak event; events: ${describeEvents(run)}`);
      assert.ok(found.atMs <= 60_000, `flagged at ${found.atMs} ms, later than 60 s`);

      const event = found.event as MemoryLeakEvent;
      assertWithin(event.rateBytesPerSecond, leakRate, 0.2, 'rateBytesPerSecond');
      assert.equal(event.budget, 'heap');
      const realRemainingMs = ((HEAP_BUDGET_BYTES - liveAt(found.atMs / 1000)) / leakRate) * 1000;
      assertWithin(event.timeToLimitMs, realRemainingMs, 0.25, 'timeToLimitMs in the leak event');
    });
  }

  it('flags fast leak early as urgent', () => {
    // 5 MiB/s from 10 MiB reaches the 128 MiB budget 23.6 s after start; the full rules report at 18 s at the earliest.
    const leakRate = 5 * MIB;
    const liveAt = (seconds: number): number => 10 * MIB + leakRate * seconds;
    const run = runScript((seconds) => sawtooth(seconds, liveAt(seconds), 20 * MIB, 2), { durationMs: 23_000 });

    const found = firstEvent(run, 'leak', 'heap');
    assert.ok(found, `no heap leak event; events: ${describeEvents(run)}`);
    const event = found.event as MemoryLeakEvent;
    assert.equal(event.evidence.urgent, true);
    // Without the urgent span the earliest report is warmUpMs + minSpanMs + confirmMs, 18 s after start.
    assert.ok(found.atMs <= 15_000, `flagged at ${found.atMs} ms, later than 15 s`);

    const realRemainingMs = ((HEAP_BUDGET_BYTES - liveAt(found.atMs / 1000)) / leakRate) * 1000;
    assertWithin(event.timeToLimitMs, realRemainingMs, 0.25, 'timeToLimitMs in the leak event');
  });

  it('waits full span with budget left', () => {
    // The 5 MiB/s leak above under a 1 GiB budget: about 200 s left, so nothing is urgent.
    const run = runScript(
      (seconds) => ({ ...sawtooth(seconds, 10 * MIB + 5 * MIB * seconds, 20 * MIB, 2), heapBudgetBytes: GIB }),
      { durationMs: 40_000 },
    );

    const found = firstEvent(run, 'leak', 'heap');
    assert.ok(found, `no heap leak event; events: ${describeEvents(run)}`);
    assert.equal((found.event as MemoryLeakEvent).evidence.urgent, false);
    assert.ok(found.atMs >= 15_000, `flagged at ${found.atMs} ms, before warmUpMs + minSpanMs`);
  });

  it('reports no urgent leak when urgentSpanMs equals minSpanMs', () => {
    const run = runScript((seconds) => sawtooth(seconds, 10 * MIB + 5 * MIB * seconds, 20 * MIB, 2), {
      durationMs: 23_000,
      detector: { urgentSpanMs: 10_000 },
    });

    const found = firstEvent(run, 'leak', 'heap');
    assert.ok(!found || (found.event as MemoryLeakEvent).evidence.urgent === false, describeEvents(run));
    assert.ok(!found || found.atMs >= 15_000, `flagged at ${found?.atMs} ms without the urgent rule`);
  });

  it('forecasts to heapFailureBytes when given', () => {
    // The same 1 MiB/s leak, with the failure point at 144 MiB, above the 128 MiB budget.
    const leakRate = 1 * MIB;
    const liveAt = (seconds: number): number => 10 * MIB + leakRate * seconds;
    const run = runScript((seconds) => ({ ...sawtooth(seconds, liveAt(seconds), 30 * MIB, 5), heapFailureBytes: 144 * MIB }), { durationMs: 60_000 });

    const found = firstEvent(run, 'leak', 'heap');
    assert.ok(found, `no heap leak event; events: ${describeEvents(run)}`);
    const realRemainingMs = ((144 * MIB - liveAt(found.atMs / 1000)) / leakRate) * 1000;
    assertWithin((found.event as MemoryLeakEvent).timeToLimitMs, realRemainingMs, 0.1, 'timeToLimitMs to the failure point');
  });

  it('flags noisy leak with random GCs', () => {
    // 1 MiB/s under +-8 MiB of young-generation noise; a major GC in 20 % of intervals reads the live set +-0.5 MiB.
    const leakRate = 1 * MIB;
    const liveAt = (seconds: number): number => 10 * MIB + leakRate * seconds;
    for (const seed of [1, 2, 3, 4, 5]) {
      const noise = uniformNoise(seed, 8 * MIB);
      const gcNoise = uniformNoise(seed + 100, 0.5 * MIB);
      const gcDraw = uniformNoise(seed + 200, 0.5);
      const run = runScript(
        (seconds) => {
          if (gcDraw() > 0.3) return { heapUsedBytes: liveAt(seconds) + gcNoise(), majorGcs: 1 };
          return { heapUsedBytes: liveAt(seconds) + 10 * MIB + noise() };
        },
        { durationMs: 110_000 },
      );

      const found = firstEvent(run, 'leak', 'heap');
      assert.ok(found, `seed ${seed}: no heap leak event; events: ${describeEvents(run)}`);
      assert.ok(found.atMs <= 60_000, `seed ${seed}: flagged at ${found.atMs} ms, later than 60 s`);
      assertWithin((found.event as MemoryLeakEvent).rateBytesPerSecond, leakRate, 0.2, `seed ${seed}: rateBytesPerSecond`);

      for (const step of run.steps.filter(({ atMs }) => atMs >= found.atMs)) {
        const realRemainingMs = ((HEAP_BUDGET_BYTES - liveAt(step.atMs / 1000)) / leakRate) * 1000;
        if (realRemainingMs < 20_000) continue;
        assertWithin(step.update.forecast.timeToLimitMs, realRemainingMs, 0.25, `seed ${seed}: timeToLimitMs at ${step.atMs} ms`);
      }
    }
  });

  it('forecasts process limit when closer', () => {
    // The heap leak also raises RSS, and the 140 MiB process limit is reached before the 128 MiB heap budget.
    const run = runScript(
      (seconds) => ({ ...sawtooth(seconds, 10 * MIB + MIB * seconds, 10 * MIB, 5), limitBytes: 140 * MIB }),
      { durationMs: 70_000 },
    );

    const found = firstEvent(run, 'leak', 'heap');
    assert.ok(found, `no heap leak event; events: ${describeEvents(run)}`);
    const forecast = run.steps.at(-1)?.update.forecast;
    assert.equal(forecast?.budget, 'process');
    assert.notEqual(forecast.processTimeToLimitMs, null);
    assert.notEqual(forecast.heapTimeToLimitMs, null);
    assert.ok((forecast.processTimeToLimitMs as number) < (forecast.heapTimeToLimitMs as number));
    assert.equal(forecast.timeToLimitMs, forecast.processTimeToLimitMs);
  });

  it('forecasts within 25 % while leaking', () => {
    const leakRate = 1 * MIB;
    const liveAt = (seconds: number): number => 10 * MIB + leakRate * seconds;
    const run = runScript((seconds) => sawtooth(seconds, liveAt(seconds), 30 * MIB, 5), { durationMs: 110_000 });
    const detectedAtMs = firstEvent(run, 'leak', 'heap')?.atMs ?? Number.POSITIVE_INFINITY;

    let checked = 0;
    for (const step of run.steps) {
      if (step.atMs < detectedAtMs) {
        assert.equal(step.update.forecast.timeToLimitMs, null, `forecast at ${step.atMs} ms before the leak was flagged`);
        continue;
      }

      const realRemainingMs = ((HEAP_BUDGET_BYTES - liveAt(step.atMs / 1000)) / leakRate) * 1000;
      // Near the end a lag of one sawtooth period is a large share of what remains, so stop 20 s before the limit.
      if (realRemainingMs < 20_000) continue;
      assertWithin(step.update.forecast.timeToLimitMs, realRemainingMs, 0.25, `timeToLimitMs at ${step.atMs} ms`);
      assert.equal(step.update.forecast.budget, 'heap');
      checked++;
    }
    assert.ok(checked >= 30, `only ${checked} forecasts checked`);
  });

  it('does not report heap leak as native or external', () => {
    const run = runScript((seconds) => sawtooth(seconds, 10 * MIB + MIB * seconds, 30 * MIB, 5), { durationMs: 110_000 });

    assert.equal(eventsOfKind(run, 'native'), 0, describeEvents(run));
    assert.equal(eventsOfKind(run, 'external'), 0, describeEvents(run));
    assert.equal(eventsOfKind(run, 'heap'), 1, describeEvents(run));
  });

  for (const leakRate of [0.5 * MIB, 2 * MIB]) {
    it(`flags ${leakRate / MIB} MiB/s leak within 30 s`, () => {
      // Steady for 60 s (the warm-up and a flat window), then the live set grows.
      const leakStartSeconds = 60;
      const liveAt = (seconds: number): number => 20 * MIB + leakRate * Math.max(0, seconds - leakStartSeconds);
      const run = runScript((seconds) => sawtooth(seconds, liveAt(seconds), 30 * MIB, 5), { durationMs: 100_000 });

      const found = firstEvent(run, 'leak', 'heap');
      assert.ok(found, `no heap leak event; events: ${describeEvents(run)}`);
      const delayMs = found.atMs - leakStartSeconds * 1000;
      assert.ok(delayMs > 0, `flagged at ${found.atMs} ms, before the leak started`);
      assert.ok(delayMs <= 30_000, `flagged ${delayMs} ms after the leak started, later than 30 s`);
      assert.ok((found.event as MemoryLeakEvent).rateBytesPerSecond > 0);
    });
  }

  it('needs major GC for heap leak', () => {
    // The same 1 MiB/s leak, but no sample carries a major GC, so the live set comes from troughs alone.
    const script = (seconds: number): ScriptedMemory => ({
      heapUsedBytes: sawtooth(seconds, 10 * MIB + MIB * seconds, 30 * MIB, 5).heapUsedBytes + 3 * MIB,
    });

    const strict = runScript(script, { durationMs: 100_000 });
    assert.equal(strict.events.length, 0, describeEvents(strict));

    const lenient = runScript(script, { durationMs: 100_000, detector: { heapRequiresMajorGc: false } });
    const found = firstEvent(lenient, 'leak', 'heap');
    assert.ok(found, `no heap leak event with heapRequiresMajorGc false; events: ${describeEvents(lenient)}`);
    // The 30 s trough lags the leak, so the window still contains part of the flat start and the rate reads low.
    const rate = (found.event as MemoryLeakEvent).rateBytesPerSecond;
    assert.ok(rate >= 0.5 * MIB, `rateBytesPerSecond ${rate}`);
    assert.ok(rate <= 1.2 * MIB, `rateBytesPerSecond ${rate}`);
  });

  it('flags leak with major GCs 20 s apart', () => {
    // Each GC shows a 20 MiB step; three steps need the 60 s window.
    const run = runScript((seconds) => sawtooth(seconds, 10 * MIB + MIB * seconds, 30 * MIB, 20), { durationMs: 110_000 });

    const found = firstEvent(run, 'leak', 'heap');
    assert.ok(found, `no heap leak event; events: ${describeEvents(run)}`);
    assert.ok(found.atMs <= 80_000, `flagged at ${found.atMs} ms`);
    assertWithin((found.event as MemoryLeakEvent).rateBytesPerSecond, MIB, 0.2, 'rateBytesPerSecond');
  });
});

describe('LeakDetector false positives', () => {
  it('ignores warm-up fill then sawtooth', () => {
    // 60 MiB filled over 10 s with no GC, then a sawtooth between 20 and 80 MiB for 120 s.
    for (const periodSeconds of [6, 10, 12, 15]) {
      const run = runScript(
        (seconds) => {
          if (seconds <= 10) return { heapUsedBytes: 6 * MIB * seconds };
          return sawtooth(seconds - 10, 20 * MIB, 60 * MIB, periodSeconds);
        },
        { durationMs: 130_000 },
      );

      assert.equal(run.events.length, 0, `period ${periodSeconds} s: ${describeEvents(run)}`);
    }
  });

  it('ignores noisy flat heap with GCs', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const noise = uniformNoise(seed, 8 * MIB);
      const gcNoise = uniformNoise(seed + 100, 1 * MIB);
      const gcDraw = uniformNoise(seed + 200, 0.5);
      const run = runScript(
        () => {
          if (gcDraw() > 0.35) return { heapUsedBytes: 30 * MIB + gcNoise(), majorGcs: 1 };
          return { heapUsedBytes: 40 * MIB + noise() };
        },
        { durationMs: 600_000 },
      );

      assert.equal(run.events.length, 0, `seed ${seed}: ${describeEvents(run)}`);
    }
  });

  it('ignores noisy flat heap without GCs', () => {
    for (const seed of [11, 12, 13, 14, 15]) {
      const noise = uniformNoise(seed, 10 * MIB);
      const run = runScript(() => ({ heapUsedBytes: 40 * MIB + noise() }), { durationMs: 600_000 });

      assert.equal(run.events.length, 0, `seed ${seed}: ${describeEvents(run)}`);
    }
  });

  it('ignores one step up of live set', () => {
    // A cache filled once by 20 MiB in 2 s is not a leak.
    const run = runScript(
      (seconds) => {
        let live = 40 * MIB;
        if (seconds < 60) live = 20 * MIB;
        else if (seconds < 62) live = 20 * MIB + 10 * MIB * (seconds - 60);
        return sawtooth(seconds, live, 20 * MIB, 5);
      },
      { durationMs: 180_000 },
    );

    assert.equal(run.events.length, 0, describeEvents(run));
  });

  it('ignores leak slower than minimum rate', () => {
    // 32 KiB/s is half the default heap minimum of 64 KiB/s.
    const run = runScript((seconds) => sawtooth(seconds, 20 * MIB + 32 * KIB * seconds, 20 * MIB, 5), { durationMs: 600_000 });

    assert.equal(run.events.length, 0, describeEvents(run));
  });
});

describe('LeakDetector native and external memory', () => {
  it('flags growing RSS as native', () => {
    const heapNoise = uniformNoise(21, 1 * MIB);
    const swing = uniformNoise(22, 40 * MIB);
    const run = runScript(
      (seconds) => ({
        heapUsedBytes: 10 * MIB + heapNoise(),
        heapTotalBytes: 16 * MIB,
        externalBytes: 1 * MIB,
        rssBytes: 100 * MIB + 3 * MIB * seconds + swing(),
      }),
      { durationMs: 120_000 },
    );

    const found = firstEvent(run, 'leak', 'native');
    assert.ok(found, `no native leak event; events: ${describeEvents(run)}`);
    assertWithin((found.event as MemoryLeakEvent).rateBytesPerSecond, 3 * MIB, 0.25, 'native rateBytesPerSecond');
    assert.equal(eventsOfKind(run, 'heap'), 0, describeEvents(run));
    assert.equal(eventsOfKind(run, 'external'), 0, describeEvents(run));
  });

  it('forecasts native leak against process limit', () => {
    const swing = uniformNoise(23, 40 * MIB);
    const rssAt = (seconds: number): number => 100 * MIB + 3 * MIB * seconds;
    const run = runScript(
      (seconds) => ({
        heapUsedBytes: 10 * MIB,
        heapTotalBytes: 16 * MIB,
        externalBytes: 1 * MIB,
        rssBytes: rssAt(seconds) + swing(),
        limitBytes: 1 * GIB,
      }),
      { durationMs: 120_000 },
    );

    const found = firstEvent(run, 'leak', 'native');
    assert.ok(found, `no native leak event; events: ${describeEvents(run)}`);
    const event = found.event as MemoryLeakEvent;
    assert.equal(event.budget, 'process');
    const realRemainingMs = ((GIB - rssAt(found.atMs / 1000)) / (3 * MIB)) * 1000;
    assertWithin(event.timeToLimitMs, realRemainingMs, 0.25, 'native timeToLimitMs');
    assert.equal(eventsOfKind(run, 'heap'), 0, describeEvents(run));
  });

  it('ignores large RSS swings without growth', () => {
    for (const seed of [31, 32, 33, 34, 35]) {
      const swing = uniformNoise(seed, 40 * MIB);
      const run = runScript(
        () => ({ heapUsedBytes: 10 * MIB, heapTotalBytes: 16 * MIB, externalBytes: 1 * MIB, rssBytes: 200 * MIB + swing() }),
        { durationMs: 600_000 },
      );

      assert.equal(run.events.length, 0, `seed ${seed}: ${describeEvents(run)}`);
    }
  });

  it('flags growing external memory as external', () => {
    const swing = uniformNoise(41, 20 * MIB);
    const run = runScript(
      (seconds) => {
        const externalBytes = 40 * MIB + 2 * MIB * seconds + swing();
        // RSS follows external memory, as it does for Buffers, so native memory stays flat.
        return { heapUsedBytes: 10 * MIB, heapTotalBytes: 16 * MIB, externalBytes, rssBytes: 16 * MIB + externalBytes + 30 * MIB };
      },
      { durationMs: 120_000 },
    );

    const found = firstEvent(run, 'leak', 'external');
    assert.ok(found, `no external leak event; events: ${describeEvents(run)}`);
    assertWithin((found.event as MemoryLeakEvent).rateBytesPerSecond, 2 * MIB, 0.25, 'external rateBytesPerSecond');
    assert.equal(eventsOfKind(run, 'heap'), 0, describeEvents(run));
    assert.equal(eventsOfKind(run, 'native'), 0, describeEvents(run));
  });
});

describe('LeakDetector resources', () => {
  it('counts resources by type', () => {
    const counts = countResources(['Timeout', 'TCPSocketWrap', 'Timeout', 'constructor', 'Timeout']);

    assert.deepEqual({ ...counts }, { Timeout: 3, TCPSocketWrap: 1, constructor: 1 });
  });

  it('flags rising Timeout count', () => {
    const socketNoise = uniformNoise(51, 3);
    const run = runScript(
      (seconds) => ({
        heapUsedBytes: 20 * MIB,
        resources: { Timeout: 5 + 20 * seconds, TCPSocketWrap: Math.round(10 + socketNoise()), FSReqCallback: 1 },
      }),
      { durationMs: 90_000 },
    );

    const found = firstEvent(run, 'leak', 'resources');
    assert.ok(found, `no resources leak event; events: ${describeEvents(run)}`);
    const event = found.event as ResourceLeakEvent;
    assert.equal(event.resourceType, 'Timeout');
    assertWithin(event.ratePerSecond, 20, 0.1, 'Timeout ratePerSecond');
    assert.equal(event.timeToLimitMs, null);
    assert.ok(found.atMs <= 45_000, `flagged at ${found.atMs} ms`);
    assert.equal(eventsOfKind(run, 'resources'), 1, describeEvents(run));
  });

  it('clears resource type that disappears', () => {
    // Timeouts grow for 60 s, then all of them fire and the type leaves the list.
    const run = runScript(
      (seconds) => {
        const resources: Record<string, number> = seconds < 60 ? { Timeout: 20 * seconds } : { TTYWrap: 2 };
        return { heapUsedBytes: 20 * MIB, resources };
      },
      { durationMs: 90_000 },
    );

    const cleared = firstEvent(run, 'leak-cleared', 'resources');
    assert.ok(cleared, `no leak-cleared event; events: ${describeEvents(run)}`);
    assert.equal((cleared.event as LeakClearedEvent).resourceType, 'Timeout');
    assert.equal((cleared.event as LeakClearedEvent).reason, 'freed');
  });

  it('tracks at most maxResourceTypes types', () => {
    const detector = new LeakDetector({ warmUpMs: 0, maxResourceTypes: 4 });
    const resources: Record<string, number> = {};
    for (let i = 0; i < 100; i++) resources[`Type${i}`] = i + 1;

    detector.update({ ...flatReading(0), resources });

    assert.deepEqual(detector.resourceTypes, ['Type0', 'Type1', 'Type2', 'Type3']);
  });

  it('replaces resource type that fell to zero', () => {
    const detector = new LeakDetector({ warmUpMs: 0, maxResourceTypes: 2 });

    detector.update({ ...flatReading(0), resources: { Timeout: 3, Immediate: 1 } });
    detector.update({ ...flatReading(1000), resources: { Timeout: 3, TCPSocketWrap: 4 } });

    assert.deepEqual(detector.resourceTypes, ['Timeout', 'TCPSocketWrap']);
  });
});

describe('LeakDetector clearing', () => {
  it('clears leak that stops', () => {
    // 1 MiB/s from 30 s to 90 s, flat afterwards.
    const liveAt = (seconds: number): number => 20 * MIB + MIB * Math.min(60, Math.max(0, seconds - 30));
    const run = runScript((seconds) => sawtooth(seconds, liveAt(seconds), 20 * MIB, 5), { durationMs: 240_000 });

    const leak = firstEvent(run, 'leak', 'heap');
    const cleared = firstEvent(run, 'leak-cleared', 'heap');
    assert.ok(leak, `no heap leak event; events: ${describeEvents(run)}`);
    assert.ok(cleared, `no leak-cleared event; events: ${describeEvents(run)}`);

    const event = cleared.event as LeakClearedEvent;
    assert.equal(event.reason, 'growth-stopped');
    assert.ok(cleared.atMs > 90_000, `cleared at ${cleared.atMs} ms, before the leak stopped`);
    // The 60 s window still contains part of the rise until about 45 s after it stopped,
    // and an active leak's rate is re-fitted every ACTIVE_LEAK_REFIT_MS (5 s).
    assert.ok(cleared.atMs <= 155_000, `cleared at ${cleared.atMs} ms, more than 65 s after the leak stopped`);
    assert.equal(event.detectedAt, leak.event.time);
    assert.equal(event.durationMs, cleared.atMs - leak.atMs);
    assert.equal(run.events.length, 2, `the leak was reported again: ${describeEvents(run)}`);
  });

  it('clears leak that is freed', () => {
    // 1 MiB/s from 30 s to 70 s, then the cache is dropped and the live set returns to 20 MiB.
    const liveAt = (seconds: number): number => (seconds < 70 ? 20 * MIB + MIB * Math.max(0, seconds - 30) : 20 * MIB);
    const run = runScript((seconds) => sawtooth(seconds, liveAt(seconds), 20 * MIB, 5), { durationMs: 150_000 });

    const cleared = firstEvent(run, 'leak-cleared', 'heap');
    assert.ok(cleared, `no leak-cleared event; events: ${describeEvents(run)}`);
    assert.equal((cleared.event as LeakClearedEvent).reason, 'freed');
    assert.ok(cleared.atMs <= 85_000, `cleared at ${cleared.atMs} ms, more than 15 s after the memory was freed`);
  });

  it('keeps forecast null after clearing', () => {
    const liveAt = (seconds: number): number => 20 * MIB + MIB * Math.min(60, Math.max(0, seconds - 30));
    const run = runScript((seconds) => sawtooth(seconds, liveAt(seconds), 20 * MIB, 5), { durationMs: 240_000 });
    const clearedAtMs = firstEvent(run, 'leak-cleared', 'heap')?.atMs ?? Number.POSITIVE_INFINITY;

    const after = run.steps.filter((step) => step.atMs >= clearedAtMs);
    assert.ok(after.length > 0);
    for (const step of after) assert.equal(step.update.forecast.timeToLimitMs, null, `forecast at ${step.atMs} ms`);
  });
});

describe('LeakDetector updates', () => {
  it('ignores readings during warm-up', () => {
    const detector = new LeakDetector({ warmUpMs: 10_000 });

    const first = detector.update(flatReading(5000));
    const during = detector.update(flatReading(14_999));

    assert.deepEqual(first.events, []);
    assert.equal(during.forecast.timeToLimitMs, null);
    assert.equal(detector.activeLeaks().length, 0);
  });

  it('lists active leaks until cleared', () => {
    const liveAt = (seconds: number): number => 20 * MIB + MIB * Math.min(60, Math.max(0, seconds - 30));
    const run = runScript((seconds) => sawtooth(seconds, liveAt(seconds), 20 * MIB, 5), { durationMs: 80_000 });

    const active = run.detector.activeLeaks();
    assert.equal(active.length, 1);
    assert.equal(active[0]?.kind, 'heap');
  });

  it('reset forgets leaks and restarts warm-up', () => {
    const run = runScript((seconds) => sawtooth(seconds, 10 * MIB + MIB * seconds, 30 * MIB, 5), { durationMs: 80_000 });
    assert.equal(run.detector.activeLeaks().length, 1);

    run.detector.reset();

    assert.equal(run.detector.activeLeaks().length, 0);
    assert.equal(run.detector.forecast.timeToLimitMs, null);
    assert.deepEqual(run.detector.update(flatReading(200_000)).events, []);
  });

  it('rejects reading with non-finite field', () => {
    const detector = new LeakDetector();

    assert.throws(() => detector.update({ ...flatReading(0), liveBytes: Number.NaN }), { name: 'RangeError', message: /reading\.liveBytes.*NaN/ });
    assert.throws(() => detector.update({ ...flatReading(0), limitBytes: 0 }), { name: 'RangeError', message: /reading\.limitBytes/ });
    assert.throws(() => detector.update({ ...flatReading(0), resources: { Timeout: -1 } }), { name: 'RangeError', message: /reading\.resources\.Timeout/ });
  });

  it('rejects time going backwards', () => {
    const detector = new LeakDetector({ warmUpMs: 0 });
    detector.update(flatReading(1000));

    assert.throws(() => detector.update(flatReading(500)), { name: 'RangeError', message: /must not decrease/ });
  });

  it('bounds series at maxPointsPerSeries', () => {
    // A reading every 10 ms for 10 minutes: 60 001 readings into series of at most 64 points.
    const detector = new LeakDetector({ warmUpMs: 0 });
    let maxPoints = 0;
    for (let atMs = 0; atMs <= 600_000; atMs += 10) {
      detector.update({ ...flatReading(atMs), liveBytes: 20 * MIB + (atMs % 1000) * KIB });
      maxPoints = Math.max(maxPoints, detector.seriesLength('heap'));
    }

    assert.ok(maxPoints <= 64, `a series held ${maxPoints} points`);
    assert.ok(maxPoints >= 32, `a series held only ${maxPoints} points`);
  });
});

/** Returns a reading with a flat 20 MiB live set at `monotonicMs`. */
function flatReading(monotonicMs: number): LeakReading {
  return {
    time: 1_700_000_000_000 + monotonicMs,
    monotonicMs,
    liveBytes: 20 * MIB,
    majorGcCount: 0,
    heapTotalBytes: 40 * MIB,
    heapBudgetBytes: HEAP_BUDGET_BYTES,
    externalBytes: 1 * MIB,
    rssBytes: 80 * MIB,
    limitBytes: null,
  };
}
