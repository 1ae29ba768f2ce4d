import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LiveSetEstimator, type LiveSetReading } from '../../src/analysis/live-set.js';

const MIB = 2 ** 20;

function reading(monotonicMs: number, heapUsedMiB: number, majorGcs = 0): LiveSetReading {
  return { monotonicMs, heapUsedBytes: heapUsedMiB * MIB, gc: { byKind: { major: { count: majorGcs } } } };
}

describe('LiveSetEstimator', () => {
  it('starts with no estimate', () => {
    assert.equal(new LiveSetEstimator().latest, null);
  });

  it('returns trough without major GC', () => {
    const estimator = new LiveSetEstimator({ troughWindowMs: 10_000 });
    const heapUsedMiB = [50, 42, 61, 45, 58];

    let last = null;
    for (const [i, heap] of heapUsedMiB.entries()) last = estimator.update(reading(i * 1000, heap));

    assert.equal(last?.liveBytes, 42 * MIB);
    assert.equal(last?.source, 'trough');
    assert.equal(last?.ageMs, 3000);
    assert.deepEqual(estimator.latest, last);
  });

  it('drops troughs older than window', () => {
    const estimator = new LiveSetEstimator({ troughWindowMs: 10_000 });
    estimator.update(reading(0, 30));
    estimator.update(reading(5000, 50));

    const estimate = estimator.update(reading(12_000, 55));

    assert.equal(estimate.liveBytes, 50 * MIB);
  });

  it('uses heap after major GC', () => {
    const estimator = new LiveSetEstimator();
    estimator.update(reading(0, 20));
    estimator.update(reading(1000, 70));

    // The GC found a larger live set than the old trough: the post-GC value replaces it.
    const afterGc = estimator.update(reading(2000, 35, 1));
    const later = estimator.update(reading(3000, 80));

    assert.equal(afterGc.liveBytes, 35 * MIB);
    assert.equal(afterGc.source, 'major-gc');
    assert.equal(later.liveBytes, 35 * MIB);
    assert.equal(later.source, 'major-gc');
    assert.equal(later.ageMs, 1000);
  });

  it('prefers hook value over sample', () => {
    const estimator = new LiveSetEstimator();
    estimator.update(reading(0, 60));

    estimator.recordAfterMajorGc(25 * MIB, 1500);
    const estimate = estimator.update(reading(2000, 40, 1));

    assert.equal(estimate.liveBytes, 25 * MIB);
    assert.equal(estimate.source, 'major-gc');
    assert.equal(estimate.ageMs, 500);
  });

  it('uses the last of several hook values', () => {
    const estimator = new LiveSetEstimator();

    estimator.recordAfterMajorGc(30 * MIB, 100);
    estimator.recordAfterMajorGc(28 * MIB, 600);
    const estimate = estimator.update(reading(1000, 50));

    assert.equal(estimate.liveBytes, 28 * MIB);
    assert.equal(estimate.ageMs, 400);
  });

  it('caps hook time at reading time', () => {
    const estimator = new LiveSetEstimator();

    estimator.recordAfterMajorGc(30 * MIB, 5000);
    const estimate = estimator.update(reading(1000, 50));

    assert.equal(estimate.ageMs, 0);
  });

  it('falls back to trough after post-GC value expires', () => {
    const estimator = new LiveSetEstimator({ troughWindowMs: 10_000 });
    estimator.update(reading(0, 20, 1));

    for (let ms = 1000; ms <= 10_000; ms += 1000) estimator.update(reading(ms, 40 + ms / 1000));
    const estimate = estimator.update(reading(11_000, 60));

    // The 20 MiB post-GC value is 11 s old; the lowest reading left is 41 MiB at 1 s.
    assert.equal(estimate.liveBytes, 41 * MIB);
    assert.equal(estimate.ageMs, 10_000);
    assert.equal(estimate.source, 'trough');
  });

  it('never exceeds current heap used', () => {
    const estimator = new LiveSetEstimator();

    estimator.recordAfterMajorGc(50 * MIB, 0);
    const estimate = estimator.update(reading(1000, 30));

    assert.equal(estimate.liveBytes, 30 * MIB);
  });

  it('follows sawtooth bottoms', () => {
    // Live set 20 MiB, 60 MiB of garbage collected every 10 s.
    const estimator = new LiveSetEstimator();
    for (let seconds = 0; seconds <= 120; seconds++) {
      const phase = seconds % 10;
      const estimate = estimator.update(reading(seconds * 1000, 20 + 6 * phase, phase === 0 ? 1 : 0));

      assert.equal(estimate.liveBytes, 20 * MIB, `at ${seconds} s`);
    }
  });

  it('keeps at most maxReadings readings', () => {
    // A reading every 10 ms of a falling heap: each one is a new trough, and merging keeps the lowest.
    const estimator = new LiveSetEstimator({ troughWindowMs: 1000, maxReadings: 8 });

    let estimate = estimator.update(reading(0, 100));
    for (let ms = 10; ms <= 5000; ms += 10) estimate = estimator.update(reading(ms, 100 - ms / 100));

    assert.equal(estimate.liveBytes, 50 * MIB);
    assert.ok(estimator.readingCount <= 8, `${estimator.readingCount} readings kept`);
  });

  it('reset forgets readings', () => {
    const estimator = new LiveSetEstimator();
    estimator.update(reading(0, 10));
    estimator.recordAfterMajorGc(5 * MIB, 10);

    estimator.reset();
    const estimate = estimator.update(reading(1000, 40));

    assert.equal(estimate.liveBytes, 40 * MIB);
    assert.equal(estimator.readingCount, 1);
  });

  it('rejects invalid readings', () => {
    const estimator = new LiveSetEstimator();

    assert.throws(() => estimator.update(reading(0, Number.NaN)), { name: 'RangeError', message: /heapUsedBytes.*NaN/ });
    assert.throws(() => estimator.update(reading(-1, 10)), { name: 'RangeError', message: /monotonicMs/ });
    assert.throws(() => estimator.recordAfterMajorGc(-5, 0), { name: 'RangeError', message: /heapUsedBytes/ });
  });

  it('rejects time going backwards', () => {
    const estimator = new LiveSetEstimator();
    estimator.update(reading(2000, 10));

    assert.throws(() => estimator.update(reading(1000, 10)), { name: 'RangeError', message: /must not decrease/ });
  });

  it('rejects invalid options', () => {
    assert.throws(() => new LiveSetEstimator({ troughWindowMs: 10 }), { name: 'RangeError', message: /`troughWindowMs`.*got 10 \(number\)/ });
    assert.throws(() => new LiveSetEstimator({ troughWindowMs: 'soon' }), { name: 'RangeError', message: /`troughWindowMs`.*"soon"/ });
    assert.throws(() => new LiveSetEstimator({ maxReadings: 1 }), { name: 'RangeError', message: /`maxReadings`/ });
    assert.throws(() => new LiveSetEstimator({ maxReadings: '8' as unknown as number }), { name: 'TypeError', message: /`maxReadings`/ });
    assert.throws(() => new LiveSetEstimator({ windowMs: 1000 } as never), { name: 'TypeError', message: /`windowMs`.*known options/ });
  });

  it('accepts duration strings', () => {
    const estimator = new LiveSetEstimator({ troughWindowMs: '2s' });
    estimator.update(reading(0, 10));

    assert.equal(estimator.update(reading(2500, 30)).liveBytes, 30 * MIB);
  });
});
