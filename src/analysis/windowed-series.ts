import type { TimePoint } from './robust-slope.js';

/**
 * A time series over a sliding window of `windowMs`, holding at most
 * `maxPoints` points however fast points arrive.
 *
 * Invariant: consecutive stored points are at least `windowMs / (maxPoints - 2)`
 * apart, except the last two, and the last point is always the newest reading.
 * While the last two points are closer than that spacing, a new reading replaces
 * the last point, so readings every 10 ms still span `windowMs` in `maxPoints` points.
 */
export class WindowedSeries {
  readonly #windowMs: number;
  readonly #maxPoints: number;
  readonly #minSpacingMs: number;
  /** Oldest first; at most #maxPoints entries. */
  #points: TimePoint[] = [];
  /**
   * The values of #points at the same indexes. A contiguous copy, so a scan of
   * the values touches a few cache lines instead of one object per point: on an
   * idle service each sample finds the caches cold.
   */
  readonly #values: Float64Array;

  /** `maxPoints` must be at least 3 so that the spacing is finite. */
  constructor(windowMs: number, maxPoints: number) {
    if (!(Number.isFinite(windowMs) && windowMs > 0)) throw new RangeError(`Invalid windowMs: expected a positive number, got ${windowMs}`);
    if (!(Number.isInteger(maxPoints) && maxPoints >= 3)) throw new RangeError(`Invalid maxPoints: expected an integer of at least 3, got ${maxPoints}`);

    this.#windowMs = windowMs;
    this.#maxPoints = maxPoints;
    this.#minSpacingMs = windowMs / (maxPoints - 2);
    // One more than #maxPoints: a new point is stored before the oldest is dropped.
    this.#values = new Float64Array(maxPoints + 1);
  }

  /** Points oldest first. The array is live: copy it to keep it across `add` calls. */
  get points(): readonly TimePoint[] {
    return this.#points;
  }

  get length(): number {
    return this.#points.length;
  }

  /** Milliseconds from the oldest to the newest point, 0 with fewer than two points. */
  get spanMs(): number {
    const first = this.#points[0];
    const last = this.#points[this.#points.length - 1];
    return first && last ? last.timeMs - first.timeMs : 0;
  }

  get last(): TimePoint | undefined {
    return this.#points[this.#points.length - 1];
  }

  /** Returns the largest value minus the smallest, or 0 with fewer than two points. */
  valueRange(): number {
    const length = this.#points.length;
    if (length < 2) return 0;

    const values = this.#values;
    let smallest = values[0] as number;
    let largest = smallest;
    for (let i = 1; i < length; i++) {
      const value = values[i] as number;
      if (value < smallest) smallest = value;
      else if (value > largest) largest = value;
    }
    return largest - smallest;
  }

  /**
   * Adds a reading and drops points older than the window. `measuredAtMs` is
   * when the value was measured, if earlier than `timeMs`. Throws when `timeMs`
   * is before the newest point.
   */
  add(timeMs: number, value: number, measuredAtMs: number = timeMs): void {
    const points = this.#points;
    const last = points[points.length - 1];
    if (last && timeMs < last.timeMs) {
      throw new RangeError(`Invalid time ${timeMs} ms: it is before the previous reading at ${last.timeMs} ms, but times must not decrease`);
    }

    // The newest reading replaces the last point until that point is a full spacing past the one before.
    const beforeLast = points[points.length - 2];
    const lastGapMs = last && beforeLast ? last.timeMs - beforeLast.timeMs : Number.POSITIVE_INFINITY;
    const replacesLast = last !== undefined && (timeMs === last.timeMs || lastGapMs < this.#minSpacingMs);
    const point: TimePoint = measuredAtMs < timeMs ? { timeMs, value, measuredAtMs } : { timeMs, value };
    if (replacesLast) {
      points[points.length - 1] = point;
    } else {
      points.push(point);
    }
    this.#values[points.length - 1] = value;

    const oldestKeptMs = timeMs - this.#windowMs;
    let drop = 0;
    while (drop < points.length - 1 && (points[drop] as TimePoint).timeMs < oldestKeptMs) drop++;

    // The spacing rule already bounds the length; this guards it against rounding.
    drop = Math.max(drop, points.length - this.#maxPoints);
    if (drop > 0) {
      this.#values.copyWithin(0, drop, points.length);
      points.splice(0, drop);
    }
  }

  clear(): void {
    this.#points = [];
  }
}
