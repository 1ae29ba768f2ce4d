import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WindowedSeries } from '../../src/analysis/windowed-series.js';

describe('WindowedSeries', () => {
  it('keeps points within window', () => {
    const series = new WindowedSeries(10_000, 64);
    for (let ms = 0; ms <= 30_000; ms += 1000) series.add(ms, ms);

    assert.equal(series.points[0]?.timeMs, 20_000);
    assert.equal(series.last?.timeMs, 30_000);
    assert.equal(series.length, 11);
    assert.equal(series.spanMs, 10_000);
  });

  it('reports zero span below two points', () => {
    const series = new WindowedSeries(10_000, 64);
    assert.equal(series.spanMs, 0);

    series.add(500, 1);
    assert.equal(series.spanMs, 0);
  });

  it('thins fast readings to maxPoints', () => {
    const series = new WindowedSeries(60_000, 64);
    for (let ms = 0; ms <= 600_000; ms += 10) {
      series.add(ms, ms);
      assert.ok(series.length <= 64, `${series.length} points at ${ms} ms`);
    }

    // The thinned series still covers the window and ends at the newest reading.
    assert.ok(series.spanMs >= 58_000, `span ${series.spanMs} ms`);
    assert.equal(series.last?.timeMs, 600_000);
  });

  it('keeps spacing between stored points', () => {
    const series = new WindowedSeries(10_000, 12);
    for (let ms = 0; ms <= 20_000; ms += 100) series.add(ms, 0);

    const points = series.points;
    for (let i = 1; i < points.length - 1; i++) {
      const gapMs = (points[i]?.timeMs ?? 0) - (points[i - 1]?.timeMs ?? 0);
      assert.ok(gapMs >= 1000, `gap ${gapMs} ms before point ${i}`);
    }
  });

  it('replaces point at same time', () => {
    const series = new WindowedSeries(10_000, 64);
    series.add(1000, 1);
    series.add(1000, 2);

    assert.equal(series.length, 1);
    assert.equal(series.last?.value, 2);
  });

  it('stores measuredAtMs only when earlier', () => {
    const series = new WindowedSeries(10_000, 64);
    series.add(1000, 5, 400);
    series.add(2000, 6, 2000);

    assert.equal(series.points[0]?.measuredAtMs, 400);
    assert.equal(series.points[1]?.measuredAtMs, undefined);
  });

  it('rejects time going backwards', () => {
    const series = new WindowedSeries(10_000, 64);
    series.add(2000, 1);

    assert.throws(() => series.add(1999, 1), { name: 'RangeError', message: /1999.*must not decrease/ });
  });

  it('clear empties the series', () => {
    const series = new WindowedSeries(10_000, 64);
    series.add(0, 1);
    series.add(1000, 2);

    series.clear();

    assert.equal(series.length, 0);
    assert.equal(series.last, undefined);
  });

  it('valueRange matches the points kept, through replaced and dropped points', () => {
    const series = new WindowedSeries(10_000, 5);
    const pseudoRandom = (i: number): number => ((i * 7919) % 101) - 50;
    for (let i = 0; i < 200; i++) {
      series.add(i * 700, pseudoRandom(i));

      const values = series.points.map((point) => point.value);
      assert.equal(series.valueRange(), Math.max(...values) - Math.min(...values), `after reading ${i}`);
    }
    assert.ok(series.length <= 5);
  });

  it('valueRange is 0 with fewer than two points', () => {
    const series = new WindowedSeries(10_000, 64);
    assert.equal(series.valueRange(), 0);

    series.add(0, 42);
    assert.equal(series.valueRange(), 0);
  });

  it('rejects invalid sizes', () => {
    assert.throws(() => new WindowedSeries(0, 64), { name: 'RangeError', message: /windowMs/ });
    assert.throws(() => new WindowedSeries(1000, 2), { name: 'RangeError', message: /maxPoints/ });
  });
});
