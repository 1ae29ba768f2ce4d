import type { Budget } from './levels.js';

/** Estimated time until a budget runs out at the current growth rates. */
export interface Forecast {
  /** The smaller of the two estimates below, or null when neither applies. */
  timeToLimitMs: number | null;
  /** The budget that runs out first, or null with no estimate. */
  budget: Budget | null;
  /** Live set against the heap budget, at the live set's growth rate; null without a heap leak. */
  heapTimeToLimitMs: number | null;
  /** RSS against the process limit, at the RSS growth rate; null without a memory leak or a process limit. */
  processTimeToLimitMs: number | null;
}

export const NO_FORECAST: Readonly<Forecast> = Object.freeze({
  timeToLimitMs: null,
  budget: null,
  heapTimeToLimitMs: null,
  processTimeToLimitMs: null,
});

/**
 * Returns the milliseconds until `currentBytes` reaches `limitBytes` at
 * `rateBytesPerSecond`: 0 when already at or past the limit, and null when
 * there is no limit, the rate is not positive, or an input is not finite.
 */
export function timeToLimitMs(currentBytes: number, limitBytes: number | null, rateBytesPerSecond: number | null): number | null {
  if (limitBytes === null || rateBytesPerSecond === null) return null;
  if (!Number.isFinite(currentBytes) || !Number.isFinite(limitBytes) || !Number.isFinite(rateBytesPerSecond)) return null;
  if (rateBytesPerSecond <= 0) return null;
  if (currentBytes >= limitBytes) return 0;

  return ((limitBytes - currentBytes) / rateBytesPerSecond) * 1000;
}

/** Combines the heap and process estimates: the smaller one applies, because that budget runs out first. */
export function combineForecasts(heapTimeToLimitMs: number | null, processTimeToLimitMs: number | null): Forecast {
  if (heapTimeToLimitMs === null && processTimeToLimitMs === null) return { ...NO_FORECAST };

  const processFirst = heapTimeToLimitMs === null || (processTimeToLimitMs !== null && processTimeToLimitMs < heapTimeToLimitMs);
  return {
    timeToLimitMs: processFirst ? processTimeToLimitMs : heapTimeToLimitMs,
    budget: processFirst ? 'process' : 'heap',
    heapTimeToLimitMs,
    processTimeToLimitMs,
  };
}
