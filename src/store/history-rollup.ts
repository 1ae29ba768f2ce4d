import type BetterSqlite3 from 'better-sqlite3';
import { addToHistogram, mergeHistograms, parseHistogram, serializeHistogram, SQL_USAGE_BIN, type UsageHistogram } from './usage-histogram.js';

/** One bucket of `sample_rollups`, with the histogram parsed. */
export interface Rollup {
  bucketStart: number;
  bucketMs: number;
  samples: number;
  usageMin: number;
  usageSum: number;
  usageMax: number;
  usageHistogram: UsageHistogram;
  heapMin: number;
  heapSum: number;
  heapMax: number;
  rssMin: number;
  rssSum: number;
  rssMax: number;
  gcCount: number;
  gcPauseMs: number;
  normalMs: number;
  moderateMs: number;
  highMs: number;
  criticalMs: number;
}

/**
 * Aggregates of raw sample rows, named like the fields of `Rollup`. The time
 * at each level sums each sample's `interval_ms` by the level rank in `level`.
 */
export const SAMPLE_AGGREGATES_SQL = [
  'count(*) AS samples',
  'min(usage_ratio) AS usageMin, sum(usage_ratio) AS usageSum, max(usage_ratio) AS usageMax',
  'min(heap_used_bytes) AS heapMin, sum(heap_used_bytes) AS heapSum, max(heap_used_bytes) AS heapMax',
  'min(rss_bytes) AS rssMin, sum(rss_bytes) AS rssSum, max(rss_bytes) AS rssMax',
  'coalesce(sum(gc_count), 0) AS gcCount, coalesce(sum(gc_pause_ms), 0) AS gcPauseMs',
  ...['normalMs', 'moderateMs', 'highMs', 'criticalMs'].map((alias, rank) => `coalesce(sum(CASE WHEN level = ${rank} THEN interval_ms ELSE 0 END), 0) AS ${alias}`),
].join(', ');

/** better-sqlite3 binds JS numbers as REAL, so the division is truncated explicitly. */
const BUCKET_START_SQL = 'CAST(time / @bucketMs AS INTEGER) * CAST(@bucketMs AS INTEGER)';

const AGGREGATE_SQL = `
SELECT ${BUCKET_START_SQL} AS bucketStart, ${SAMPLE_AGGREGATES_SQL}
FROM samples WHERE time < @cutoffMs GROUP BY bucketStart`;

const HISTOGRAM_SQL = `
SELECT ${BUCKET_START_SQL} AS bucketStart, ${SQL_USAGE_BIN} AS bin, count(*) AS count
FROM samples WHERE time < @cutoffMs GROUP BY bucketStart, bin`;

export interface RollupStatements {
  aggregate: BetterSqlite3.Statement;
  histogram: BetterSqlite3.Statement;
  existing: BetterSqlite3.Statement;
  upsert: BetterSqlite3.Statement;
  deleteRaw: BetterSqlite3.Statement;
}

export function prepareRollup(connection: BetterSqlite3.Database): RollupStatements {
  return {
    aggregate: connection.prepare(AGGREGATE_SQL),
    histogram: connection.prepare(HISTOGRAM_SQL),
    existing: connection.prepare('SELECT * FROM sample_rollups WHERE bucket_start = ?'),
    upsert: connection.prepare(`INSERT OR REPLACE INTO sample_rollups VALUES (
      @bucketStart, @bucketMs, @samples, @usageMin, @usageSum, @usageMax, @usageHistogram,
      @heapMin, @heapSum, @heapMax, @rssMin, @rssSum, @rssMax, @gcCount, @gcPauseMs,
      @normalMs, @moderateMs, @highMs, @criticalMs)`),
    deleteRaw: connection.prepare('DELETE FROM samples WHERE time < ?'),
  };
}

/**
 * Folds raw samples older than `cutoffMs` into buckets of `bucketMs` and
 * deletes them, and returns how many samples it folded. A bucket that exists
 * already, as when a late sample arrives, is merged. The caller runs this in
 * a transaction, so a crash leaves either the raw rows or the rollups.
 */
export function rollUpSamples(statements: RollupStatements, cutoffMs: number, bucketMs: number): number {
  const parameters = { bucketMs, cutoffMs };
  const histograms = new Map<number, UsageHistogram>();
  for (const row of statements.histogram.iterate(parameters) as Iterable<{ bucketStart: number; bin: number; count: number }>) {
    let histogram = histograms.get(row.bucketStart);
    if (!histogram) histograms.set(row.bucketStart, (histogram = new Map()));
    addToHistogram(histogram, row.bin, row.count);
  }

  const fresh = statements.aggregate.all(parameters) as Array<Omit<Rollup, 'usageHistogram' | 'bucketMs'>>;
  let folded = 0;
  for (const aggregate of fresh) {
    const rollup: Rollup = { ...aggregate, bucketMs, usageHistogram: histograms.get(aggregate.bucketStart) ?? new Map() };
    const existingRow = statements.existing.get(rollup.bucketStart) as RollupRow | undefined;
    const merged = existingRow ? mergeRollups(fromRollupRow(existingRow), rollup) : rollup;

    statements.upsert.run({ ...merged, usageHistogram: serializeHistogram(merged.usageHistogram) });
    folded += aggregate.samples;
  }

  statements.deleteRaw.run(cutoffMs);
  return folded;
}

export function mergeRollups(a: Rollup, b: Rollup): Rollup {
  const histogram: UsageHistogram = new Map(a.usageHistogram);
  mergeHistograms(histogram, b.usageHistogram);

  return {
    bucketStart: a.bucketStart,
    bucketMs: a.bucketMs,
    samples: a.samples + b.samples,
    usageMin: Math.min(a.usageMin, b.usageMin),
    usageSum: a.usageSum + b.usageSum,
    usageMax: Math.max(a.usageMax, b.usageMax),
    usageHistogram: histogram,
    heapMin: Math.min(a.heapMin, b.heapMin),
    heapSum: a.heapSum + b.heapSum,
    heapMax: Math.max(a.heapMax, b.heapMax),
    rssMin: Math.min(a.rssMin, b.rssMin),
    rssSum: a.rssSum + b.rssSum,
    rssMax: Math.max(a.rssMax, b.rssMax),
    gcCount: a.gcCount + b.gcCount,
    gcPauseMs: a.gcPauseMs + b.gcPauseMs,
    normalMs: a.normalMs + b.normalMs,
    moderateMs: a.moderateMs + b.moderateMs,
    highMs: a.highMs + b.highMs,
    criticalMs: a.criticalMs + b.criticalMs,
  };
}

/** A row of `sample_rollups` as SQLite returns it. */
export interface RollupRow {
  bucket_start: number;
  bucket_ms: number;
  samples: number;
  usage_min: number;
  usage_sum: number;
  usage_max: number;
  usage_histogram: string;
  heap_min: number;
  heap_sum: number;
  heap_max: number;
  rss_min: number;
  rss_sum: number;
  rss_max: number;
  gc_count: number;
  gc_pause_ms: number;
  normal_ms: number;
  moderate_ms: number;
  high_ms: number;
  critical_ms: number;
}

export function fromRollupRow(row: RollupRow): Rollup {
  return {
    bucketStart: row.bucket_start,
    bucketMs: row.bucket_ms,
    samples: row.samples,
    usageMin: row.usage_min,
    usageSum: row.usage_sum,
    usageMax: row.usage_max,
    usageHistogram: parseHistogram(row.usage_histogram),
    heapMin: row.heap_min,
    heapSum: row.heap_sum,
    heapMax: row.heap_max,
    rssMin: row.rss_min,
    rssSum: row.rss_sum,
    rssMax: row.rss_max,
    gcCount: row.gc_count,
    gcPauseMs: row.gc_pause_ms,
    normalMs: row.normal_ms,
    moderateMs: row.moderate_ms,
    highMs: row.high_ms,
    criticalMs: row.critical_ms,
  };
}
