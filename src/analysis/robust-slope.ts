import { numberOption } from '../util/validate.js';

/** One reading of a time series: monotonic milliseconds and a value. */
export interface TimePoint {
  timeMs: number;
  value: number;
  /**
   * When the value was measured, if before `timeMs`: a live-set estimate can
   * repeat a post-GC reading taken seconds earlier. Absent means `timeMs`.
   */
  measuredAtMs?: number;
}

export interface RobustSlopeOptions {
  /** Fewer usable points than this make the slope null. Default 2, the least a slope needs. */
  minPoints?: number;
  /**
   * Maximum number of pairwise slopes computed. With more pairs than this, the
   * median is taken over a fixed pseudo-random sample of this many. Default 4096.
   */
  maxPairs?: number;
}

export const DEFAULT_MAX_PAIRS = 4096;
const MAX_PAIRS_CEILING = 1_000_000;

/** Reused between calls so a slope allocates nothing once the buffer has grown; it never exceeds MAX_PAIRS_CEILING. */
let slopeScratch = new Float64Array(256);

/**
 * Estimates the slope of `points` in value units per second with the Theil-Sen
 * estimator: the median of the slopes between pairs of points. Its breakdown
 * point is 1 - 1/sqrt(2), so up to about 29 % of the points can be outliers,
 * where a least-squares fit follows a single spike.
 *
 * Points with a non-finite time or value are skipped, pairs that share a time
 * are skipped, and a pair whose slope overflows to infinity is skipped. Returns
 * null when fewer than `minPoints` usable points remain or no pair spans any
 * time. Work is O(n + maxPairs log maxPairs) for n points.
 */
export function robustSlope(points: readonly TimePoint[], options: RobustSlopeOptions = {}): number | null {
  const minPoints = numberOption('minPoints', options.minPoints, 2, 2, Number.MAX_SAFE_INTEGER, true);
  const maxPairs = numberOption('maxPairs', options.maxPairs, DEFAULT_MAX_PAIRS, 1, MAX_PAIRS_CEILING, true);

  const usable = points.filter((point) => Number.isFinite(point.timeMs) && Number.isFinite(point.value));
  if (usable.length < minPoints) return null;

  const count = fillPairSlopes(usable, maxPairs);
  if (count === 0) return null;

  return median(slopeScratch.subarray(0, count));
}

/** Writes pairwise slopes into `slopeScratch` and returns how many it wrote. */
function fillPairSlopes(points: readonly TimePoint[], maxPairs: number): number {
  const n = points.length;
  const allPairs = (n * (n - 1)) / 2;
  const wanted = Math.min(allPairs, maxPairs);
  if (slopeScratch.length < wanted) slopeScratch = new Float64Array(wanted);

  const times = new Float64Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const point = points[i] as TimePoint;
    times[i] = point.timeMs;
    values[i] = point.value;
  }

  let count = 0;
  if (allPairs <= maxPairs) {
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) count = addSlope(times, values, i, j, count);
    }
    return count;
  }

  // Too many pairs: draw them with a fixed seed, so the same points always give the same slope.
  const random = createRandom(0x9e3779b9);
  for (let drawn = 0; drawn < maxPairs; drawn++) {
    const i = Math.floor(random() * n);
    const offset = 1 + Math.floor(random() * (n - 1));
    count = addSlope(times, values, i, (i + offset) % n, count);
  }
  return count;
}

/**
 * Stores the slope between points i and j in value units per second at
 * `slopeScratch[count]` and returns the new count. A pair with a zero time
 * span or a slope that overflows is skipped.
 */
function addSlope(times: Float64Array, values: Float64Array, i: number, j: number, count: number): number {
  const dtMs = (times[j] as number) - (times[i] as number);
  if (dtMs === 0) return count;

  // Divide before scaling to seconds, so values near the largest double overflow less often.
  const slope = (((values[j] as number) - (values[i] as number)) / dtMs) * 1000;
  if (!Number.isFinite(slope)) return count;

  slopeScratch[count] = slope;
  return count + 1;
}

/** Returns a xorshift32 generator of numbers in [0, 1): not for security, only for a repeatable sample. */
function createRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

/** Returns the median of `values`, reordering them in place. NaN for an empty array. Expected O(n) time. */
export function median(values: Float64Array): number {
  const n = values.length;
  if (n === 0) return Number.NaN;

  const middle = n >> 1;
  const above = selectInPlace(values, middle);
  if (n % 2 === 1) return above;

  // After selection every value left of `middle` is at most `above`, so the lower middle is their maximum.
  let below = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < middle; i++) below = Math.max(below, values[i] as number);

  // The halves are added separately, so two values near the largest double do not overflow.
  return below / 2 + above / 2;
}

/**
 * Returns the value of rank `k` (0-based) and reorders `values` so that smaller
 * values come before index k and larger ones after it: Hoare's selection with a
 * median-of-three pivot.
 */
function selectInPlace(values: Float64Array, k: number): number {
  let left = 0;
  let right = values.length - 1;

  while (right > left) {
    const pivot = medianOfThree(values[left] as number, values[(left + right) >> 1] as number, values[right] as number);
    let i = left;
    let j = right;
    while (i <= j) {
      while ((values[i] as number) < pivot) i++;
      while ((values[j] as number) > pivot) j--;
      if (i <= j) {
        const swap = values[i] as number;
        values[i] = values[j] as number;
        values[j] = swap;
        i++;
        j--;
      }
    }

    // Now values[left..j] <= pivot <= values[i..right], and values between j and i equal the pivot.
    if (k <= j) {
      right = j;
    } else if (k >= i) {
      left = i;
    } else {
      return values[k] as number;
    }
  }

  return values[k] as number;
}

function medianOfThree(a: number, b: number, c: number): number {
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
}

/** Returns the median of a number array without changing it. */
export function medianOf(values: readonly number[]): number {
  return median(Float64Array.from(values));
}
