import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createEffectivenessTracker } from '../../src/responses/effectiveness.js';

const KIB = 1024;

describe('effectiveness tracker', () => {
  test('rate is bytes over ms across the window', () => {
    const tracker = createEffectivenessTracker();
    tracker.record('cache', 100 * KIB, 2);
    tracker.record('cache', 300 * KIB, 6);

    const record = tracker.get('cache');

    assert.equal(record?.samples, 2);
    assert.equal(record?.bytesPerMs, (400 * KIB) / 8);
  });

  test('window drops the oldest records', () => {
    const tracker = createEffectivenessTracker({ windowSize: 2, minSamples: 1 });
    tracker.record('cache', 1_000_000, 1);
    tracker.record('cache', 0, 1);
    tracker.record('cache', 0, 1);

    const record = tracker.get('cache');

    assert.equal(record?.samples, 2);
    assert.equal(record?.windowBytes, 0);
    assert.equal(record?.windowMs, 2);
    assert.equal(record?.pays, false);
  });

  test('pays is unknown until minSamples', () => {
    const tracker = createEffectivenessTracker({ minSamples: 3 });
    tracker.record('cache', 0, 5);
    tracker.record('cache', 0, 5);

    assert.equal(tracker.get('cache')?.pays, null);
    assert.equal(tracker.shouldSkip('cache'), false);

    tracker.record('cache', 0, 5);
    assert.equal(tracker.get('cache')?.pays, false);
  });

  test('zero duration still gives a finite rate', () => {
    const tracker = createEffectivenessTracker({ minSamples: 1 });
    tracker.record('instant', 1024, 0);

    assert.equal(tracker.get('instant')?.bytesPerMs, 1024 / 0.01);
    assert.equal(tracker.get('instant')?.pays, true);
  });

  test('non-paying action is skipped, then retried once', () => {
    const tracker = createEffectivenessTracker({ minSamples: 1, retryAfterSkips: 2 });
    tracker.record('useless', 0, 10);

    const decisions = [1, 2, 3, 4, 5, 6].map(() => tracker.shouldSkip('useless'));

    assert.deepEqual(decisions, [true, true, false, true, true, false]);
  });

  test('recording resets the skip count', () => {
    const tracker = createEffectivenessTracker({ minSamples: 1, retryAfterSkips: 2 });
    tracker.record('useless', 0, 10);
    tracker.shouldSkip('useless');

    tracker.record('useless', 0, 10);

    assert.equal(tracker.get('useless')?.skipsInRow, 0);
  });

  test('unknown action is never skipped', () => {
    const tracker = createEffectivenessTracker();

    assert.equal(tracker.shouldSkip('new'), false);
  });

  test('order ranks paying, unknown, non-paying', () => {
    const tracker = createEffectivenessTracker({ minSamples: 1 });
    tracker.record('fast', 1000 * KIB, 1);
    tracker.record('faster', 5000 * KIB, 1);
    tracker.record('slow', 1 * KIB, 10);
    tracker.record('slower', 0, 10);

    const order = tracker.order(['slower', 'unknown-b', 'slow', 'fast', 'unknown-a', 'faster']);

    assert.deepEqual(order, ['faster', 'fast', 'unknown-b', 'unknown-a', 'slow', 'slower']);
  });

  test('maxActions drops the stalest action', () => {
    const tracker = createEffectivenessTracker({ maxActions: 2 });
    tracker.record('a', 1, 1);
    tracker.record('b', 1, 1);
    tracker.record('a', 1, 1);
    tracker.record('c', 1, 1);

    assert.equal(tracker.size, 2);
    assert.equal(tracker.get('b'), null);
    assert.deepEqual(
      tracker.list().map((record) => record.action),
      ['a', 'c'],
    );
  });

  test('forget removes one action or all', () => {
    const tracker = createEffectivenessTracker();
    tracker.record('a', 1, 1);
    tracker.record('b', 1, 1);

    tracker.forget('a');
    assert.equal(tracker.get('a'), null);
    assert.equal(tracker.size, 1);

    tracker.forget();
    assert.equal(tracker.size, 0);
  });

  test('rejects invalid options and records', () => {
    assert.throws(() => createEffectivenessTracker({ windowSize: 0 }), { name: 'RangeError', message: /`windowSize`/ });
    assert.throws(() => createEffectivenessTracker({ windowSize: 2, minSamples: 3 }), { name: 'RangeError', message: /`minSamples`.*windowSize \(2\)/ });
    assert.throws(() => createEffectivenessTracker({ window: 4 } as never), { name: 'TypeError', message: /`options\.window`/ });

    const tracker = createEffectivenessTracker();
    assert.throws(() => tracker.record('a', -1, 1), { name: 'RangeError', message: /`reclaimedBytes`/ });
    assert.throws(() => tracker.record('a', 1, Number.NaN), { name: 'RangeError', message: /`durationMs`/ });
    assert.throws(() => tracker.record('', 1, 1), { name: 'TypeError', message: /`action`/ });
  });
});
