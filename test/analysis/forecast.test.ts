import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { combineForecasts, timeToLimitMs } from '../../src/analysis/forecast.js';

const MIB = 2 ** 20;

describe('timeToLimitMs', () => {
  it('divides headroom by rate', () => {
    assert.equal(timeToLimitMs(28 * MIB, 128 * MIB, 1 * MIB), 100_000);
  });

  it('returns 0 at or past the limit', () => {
    assert.equal(timeToLimitMs(128 * MIB, 128 * MIB, MIB), 0);
    assert.equal(timeToLimitMs(130 * MIB, 128 * MIB, MIB), 0);
  });

  it('returns null without a limit', () => {
    assert.equal(timeToLimitMs(10 * MIB, null, MIB), null);
  });

  it('returns null without upward rate', () => {
    assert.equal(timeToLimitMs(10 * MIB, 128 * MIB, null), null);
    assert.equal(timeToLimitMs(10 * MIB, 128 * MIB, 0), null);
    assert.equal(timeToLimitMs(10 * MIB, 128 * MIB, -MIB), null);
  });

  it('returns null for non-finite input', () => {
    assert.equal(timeToLimitMs(Number.NaN, 128 * MIB, MIB), null);
    assert.equal(timeToLimitMs(10 * MIB, Number.POSITIVE_INFINITY, MIB), null);
    assert.equal(timeToLimitMs(10 * MIB, 128 * MIB, Number.POSITIVE_INFINITY), null);
  });
});

describe('combineForecasts', () => {
  it('picks the smaller estimate', () => {
    assert.deepEqual(combineForecasts(50_000, 20_000), {
      timeToLimitMs: 20_000,
      budget: 'process',
      heapTimeToLimitMs: 50_000,
      processTimeToLimitMs: 20_000,
    });
    assert.equal(combineForecasts(10_000, 20_000).budget, 'heap');
  });

  it('uses the only estimate', () => {
    assert.equal(combineForecasts(null, 30_000).budget, 'process');
    assert.equal(combineForecasts(30_000, null).budget, 'heap');
  });

  it('returns empty forecast without estimates', () => {
    assert.deepEqual(combineForecasts(null, null), {
      timeToLimitMs: null,
      budget: null,
      heapTimeToLimitMs: null,
      processTimeToLimitMs: null,
    });
  });
});
