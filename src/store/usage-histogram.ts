/**
 * Counts of usage ratios in bins 0.01 wide, so percentiles can be merged
 * across raw samples and 1-minute rollups. Bin `b` contains ratios from b/100 up
 * to (b+1)/100; ratios of 2 and above share the last bin.
 */
export type UsageHistogram = Map<number, number>;

export const BINS_PER_UNIT = 100;
export const LAST_BIN = 200;
/** Lifts products such as 0.29 * 100 = 28.999999999999996 into the bin that the decimal value names. */
const BIN_EPSILON = 1e-9;

/** The same binning as SQL, for queries that group in the database. */
export const SQL_USAGE_BIN = `MIN(${LAST_BIN}, MAX(0, CAST(usage_ratio * ${BINS_PER_UNIT} + ${BIN_EPSILON} AS INTEGER)))`;

export function usageBin(ratio: number): number {
  return Math.min(LAST_BIN, Math.max(0, Math.floor(ratio * BINS_PER_UNIT + BIN_EPSILON)));
}

export function addToHistogram(histogram: UsageHistogram, bin: number, count = 1): void {
  histogram.set(bin, (histogram.get(bin) ?? 0) + count);
}

export function mergeHistograms(into: UsageHistogram, from: UsageHistogram): void {
  for (const [bin, count] of from) addToHistogram(into, bin, count);
}

/** Serializes to JSON such as `{"73":12,"74":40}`, small because a minute of samples fills few bins. */
export function serializeHistogram(histogram: UsageHistogram): string {
  return JSON.stringify(Object.fromEntries(histogram));
}

/** Parses a stored histogram. A damaged value reads as empty rather than failing a whole query. */
export function parseHistogram(text: string): UsageHistogram {
  const histogram: UsageHistogram = new Map();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return histogram;
  }
  if (typeof parsed !== 'object' || parsed === null) return histogram;

  for (const [key, count] of Object.entries(parsed)) {
    const bin = Number(key);
    if (Number.isInteger(bin) && bin >= 0 && bin <= LAST_BIN && typeof count === 'number' && count > 0) addToHistogram(histogram, bin, count);
  }
  return histogram;
}

/**
 * Returns the `percentile` (0 to 1) by the nearest-rank method, as the upper
 * edge of its bin capped at `max`: never below the true value and at most 0.01
 * above it. Returns null for an empty histogram.
 */
export function histogramPercentile(histogram: UsageHistogram, percentile: number, max: number): number | null {
  let total = 0;
  for (const count of histogram.values()) total += count;
  if (total === 0) return null;

  const rank = Math.max(1, Math.ceil(percentile * total));
  const bins = [...histogram.keys()].sort((a, b) => a - b);
  let seen = 0;
  for (const bin of bins) {
    seen += histogram.get(bin) ?? 0;
    if (seen >= rank) return Math.min((bin + 1) / BINS_PER_UNIT, max);
  }
  return max;
}
