import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXPECTED_HEAP_FAILURE_SHARE, expectedHeapFailureBytes, heapBudget, RELIABLE_OLD_GENERATION_SHARE } from '../../src/sampling/sampler.js';

const MIB = 2 ** 20;

describe('heap budget and failure point', () => {
  it('budget is 80 % of the old space', () => {
    // --max-old-space-size=128 gives a 176 MiB heap limit with a 48 MiB young generation.
    assert.equal(heapBudget(176 * MIB, 48 * MIB), Math.floor(128 * MIB * RELIABLE_OLD_GENERATION_SHARE));
  });

  it('failure point is 90 % of the old space', () => {
    const budgetBytes = heapBudget(176 * MIB, 48 * MIB);

    assert.equal(EXPECTED_HEAP_FAILURE_SHARE, 0.9);
    // The budget is rounded down to whole bytes first, so the result can be 1 byte under.
    const expected = Math.floor(128 * MIB * 0.9);
    const actual = expectedHeapFailureBytes(budgetBytes);
    assert.ok(actual <= expected, `${actual} bytes, expected at most ${expected}`);
    assert.ok(actual >= expected - 1, `${actual} bytes, expected at least ${expected - 1}`);
  });
});
