import { median, robustSlope, type TimePoint } from './robust-slope.js';

/**
 * Pairs per Theil-Sen slope in the detector: all pairs of up to 45 points, a
 * fixed random sample of 1024 above that. It bounds the work of one slope,
 * whatever `maxPointsPerSeries` is.
 */
export const MAX_PAIRS_PER_SLOPE = 1024;

/** The rules a window of points must meet to count as sustained growth. */
export interface GrowthRules {
  minSpanMs: number;
  minSamples: number;
  /** Number of equal time slices the window is cut into for the sustained-growth rule. */
  subWindows: number;
  /** How many slices after the first must have a median above the slice before. */
  minRisingSubWindows: number;
  /** Minimum Theil-Sen slope, in value units per second. */
  minRatePerSecond: number;
  /** Minimum rise from the first slice's median to the last slice's. */
  minRise: number;
  /** Minimum slope over its estimated standard error. */
  minSlopeStandardErrors: number;
}

/** Name of a rule of `assessGrowth`, as reported for the first one a window fails. */
export type GrowthRule = 'samples' | 'span' | 'rise' | 'sustained' | 'rate' | 'noise';

export interface GrowthAssessment {
  significant: boolean;
  failedRule: GrowthRule | null;
  samples: number;
  spanMs: number;
  /** Median of the first slice, or NaN when the samples or span rule failed, or the values vary by less than `minRise`. */
  firstLevel: number;
  /** Median of the last slice, or NaN as for `firstLevel`. */
  lastLevel: number;
  risingSubWindows: number;
  /** Theil-Sen slope in value units per second over the points that changed; null when a cheaper rule already failed. */
  ratePerSecond: number | null;
  /** Slope over its estimated standard error; Infinity for a noiseless rise, null when not computed. */
  slopeStandardErrors: number | null;
}

/**
 * Decides whether `points` (oldest first) show sustained growth. The rules run
 * cheapest first and stop at the first that fails:
 *
 * 1. samples and span: enough points over at least `minSpanMs`;
 * 2. rise: the last slice's median is at least `minRise` above the first slice's;
 * 3. sustained: at least `minRisingSubWindows` slices, the last one included,
 *    have a median at least `minRise / (2 (subWindows - 1))` above the previous
 *    slice's, so one jump, or growth that has stopped, does not qualify;
 * 4. rate: the Theil-Sen slope is at least `minRatePerSecond`;
 * 5. noise: the slope is at least `minSlopeStandardErrors` standard errors.
 *
 * Rules 4 and 5 use only the points where the value changed (`withoutRepeats`).
 *
 * Slice medians and Theil-Sen ignore the spikes and swings of a sawtooth.
 */
export function assessGrowth(points: readonly TimePoint[], rules: GrowthRules): GrowthAssessment {
  const samples = points.length;
  const first = points[0];
  const last = points[samples - 1];
  const spanMs = first && last ? last.timeMs - first.timeMs : 0;
  const result: GrowthAssessment = {
    significant: false,
    failedRule: null,
    samples,
    spanMs,
    firstLevel: Number.NaN,
    lastLevel: Number.NaN,
    risingSubWindows: 0,
    ratePerSecond: null,
    slopeStandardErrors: null,
  };

  if (samples < rules.minSamples || !first) return { ...result, failedRule: 'samples' };
  if (spanMs < rules.minSpanMs || spanMs <= 0) return { ...result, failedRule: 'span' };

  // The slice medians lie between the smallest and largest value, so a smaller range cannot pass the rise rule.
  // Checking it first keeps a flat series, the usual case, from paying for the medians on every sample.
  if (valueRange(points) < rules.minRise) return { ...result, failedRule: 'rise' };

  const medians = sliceMedians(points, rules.subWindows);
  result.firstLevel = medians[0] as number;
  result.lastLevel = medians[medians.length - 1] as number;
  if (result.lastLevel - result.firstLevel < rules.minRise) return { ...result, failedRule: 'rise' };

  const minStep = rules.minRise / (2 * (rules.subWindows - 1));
  const rising = countRisingSlices(medians, minStep);
  result.risingSubWindows = rising.count;
  if (rising.count < rules.minRisingSubWindows || !rising.lastRose) return { ...result, failedRule: 'sustained' };

  const changes = withoutRepeats(points);
  const rate = robustSlope(changes, { maxPairs: MAX_PAIRS_PER_SLOPE }) ?? 0;
  result.ratePerSecond = rate;
  if (rate < rules.minRatePerSecond) return { ...result, failedRule: 'rate' };

  result.slopeStandardErrors = slopeStandardErrors(changes, rate);
  if (result.slopeStandardErrors < rules.minSlopeStandardErrors) return { ...result, failedRule: 'noise' };

  return { ...result, significant: true };
}

/**
 * Returns one point per run of equal values, dated when its value was measured
 * (`measuredAtMs`, else `timeMs` of the run's first point).
 *
 * A live-set estimate repeats a post-GC value until the next major GC, so most
 * of its points have the same value. Every pair within such a run has slope 0, and
 * with runs of several seconds those pairs pull the Theil-Sen median well
 * below the real rate. Dating a run by its measurement keeps a value held from
 * before the window from being taken as a new reading at the window's start.
 */
export function withoutRepeats(points: readonly TimePoint[]): TimePoint[] {
  const changes: TimePoint[] = [];
  let previous: TimePoint | undefined;
  for (const point of points) {
    if (previous === undefined || point.value !== previous.value) {
      changes.push({ timeMs: point.measuredAtMs ?? point.timeMs, value: point.value });
    }
    previous = point;
  }
  return changes;
}

/**
 * Returns the median of each of `count` equal time slices of the window. An
 * empty slice takes the median of the slice before it, so it never counts as
 * rising. The first and last slices always hold the first and last points.
 */
export function sliceMedians(points: readonly TimePoint[], count: number): number[] {
  const first = points[0];
  const last = points[points.length - 1];
  if (!first || !last) return [];

  // Points are in time order, so each slice is a contiguous range of them.
  const sliceMs = (last.timeMs - first.timeMs) / count;
  const values = new Float64Array(points.length);
  const ends = new Int32Array(count);
  for (let i = 0; i < points.length; i++) {
    const point = points[i] as TimePoint;
    values[i] = point.value;
    const index = sliceMs > 0 ? Math.min(count - 1, Math.floor((point.timeMs - first.timeMs) / sliceMs)) : 0;
    ends[index] = i + 1;
  }

  const medians: number[] = [];
  let start = 0;
  let previous = first.value;
  for (let slice = 0; slice < count; slice++) {
    const end = Math.max(start, ends[slice] as number);
    const value = end > start ? median(values.subarray(start, end)) : previous;
    medians.push(value);
    previous = value;
    start = end;
  }
  return medians;
}

/** Returns the largest value minus the smallest. */
function valueRange(points: readonly TimePoint[]): number {
  let smallest = Number.POSITIVE_INFINITY;
  let largest = Number.NEGATIVE_INFINITY;
  for (const point of points) {
    if (point.value < smallest) smallest = point.value;
    if (point.value > largest) largest = point.value;
  }
  return largest - smallest;
}

function countRisingSlices(medians: readonly number[], minStep: number): { count: number; lastRose: boolean } {
  let count = 0;
  let lastRose = false;
  for (let i = 1; i < medians.length; i++) {
    lastRose = (medians[i] as number) - (medians[i - 1] as number) >= minStep;
    if (lastRose) count++;
  }
  return { count, lastRose };
}

/**
 * Estimates how many standard errors `ratePerSecond` is from zero.
 *
 * The noise sigma is 1.2533 times the mean absolute deviation of the residuals
 * around the fitted line (the factor makes it match the standard deviation for
 * normal noise). The median absolute deviation would read 0 for a series that
 * repeats one value for several samples, as the post-GC and trough estimates do.
 * The least-squares standard error sigma / sqrt(sum (t - mean t)^2) is then
 * widened by sqrt((1 + r) / (1 - r)), where r is the lag-1 autocorrelation of the
 * residuals. Readings that follow each other carry less independent
 * information, and this is the usual correction for a trend in AR(1) noise.
 *
 * NOTE: this is an approximation. It assumes the residuals are stationary, and
 * r is capped at 0.95 so that the widening stays finite.
 */
export function slopeStandardErrors(points: readonly TimePoint[], ratePerSecond: number): number {
  const n = points.length;
  if (n < 3) return 0;

  const originMs = (points[0] as TimePoint).timeMs;
  let meanSeconds = 0;
  for (const point of points) meanSeconds += (point.timeMs - originMs) / 1000;
  meanSeconds /= n;

  const residuals = new Float64Array(n);
  let spread = 0;
  for (let i = 0; i < n; i++) {
    const point = points[i] as TimePoint;
    const seconds = (point.timeMs - originMs) / 1000;
    residuals[i] = point.value - ratePerSecond * seconds;
    spread += (seconds - meanSeconds) ** 2;
  }

  const center = median(residuals.slice());
  let absoluteDeviation = 0;
  for (let i = 0; i < n; i++) {
    residuals[i] = (residuals[i] as number) - center;
    absoluteDeviation += Math.abs(residuals[i] as number);
  }
  const sigma = 1.2533 * (absoluteDeviation / n);

  const autocorrelation = Math.min(0.95, Math.max(0, lagOneAutocorrelation(residuals)));
  const widening = Math.sqrt((1 + autocorrelation) / (1 - autocorrelation));
  const standardError = (sigma / Math.sqrt(spread)) * widening;
  if (standardError === 0) return ratePerSecond > 0 ? Number.POSITIVE_INFINITY : 0;
  return ratePerSecond / standardError;
}

/** Returns the lag-1 autocorrelation of `values`, or 0 when they do not vary. */
function lagOneAutocorrelation(values: Float64Array): number {
  const n = values.length;
  let mean = 0;
  for (const value of values) mean += value;
  mean /= n;

  let variance = 0;
  let covariance = 0;
  for (let i = 0; i < n; i++) {
    const deviation = (values[i] as number) - mean;
    variance += deviation * deviation;
    if (i > 0) covariance += deviation * ((values[i - 1] as number) - mean);
  }
  return variance > 0 ? covariance / variance : 0;
}
