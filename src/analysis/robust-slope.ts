import { numberOption } from '../util/validate.js';

/** One reading of a time series: monotonic milliseconds and a value. */
export interface TimePoint {
  timeMs: number;
  value: number;
}

export interface RobustSlopeOptions {
  /** Fewer usable points than this make the slope null. Default 2, the least a slope needs. */
  minPoints?: number;
  /**
   * Maximum number of pairwise slopes computed. Above it, a fixed pseudo-random
   * sample of this many pairs stands in for all of them. Default 4096.
   */
  maxPairs?: number;
}

export const DEFAULT_MAX_PAIRS = 4096;
const MAX_PAIRS_CEILING = 1_000_000;

/** Reused between calls so a slope allocates nothing once the buffer has grown; it never exceeds MAX_PAIRS_CEILING. */
let slopeScratch = new Float64Array(256);

/**
 * Estimates the slope of `points` in value units per second with the Theil-Sen
 * estimator: the median of the slopes between pairs of points. Up to about 29 %
 * of the points can be outliers before the estimate breaks down, where a least
 * squares fit follows a single spike.
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

  let count = 0;
  const add = (a: TimePoint, b: TimePoint): void => {
    const slope = slopePerSecond(a, b);
    if (slope !== null) slopeScratch[count++] = slope;
  };

  if (allPairs <= maxPairs) {
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) add(points[i] as TimePoint, points[j] as TimePoint);
    }
    return count;
  }

  // Too many pairs: draw them with a fixed seed, so the same points always give the same slope.
  const random = createRandom(0x9e3779b9);
  for (let drawn = 0; drawn < maxPairs; drawn++) {
    const i = Math.floor(random() * n);
    const offset = 1 + Math.floor(random() * (n - 1));
    add(points[i] as TimePoint, points[(i + offset) % n] as TimePoint);
  }
  return count;
}

/** Returns the slope between two points in value units per second, or null for a zero time span or an overflow. */
function slopePerSecond(a: TimePoint, b: TimePoint): number | null {
  const dtMs = b.timeMs - a.timeMs;
  if (dtMs === 0) return null;

  // Divide before scaling to seconds, so values near the largest double overflow less often.
  const slope = ((b.value - a.value) / dtMs) * 1000;
  return Number.isFinite(slope) ? slope : null;
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

/** Returns the median of `values`, sorting them in place. NaN for an empty array. */
export function median(values: Float64Array): number {
  const n = values.length;
  if (n === 0) return Number.NaN;

  values.sort();
  const middle = n >> 1;
  if (n % 2 === 1) return values[middle] as number;

  const below = values[middle - 1] as number;
  const above = values[middle] as number;
  // The halves are added separately, so two values near the largest double do not overflow.
  return below / 2 + above / 2;
}

/** Returns the median of a number array without changing it. */
export function medianOf(values: readonly number[]): number {
  return median(Float64Array.from(values));
}
