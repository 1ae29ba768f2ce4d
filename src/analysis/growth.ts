import { median, robustSlope, type TimePoint } from './robust-slope.js';

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

/** Why a window failed the rules; null when it passed. */
export type GrowthRule = 'samples' | 'span' | 'rise' | 'sustained' | 'rate' | 'noise';

export interface GrowthAssessment {
  significant: boolean;
  failedRule: GrowthRule | null;
  samples: number;
  spanMs: number;
  /** Median of the first slice, or NaN when the window has too few samples to be cut. */
  firstLevel: number;
  /** Median of the last slice, or NaN as for `firstLevel`. */
  lastLevel: number;
  risingSubWindows: number;
  /** Theil-Sen slope in value units per second, or null when a cheaper rule already failed. */
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

  const medians = sliceMedians(points, rules.subWindows);
  result.firstLevel = medians[0] as number;
  result.lastLevel = medians[medians.length - 1] as number;
  if (result.lastLevel - result.firstLevel < rules.minRise) return { ...result, failedRule: 'rise' };

  const minStep = rules.minRise / (2 * (rules.subWindows - 1));
  const rising = countRisingSlices(medians, minStep);
  result.risingSubWindows = rising.count;
  if (rising.count < rules.minRisingSubWindows || !rising.lastRose) return { ...result, failedRule: 'sustained' };

  const rate = robustSlope(points);
  result.ratePerSecond = rate;
  if (rate === null || rate < rules.minRatePerSecond) return { ...result, failedRule: 'rate' };

  result.slopeStandardErrors = slopeStandardErrors(points, rate);
  if (result.slopeStandardErrors < rules.minSlopeStandardErrors) return { ...result, failedRule: 'noise' };

  return { ...result, significant: true };
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

  const sliceMs = (last.timeMs - first.timeMs) / count;
  const buckets: number[][] = Array.from({ length: count }, () => []);
  for (const point of points) {
    const index = sliceMs > 0 ? Math.min(count - 1, Math.floor((point.timeMs - first.timeMs) / sliceMs)) : 0;
    (buckets[index] as number[]).push(point.value);
  }

  const medians: number[] = [];
  let previous = first.value;
  for (const bucket of buckets) {
    const value = bucket.length > 0 ? median(Float64Array.from(bucket)) : previous;
    medians.push(value);
    previous = value;
  }
  return medians;
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
 * holds one value for several samples, which the post-GC and trough estimates do.
 * The least-squares standard error sigma / sqrt(sum (t - mean t)^2) is then
 * widened by sqrt((1 + r) / (1 - r)), where r is the lag-1 autocorrelation of the
 * residuals, because readings that follow each other carry less independent
 * information. That is the usual correction for a trend in AR(1) noise.
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
