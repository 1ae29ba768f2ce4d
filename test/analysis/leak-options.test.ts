import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_LEAK_DETECTOR_OPTIONS, resolveLeakDetectorOptions } from '../../src/analysis/leak-options.js';

describe('resolveLeakDetectorOptions', () => {
  it('returns defaults for no options', () => {
    assert.deepEqual(resolveLeakDetectorOptions(), DEFAULT_LEAK_DETECTOR_OPTIONS);
  });

  it('parses durations and sizes', () => {
    const resolved = resolveLeakDetectorOptions({ windowMs: '2m', shortWindowMs: '40s', minSpanMs: 30_000, confirmMs: '0s', minRiseBytes: '8MiB' });

    assert.equal(resolved.windowMs, 120_000);
    assert.equal(resolved.shortWindowMs, 40_000);
    assert.equal(resolved.minSpanMs, 30_000);
    assert.equal(resolved.confirmMs, 0);
    assert.equal(resolved.minRiseBytes, 8 * 2 ** 20);
  });

  it('merges partial minimum rates', () => {
    const resolved = resolveLeakDetectorOptions({ minRateBytesPerSecond: { native: 1_000_000 } });

    assert.deepEqual(resolved.minRateBytesPerSecond, { heap: 64 * 1024, external: 64 * 1024, native: 1_000_000 });
  });

  it('fits default spans into a short window', () => {
    const resolved = resolveLeakDetectorOptions({ windowMs: 10_000 });

    assert.equal(resolved.minSpanMs, 10_000);
    assert.equal(resolved.shortWindowMs, 10_000);
  });

  it('fits the default urgent span into a short minimum span', () => {
    assert.equal(resolveLeakDetectorOptions({ minSpanMs: 3000 }).urgentSpanMs, 3000);
  });

  it('raises default minSamples to subWindows', () => {
    assert.equal(resolveLeakDetectorOptions({ subWindows: 12 }).minSamples, 12);
  });

  const invalid: Array<{ options: Record<string, unknown>; name: string; error: string; message: RegExp }> = [
    { options: { windowMs: 500 }, name: 'windowMs', error: 'RangeError', message: /`windowMs`.*from 1000 ms.*got 500 \(number\)/ },
    { options: { windowMs: true }, name: 'windowMs', error: 'TypeError', message: /`windowMs`.*got true \(boolean\)/ },
    { options: { shortWindowMs: 5000 }, name: 'shortWindowMs', error: 'RangeError', message: /`shortWindowMs`.*from minSpanMs \(10000 ms\) to windowMs \(60000 ms\)/ },
    {
      options: { windowMs: 10_000, shortWindowMs: 20_000 },
      name: 'shortWindowMs',
      error: 'RangeError',
      message: /`shortWindowMs`: expected a duration from minSpanMs \(10000 ms\) to windowMs \(10000 ms\).*got 20000 \(number\)/,
    },
    { options: { minSpanMs: 90_000 }, name: 'minSpanMs', error: 'RangeError', message: /`minSpanMs`.*to windowMs \(60000 ms\)/ },
    { options: { urgentSpanMs: 12_000 }, name: 'urgentSpanMs', error: 'RangeError', message: /`urgentSpanMs`.*to minSpanMs \(10000 ms\).*got 12000 \(number\)/ },
    { options: { urgentSpanMs: 'soon' }, name: 'urgentSpanMs', error: 'RangeError', message: /`urgentSpanMs`.*"soon" \(string\)/ },
    { options: { confirmMs: -1 }, name: 'confirmMs', error: 'RangeError', message: /`confirmMs`.*from 0 ms to windowMs \(60000 ms\)/ },
    { options: { minSamples: 2 }, name: 'minSamples', error: 'RangeError', message: /`minSamples`.*from subWindows \(4\) to maxPointsPerSeries \(64\)/ },
    { options: { minSamples: 8.5 }, name: 'minSamples', error: 'RangeError', message: /`minSamples`.*integer/ },
    { options: { subWindows: 1 }, name: 'subWindows', error: 'RangeError', message: /`subWindows`/ },
    { options: { subWindows: 12, maxPointsPerSeries: 10 }, name: 'subWindows', error: 'RangeError', message: /`subWindows`.*maxPointsPerSeries \(10\)/ },
    { options: { minRisingSubWindowRatio: 1.5 }, name: 'minRisingSubWindowRatio', error: 'RangeError', message: /`minRisingSubWindowRatio`/ },
    { options: { minSlopeStandardErrors: Number.NaN }, name: 'minSlopeStandardErrors', error: 'RangeError', message: /`minSlopeStandardErrors`.*NaN/ },
    { options: { minRiseBytes: 0 }, name: 'minRiseBytes', error: 'RangeError', message: /`minRiseBytes`.*got 0 \(number\)/ },
    { options: { minRiseBytes: 'lots' }, name: 'minRiseBytes', error: 'RangeError', message: /`minRiseBytes`.*"lots" \(string\)/ },
    { options: { minRiseBytes: null }, name: 'minRiseBytes', error: 'TypeError', message: /`minRiseBytes`.*got null/ },
    { options: { minRiseRatio: 2 }, name: 'minRiseRatio', error: 'RangeError', message: /`minRiseRatio`/ },
    { options: { minRateBytesPerSecond: 5 }, name: 'minRateBytesPerSecond', error: 'TypeError', message: /`minRateBytesPerSecond`.*5 \(number\)/ },
    { options: { minRateBytesPerSecond: { heap: 0 } }, name: 'minRateBytesPerSecond.heap', error: 'RangeError', message: /`minRateBytesPerSecond\.heap`.*got 0/ },
    { options: { minRateBytesPerSecond: { stack: 10 } }, name: 'minRateBytesPerSecond.stack', error: 'TypeError', message: /`minRateBytesPerSecond\.stack`/ },
    { options: { minRiseCount: 0 }, name: 'minRiseCount', error: 'RangeError', message: /`minRiseCount`/ },
    { options: { minResourceRatePerSecond: 0 }, name: 'minResourceRatePerSecond', error: 'RangeError', message: /`minResourceRatePerSecond`/ },
    { options: { clearRateRatio: 1 }, name: 'clearRateRatio', error: 'RangeError', message: /`clearRateRatio`.*to 0\.99/ },
    { options: { heapRequiresMajorGc: 'yes' }, name: 'heapRequiresMajorGc', error: 'TypeError', message: /`heapRequiresMajorGc`.*true or false/ },
    { options: { maxPointsPerSeries: 4 }, name: 'maxPointsPerSeries', error: 'RangeError', message: /`maxPointsPerSeries`/ },
    { options: { maxResourceTypes: -1 }, name: 'maxResourceTypes', error: 'RangeError', message: /`maxResourceTypes`/ },
    { options: { window: 60_000 }, name: 'window', error: 'TypeError', message: /`window`.*known options/ },
  ];

  for (const { options, name, error, message } of invalid) {
    it(`rejects invalid ${name}: ${JSON.stringify(options)}`, () => {
      assert.throws(() => resolveLeakDetectorOptions(options), { name: error, message });
    });
  }

  it('rejects options that are not an object', () => {
    assert.throws(() => resolveLeakDetectorOptions(null as never), { name: 'TypeError', message: /`options`/ });
  });
});
