import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MemoryLeakEvent, ResourceLeakEvent } from '../../src/analysis/leak-events.js';
import { MAX_LEAKS_LISTED, renderSummary, SummaryTracker } from '../../src/cli/summary.js';

const MIB = 2 ** 20;

function heapLeak(rateBytesPerSecond: number): MemoryLeakEvent {
  return {
    type: 'leak',
    time: 1_700_000_030_000,
    kind: 'heap',
    rateBytesPerSecond,
    since: 1_700_000_010_000,
    timeToLimitMs: 20_000,
    budget: 'heap',
    evidence: { windowMs: 20_000, samples: 20, subWindows: 4, risingSubWindows: 3, slopeStandardErrors: 12, firstBytes: 10 * MIB, lastBytes: 50 * MIB, minRiseBytes: 2 * MIB, urgent: false },
  };
}

function timeoutLeak(ratePerSecond: number): ResourceLeakEvent {
  return {
    type: 'leak',
    time: 1_700_000_030_000,
    kind: 'resources',
    resourceType: 'Timeout',
    ratePerSecond,
    since: 1_700_000_010_000,
    timeToLimitMs: null,
    evidence: { windowMs: 20_000, samples: 20, subWindows: 4, risingSubWindows: 3, slopeStandardErrors: 40, firstCount: 10, lastCount: 90, minRiseCount: 50 },
  };
}

function leaksLine(tracker: SummaryTracker): string | undefined {
  return renderSummary(tracker.finish(1_700_000_060_000), 'exited with code 0').find((line) => line.startsWith('leaks'));
}

describe('run summary leaks', () => {
  it('shows zero without leak events', () => {
    const tracker = new SummaryTracker(1_700_000_000_000);

    assert.equal(leaksLine(tracker), 'leaks          0');
    assert.equal(tracker.finish(1_700_000_060_000).leaks, 0);
  });

  it('lists kind and rate of each leak', () => {
    const tracker = new SummaryTracker(1_700_000_000_000);
    tracker.addLeak(heapLeak(2 * MIB));
    tracker.addLeak(timeoutLeak(4));

    assert.equal(leaksLine(tracker), 'leaks          2 (heap at 2.0 MiB/s, Timeout at 4.0/s)');
    assert.deepEqual(tracker.finish(1_700_000_060_000).leakRates, [
      { kind: 'heap', resourceType: null, ratePerSecond: 2 * MIB },
      { kind: 'resources', resourceType: 'Timeout', ratePerSecond: 4 },
    ]);
  });

  it('counts leaks past the listed maximum', () => {
    const tracker = new SummaryTracker(1_700_000_000_000);
    for (let i = 0; i < MAX_LEAKS_LISTED + 2; i++) tracker.addLeak(heapLeak(MIB));

    const summary = tracker.finish(1_700_000_060_000);
    assert.equal(summary.leaks, MAX_LEAKS_LISTED + 2);
    assert.equal(summary.leakRates.length, MAX_LEAKS_LISTED);
    assert.match(leaksLine(tracker) ?? '', /, 2 more\)$/);
  });
});
