import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assessGrowth, sliceMedians, slopeStandardErrors, withoutRepeats, type GrowthRules } from '../../src/analysis/growth.js';
import type { TimePoint } from '../../src/analysis/robust-slope.js';

const RULES: GrowthRules = {
  minSpanMs: 20_000,
  minSamples: 8,
  subWindows: 4,
  minRisingSubWindows: 2,
  minRatePerSecond: 10,
  minRise: 100,
  minSlopeStandardErrors: 4,
};

/** Returns one point per second from 0 to `seconds`. */
function series(seconds: number, valueAt: (second: number) => number): TimePoint[] {
  return Array.from({ length: seconds + 1 }, (_, second) => ({ timeMs: second * 1000, value: valueAt(second) }));
}

describe('assessGrowth', () => {
  it('passes steady growth', () => {
    const assessment = assessGrowth(series(30, (second) => 1000 + 50 * second), RULES);

    assert.equal(assessment.significant, true);
    assert.equal(assessment.failedRule, null);
    assert.equal(assessment.ratePerSecond, 50);
    assert.equal(assessment.samples, 31);
    assert.equal(assessment.spanMs, 30_000);
    assert.equal(assessment.risingSubWindows, 3);
    assert.equal(assessment.slopeStandardErrors, Number.POSITIVE_INFINITY);
  });

  it('fails on too few samples', () => {
    const points = [0, 10_000, 20_000, 30_000].map((timeMs) => ({ timeMs, value: timeMs }));

    assert.equal(assessGrowth(points, RULES).failedRule, 'samples');
  });

  it('fails on short span', () => {
    const points = Array.from({ length: 20 }, (_, i) => ({ timeMs: i * 500, value: i * 1000 }));

    assert.equal(assessGrowth(points, RULES).failedRule, 'span');
  });

  it('fails on small rise', () => {
    // 3 per second over 30 s: the slices rise by less than 100 in all.
    assert.equal(assessGrowth(series(30, (second) => 3 * second), RULES).failedRule, 'rise');
  });

  it('fails on one jump', () => {
    // Flat, then one step of 1000 halfway: only one slice rises.
    const assessment = assessGrowth(series(30, (second) => (second < 15 ? 0 : 1000)), RULES);

    assert.equal(assessment.failedRule, 'sustained');
    assert.equal(assessment.risingSubWindows, 1);
  });

  it('fails on growth that stopped', () => {
    // Rises for 15 s, then flat: the last two slices hold the same median.
    assert.equal(assessGrowth(series(30, (second) => 100 * Math.min(second, 15)), RULES).failedRule, 'sustained');
  });

  it('fails on slow rate', () => {
    const slow: GrowthRules = { ...RULES, minRatePerSecond: 60 };

    assert.equal(assessGrowth(series(30, (second) => 50 * second), slow).failedRule, 'rate');
  });

  it('fails on noise', () => {
    // Growth of 20/s under alternating noise of +-400: the slope is about 3 standard errors.
    const noisy = series(30, (second) => 20 * second + (second % 2 === 0 ? 400 : -400) + (second % 3) * 150);
    const assessment = assessGrowth(noisy, { ...RULES, minRise: 50 });

    assert.equal(assessment.failedRule, 'noise', JSON.stringify(assessment));
  });

  it('uses changes only for the rate', () => {
    // Post-GC values held for 5 s each, 5000 higher each time: 1000/s.
    const steps = series(30, (second) => 5000 * Math.floor(second / 5));

    const assessment = assessGrowth(steps, RULES);
    assert.equal(assessment.ratePerSecond, 1000);
    assert.equal(assessment.significant, true);
  });
});

describe('sliceMedians', () => {
  it('returns one median per slice', () => {
    assert.deepEqual(
      sliceMedians(series(7, (second) => second), 4),
      [0.5, 2.5, 4.5, 6.5],
    );
  });

  it('carries median into empty slice', () => {
    const points = [
      { timeMs: 0, value: 1 },
      { timeMs: 1000, value: 3 },
      { timeMs: 4000, value: 9 },
    ];

    // Slices of 1 s: [1], [3], nothing, [9].
    assert.deepEqual(sliceMedians(points, 4), [1, 3, 3, 9]);
  });

  it('returns nothing for no points', () => {
    assert.deepEqual(sliceMedians([], 4), []);
  });
});

describe('withoutRepeats', () => {
  it('keeps first point of each run', () => {
    const points = [
      { timeMs: 0, value: 1 },
      { timeMs: 1000, value: 1 },
      { timeMs: 2000, value: 2 },
      { timeMs: 3000, value: 2 },
      { timeMs: 4000, value: 1 },
    ];

    assert.deepEqual(withoutRepeats(points), [
      { timeMs: 0, value: 1 },
      { timeMs: 2000, value: 2 },
      { timeMs: 4000, value: 1 },
    ]);
  });

  it('dates run at measurement time', () => {
    const points = [
      { timeMs: 5000, value: 7, measuredAtMs: 2000 },
      { timeMs: 6000, value: 7, measuredAtMs: 2000 },
    ];

    assert.deepEqual(withoutRepeats(points), [{ timeMs: 2000, value: 7 }]);
  });
});

describe('slopeStandardErrors', () => {
  it('returns Infinity for a noiseless rise', () => {
    assert.equal(slopeStandardErrors(series(10, (second) => 2 * second), 2), Number.POSITIVE_INFINITY);
  });

  it('returns 0 for fewer than three points', () => {
    assert.equal(slopeStandardErrors(series(1, (second) => second), 1), 0);
  });

  it('widens error for correlated residuals', () => {
    // The same residuals, once alternating and once in long runs: runs are worth fewer independent points.
    const alternating = series(40, (second) => 10 * second + (second % 2 === 0 ? 50 : -50));
    const runs = series(40, (second) => 10 * second + (Math.floor(second / 10) % 2 === 0 ? 50 : -50));

    const independent = slopeStandardErrors(alternating, 10);
    const correlated = slopeStandardErrors(runs, 10);
    assert.ok(correlated < independent / 2, `correlated ${correlated}, independent ${independent}`);
  });
});
