import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { median, medianOf, robustSlope, type TimePoint } from '../../src/analysis/robust-slope.js';

/** Points every `stepMs` from 0 with `valueAt(timeMs)`. */
function line(count: number, stepMs: number, valueAt: (timeMs: number) => number): TimePoint[] {
  return Array.from({ length: count }, (_, i) => ({ timeMs: i * stepMs, value: valueAt(i * stepMs) }));
}

describe('robustSlope', () => {
  it('returns null for no points', () => {
    assert.equal(robustSlope([]), null);
  });

  it('returns null for one point', () => {
    assert.equal(robustSlope([{ timeMs: 1000, value: 5 }]), null);
  });

  it('returns null when all share one time', () => {
    const points = [
      { timeMs: 500, value: 1 },
      { timeMs: 500, value: 9 },
      { timeMs: 500, value: 4 },
    ];

    assert.equal(robustSlope(points), null);
  });

  it('returns slope of two points per second', () => {
    assert.equal(robustSlope([{ timeMs: 0, value: 0 }, { timeMs: 2000, value: 10 }]), 5);
  });

  it('returns exact slope of a line', () => {
    const points = line(30, 1000, (timeMs) => 1_000_000 + 3 * timeMs);

    assert.equal(robustSlope(points), 3000);
  });

  it('returns negative and zero slopes', () => {
    assert.equal(robustSlope(line(10, 250, (timeMs) => 100 - timeMs / 250)), -4);
    assert.equal(robustSlope(line(10, 250, () => 42)), 0);
  });

  it('skips pairs that share a time', () => {
    // Duplicated times alone give no slope; the pairs across times still do.
    const points = [
      { timeMs: 0, value: 0 },
      { timeMs: 0, value: 0 },
      { timeMs: 1000, value: 7 },
      { timeMs: 1000, value: 7 },
    ];

    assert.equal(robustSlope(points), 7);
  });

  it('ignores a few spikes', () => {
    // 1 MiB/s with 4 of 40 points replaced by spikes of +-500 MiB.
    const points = line(40, 1000, (timeMs) => 50 * 2 ** 20 + (2 ** 20 * timeMs) / 1000);
    for (const [index, spike] of [[5, 500], [13, -500], [22, 500], [31, 500]] as const) {
      (points[index] as TimePoint).value += spike * 2 ** 20;
    }

    const slope = robustSlope(points);
    assert.ok(slope !== null);
    assert.ok(Math.abs(slope - 2 ** 20) / 2 ** 20 < 0.05, `slope ${slope} is more than 5 % from 1 MiB/s`);
  });

  it('handles values near the largest safe integer', () => {
    const points = line(20, 1000, (timeMs) => Number.MAX_SAFE_INTEGER - 2 ** 40 + timeMs * 1024);

    assert.equal(robustSlope(points), 1024 * 1000);
  });

  it('skips pairs whose slope overflows', () => {
    const lowest = { timeMs: 0, value: -Number.MAX_VALUE };
    const highest = { timeMs: 1, value: Number.MAX_VALUE };

    // The difference of the two values overflows to Infinity, so the only pair is skipped.
    assert.equal(robustSlope([lowest, highest]), null);
    // Both pairs with the lowest point overflow; the pair left has slope 0.
    assert.equal(robustSlope([lowest, highest, { timeMs: 2, value: Number.MAX_VALUE }]), 0);
  });

  it('returns finite slope for huge values', () => {
    const points = line(10, 1000, (timeMs) => 1e300 + timeMs * 1e290);

    const slope = robustSlope(points);
    assert.ok(slope !== null);
    assert.ok(Number.isFinite(slope), `slope ${slope}`);
    assert.ok(Math.abs(slope - 1e293) / 1e293 < 1e-9, `slope ${slope}`);
  });

  it('skips points that are not finite', () => {
    const points = [
      { timeMs: 0, value: 0 },
      { timeMs: Number.NaN, value: 5 },
      { timeMs: 1000, value: Number.POSITIVE_INFINITY },
      { timeMs: 2000, value: 20 },
    ];

    assert.equal(robustSlope(points), 10);
  });

  it('returns null below minPoints', () => {
    const points = line(4, 1000, (timeMs) => timeMs);

    assert.equal(robustSlope(points, { minPoints: 5 }), null);
    assert.equal(robustSlope(points, { minPoints: 4 }), 1000);
  });

  it('samples pairs above maxPairs', () => {
    // 2000 points hold about 2 million pairs; 4096 sampled ones must still find the slope of noisy data.
    let state = 7;
    const noise = (): number => {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      return state / 2 ** 31 - 0.5;
    };
    const points = line(2000, 100, (timeMs) => 5 * timeMs + 1000 * noise());

    const slope = robustSlope(points);
    assert.ok(slope !== null);
    assert.ok(Math.abs(slope - 5000) / 5000 < 0.02, `slope ${slope} is more than 2 % from 5000`);
    assert.equal(robustSlope(points), slope, 'the sample of pairs changed between calls');
  });

  it('rejects invalid options', () => {
    const points = line(3, 1000, (timeMs) => timeMs);

    assert.throws(() => robustSlope(points, { minPoints: 1 }), { name: 'RangeError', message: /`minPoints`.*got 1 \(number\)/ });
    assert.throws(() => robustSlope(points, { maxPairs: 0 }), { name: 'RangeError', message: /`maxPairs`/ });
    assert.throws(() => robustSlope(points, { maxPairs: 2.5 }), { name: 'RangeError', message: /`maxPairs`.*integer/ });
  });
});

describe('median', () => {
  it('returns NaN for no values', () => {
    assert.ok(Number.isNaN(median(new Float64Array(0))));
  });

  it('returns middle of odd count', () => {
    assert.equal(medianOf([9, 1, 5, 3, 7]), 5);
  });

  it('returns mean of middles for even count', () => {
    assert.equal(medianOf([4, 1, 3, 2]), 2.5);
  });

  it('handles repeated values', () => {
    assert.equal(medianOf([2, 2, 2, 2, 1, 3]), 2);
    assert.equal(medianOf([5, 5, 5, 5, 5]), 5);
  });

  it('does not overflow near largest double', () => {
    assert.equal(medianOf([Number.MAX_VALUE, Number.MAX_VALUE]), Number.MAX_VALUE);
  });

  it('matches sorting on many random arrays', () => {
    let state = 1;
    const random = (): number => {
      state = (state * 48_271) % 2_147_483_647;
      return state / 2_147_483_647;
    };

    for (let round = 0; round < 200; round++) {
      const length = 1 + Math.floor(random() * 40);
      const values = Array.from({ length }, () => Math.floor(random() * 10));
      const sorted = [...values].sort((a, b) => a - b);
      const middle = length >> 1;
      const expected = length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;

      assert.equal(medianOf(values), expected, `values ${JSON.stringify(values)}`);
    }
  });
});
