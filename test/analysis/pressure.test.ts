import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_THRESHOLDS, PressureTracker, type PressureTrackerOptions } from '../../src/analysis/pressure.js';

/** A reading long after start, so the warm-up never applies. */
const AFTER_WARM_UP_MS = 60_000;

function createTracker(overrides: Partial<PressureTrackerOptions> = {}): PressureTracker {
  return new PressureTracker({ thresholds: DEFAULT_THRESHOLDS, hysteresisRatio: 0.05, warmUpMs: 0, ...overrides });
}

/** Feeds heap usage ratios in order and returns the level after each one. */
function levelsForHeapRatios(tracker: PressureTracker, ratios: number[]): string[] {
  return ratios.map((ratio) => tracker.update({ heapUsageRatio: ratio, processUsageRatio: null }, AFTER_WARM_UP_MS).level);
}

describe('PressureTracker', () => {
  it('starts at normal', () => {
    assert.equal(createTracker().level, 'normal');
  });

  it('enters each level at its default threshold', () => {
    const cases = [
      { ratio: 0, level: 'normal' },
      { ratio: 0.69, level: 'normal' },
      { ratio: 0.7, level: 'moderate' },
      { ratio: 0.79, level: 'moderate' },
      { ratio: 0.8, level: 'high' },
      { ratio: 0.89, level: 'high' },
      { ratio: 0.9, level: 'critical' },
      { ratio: 1.2, level: 'critical' },
    ];

    for (const { ratio, level } of cases) {
      const update = createTracker().update({ heapUsageRatio: ratio, processUsageRatio: null }, AFTER_WARM_UP_MS);
      assert.equal(update.level, level, `heap usage ratio ${ratio}`);
    }
  });

  it('rises from normal straight to critical', () => {
    const tracker = createTracker();
    const update = tracker.update({ heapUsageRatio: 0.95, processUsageRatio: null }, AFTER_WARM_UP_MS);

    assert.equal(update.previous, 'normal');
    assert.equal(update.level, 'critical');
    assert.equal(update.changed, true);
    assert.equal(tracker.level, 'critical');
  });

  it('reports changed only when the level moves', () => {
    const tracker = createTracker();

    assert.equal(tracker.update({ heapUsageRatio: 0.75, processUsageRatio: null }, AFTER_WARM_UP_MS).changed, true);
    const repeated = tracker.update({ heapUsageRatio: 0.76, processUsageRatio: null }, AFTER_WARM_UP_MS);
    assert.equal(repeated.changed, false);
    assert.equal(repeated.previous, 'moderate');
    assert.equal(repeated.level, 'moderate');
  });

  it('leaves critical only below threshold minus hysteresis', () => {
    const tracker = createTracker();

    assert.deepEqual(levelsForHeapRatios(tracker, [0.92, 0.86]), ['critical', 'critical']);
    assert.deepEqual(levelsForHeapRatios(tracker, [0.84]), ['high']);
  });

  it('leaves high only below threshold minus hysteresis', () => {
    const tracker = createTracker();

    assert.deepEqual(levelsForHeapRatios(tracker, [0.82, 0.76]), ['high', 'high']);
    assert.deepEqual(levelsForHeapRatios(tracker, [0.74]), ['moderate']);
  });

  it('leaves moderate only below threshold minus hysteresis', () => {
    const tracker = createTracker();

    assert.deepEqual(levelsForHeapRatios(tracker, [0.72, 0.66]), ['moderate', 'moderate']);
    assert.deepEqual(levelsForHeapRatios(tracker, [0.64]), ['normal']);
  });

  it('falls from critical several levels in one reading', () => {
    const tracker = createTracker();

    assert.deepEqual(levelsForHeapRatios(tracker, [0.95, 0.3]), ['critical', 'normal']);
  });

  it('rises again without hysteresis', () => {
    const tracker = createTracker();

    // Falling to 0.76 keeps high. A reading of 0.9 then enters critical at once.
    assert.deepEqual(levelsForHeapRatios(tracker, [0.82, 0.76, 0.8, 0.9]), ['high', 'high', 'high', 'critical']);
  });

  it('applies no hysteresis when hysteresisRatio is 0', () => {
    const tracker = createTracker({ hysteresisRatio: 0 });

    assert.deepEqual(levelsForHeapRatios(tracker, [0.9, 0.89, 0.79, 0.69]), ['critical', 'high', 'moderate', 'normal']);
  });

  it('uses the process budget when its ratio is higher', () => {
    const update = createTracker().update({ heapUsageRatio: 0.5, processUsageRatio: 0.85 }, AFTER_WARM_UP_MS);

    assert.equal(update.level, 'high');
    assert.equal(update.budget, 'process');
    assert.equal(update.usageRatio, 0.85);
  });

  it('uses the heap budget when its ratio is higher', () => {
    const update = createTracker().update({ heapUsageRatio: 0.91, processUsageRatio: 0.6 }, AFTER_WARM_UP_MS);

    assert.equal(update.level, 'critical');
    assert.equal(update.budget, 'heap');
    assert.equal(update.usageRatio, 0.91);
  });

  it('names the heap budget when both ratios are equal', () => {
    const update = createTracker().update({ heapUsageRatio: 0.75, processUsageRatio: 0.75 }, AFTER_WARM_UP_MS);

    assert.equal(update.level, 'moderate');
    assert.equal(update.budget, 'heap');
    assert.equal(update.usageRatio, 0.75);
  });

  it('uses heap budget for null process ratio', () => {
    const update = createTracker().update({ heapUsageRatio: 0.81, processUsageRatio: null }, AFTER_WARM_UP_MS);

    assert.equal(update.level, 'high');
    assert.equal(update.budget, 'heap');
    assert.equal(update.usageRatio, 0.81);
  });

  it('switches budget when the other one becomes worse', () => {
    const tracker = createTracker();

    const first = tracker.update({ heapUsageRatio: 0.72, processUsageRatio: 0.4 }, AFTER_WARM_UP_MS);
    assert.equal(first.budget, 'heap');
    assert.equal(first.level, 'moderate');

    const second = tracker.update({ heapUsageRatio: 0.72, processUsageRatio: 0.93 }, AFTER_WARM_UP_MS);
    assert.equal(second.budget, 'process');
    assert.equal(second.level, 'critical');
    assert.equal(second.previous, 'moderate');
  });

  it('reads normal during warm-up', () => {
    const tracker = createTracker({ warmUpMs: 5000 });

    for (const ratio of [0.75, 0.85, 0.89]) {
      const update = tracker.update({ heapUsageRatio: ratio, processUsageRatio: null }, 4999);
      assert.equal(update.level, 'normal', `heap usage ratio ${ratio} at 4999 ms`);
      assert.equal(update.changed, false);
    }
  });

  it('lets critical through during warm-up', () => {
    const tracker = createTracker({ warmUpMs: 5000 });
    const update = tracker.update({ heapUsageRatio: 0.9, processUsageRatio: null }, 0);

    assert.equal(update.level, 'critical');
    assert.equal(update.changed, true);
  });

  it('lets process critical through warm-up', () => {
    const tracker = createTracker({ warmUpMs: 5000 });
    const update = tracker.update({ heapUsageRatio: 0.1, processUsageRatio: 0.95 }, 1000);

    assert.equal(update.level, 'critical');
    assert.equal(update.budget, 'process');
  });

  it('reports real levels once warm-up has ended', () => {
    const tracker = createTracker({ warmUpMs: 5000 });

    assert.equal(tracker.update({ heapUsageRatio: 0.85, processUsageRatio: null }, 4999).level, 'normal');
    const update = tracker.update({ heapUsageRatio: 0.85, processUsageRatio: null }, 5000);
    assert.equal(update.level, 'high');
    assert.equal(update.previous, 'normal');
    assert.equal(update.changed, true);
  });

  it('honours custom thresholds', () => {
    const thresholds = { moderate: 0.5, high: 0.6, critical: 0.75 };
    const cases = [
      { ratio: 0.49, level: 'normal' },
      { ratio: 0.5, level: 'moderate' },
      { ratio: 0.6, level: 'high' },
      { ratio: 0.75, level: 'critical' },
    ];

    for (const { ratio, level } of cases) {
      const update = createTracker({ thresholds }).update({ heapUsageRatio: ratio, processUsageRatio: null }, AFTER_WARM_UP_MS);
      assert.equal(update.level, level, `heap usage ratio ${ratio}`);
    }
  });

  it('applies hysteresis to custom thresholds', () => {
    const tracker = createTracker({ thresholds: { moderate: 0.5, high: 0.6, critical: 0.75 }, hysteresisRatio: 0.1 });

    assert.deepEqual(levelsForHeapRatios(tracker, [0.8, 0.66, 0.64, 0.51, 0.49]), ['critical', 'critical', 'high', 'high', 'moderate']);
  });
});
