import type BetterSqlite3 from 'better-sqlite3';
import type { PressureLevel } from '../analysis/levels.js';
import { fromRollupRow, SAMPLE_AGGREGATES_SQL, type Rollup, type RollupRow } from './history-rollup.js';
import { addToHistogram, histogramPercentile, mergeHistograms, SQL_USAGE_BIN, type UsageHistogram } from './usage-histogram.js';

export interface RangeFigures {
  min: number;
  mean: number;
  max: number;
}

/** A stored `leak` or `leak-cleared` event: the fields it was recorded with. */
export type StoredEvent = Record<string, unknown> & { type: string; time: number };

/** A summary of a time window, as `GET /analytics` returns it. Times are epoch ms. */
export interface HistorySummary {
  fromMs: number;
  toMs: number;
  /** Samples covered, raw and rolled up. */
  samples: number;
  /** Samples read from 1-minute (or `rollupBucketMs`) rollups; rolled-up time is counted by whole buckets that start in the window. */
  rolledUpSamples: number;
  /** The larger of the heap and process usage ratios; `p95` is rounded up to the next 0.01. Null without samples. */
  usageRatio: (RangeFigures & { p95: number }) | null;
  heapUsedBytes: RangeFigures | null;
  rssBytes: RangeFigures | null;
  timeAtLevelMs: Record<PressureLevel, number>;
  gc: { count: number; pauseMs: number };
  /** `pressure` events: level changes. */
  pressureChanges: number;
  /** `action` events, by their `action` name, such as `relieve` or `forced-gc`. */
  actions: { count: number; byName: Record<string, number> };
  /** `leak` events; `events` contains the latest ones, newest first, at most `maxLeakEvents`. */
  leaks: { count: number; cleared: number; events: StoredEvent[] };
}

export interface HistoryQueryStatements {
  raw: BetterSqlite3.Statement;
  rawHistogram: BetterSqlite3.Statement;
  rollups: BetterSqlite3.Statement;
  eventCounts: BetterSqlite3.Statement;
  leakEvents: BetterSqlite3.Statement;
}

export function prepareQueries(connection: BetterSqlite3.Database): HistoryQueryStatements {
  return {
    raw: connection.prepare(`SELECT ${SAMPLE_AGGREGATES_SQL} FROM samples WHERE time >= @fromMs AND time < @toMs`),
    rawHistogram: connection.prepare(`SELECT ${SQL_USAGE_BIN} AS bin, count(*) AS count FROM samples WHERE time >= @fromMs AND time < @toMs GROUP BY bin`),
    rollups: connection.prepare('SELECT * FROM sample_rollups WHERE bucket_start >= @fromMs AND bucket_start < @toMs'),
    eventCounts: connection.prepare('SELECT type, name, count(*) AS count FROM events WHERE time >= @fromMs AND time < @toMs GROUP BY type, name'),
    leakEvents: connection.prepare("SELECT data FROM events WHERE type = 'leak' AND time >= @fromMs AND time < @toMs ORDER BY time DESC LIMIT @limit"),
  };
}

/** Sums of samples, raw or rolled up, before means and percentiles are taken. */
interface Totals {
  samples: number;
  usageMin: number;
  usageSum: number;
  usageMax: number;
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

/** Summarizes raw samples, rollups and events with `time` in [fromMs, toMs). */
export function summarize(statements: HistoryQueryStatements, fromMs: number, toMs: number, maxLeakEvents: number): HistorySummary {
  const window = { fromMs, toMs };
  const histogram: UsageHistogram = new Map();

  const raw = statements.raw.get(window) as Totals;
  for (const row of statements.rawHistogram.iterate(window) as Iterable<{ bin: number; count: number }>) addToHistogram(histogram, row.bin, row.count);

  let totals: Totals = raw.samples > 0 ? raw : emptyTotals();
  let rolledUpSamples = 0;
  for (const row of statements.rollups.iterate(window) as Iterable<RollupRow>) {
    const rollup = fromRollupRow(row);
    totals = addTotals(totals, rollup);
    mergeHistograms(histogram, rollup.usageHistogram);
    rolledUpSamples += rollup.samples;
  }

  const events = summarizeEvents(statements, window, maxLeakEvents);
  const samples = totals.samples;
  return {
    fromMs,
    toMs,
    samples,
    rolledUpSamples,
    usageRatio:
      samples === 0
        ? null
        : {
            min: totals.usageMin,
            mean: totals.usageSum / samples,
            max: totals.usageMax,
            p95: histogramPercentile(histogram, 0.95, totals.usageMax) ?? totals.usageMax,
          },
    heapUsedBytes: samples === 0 ? null : { min: totals.heapMin, mean: totals.heapSum / samples, max: totals.heapMax },
    rssBytes: samples === 0 ? null : { min: totals.rssMin, mean: totals.rssSum / samples, max: totals.rssMax },
    timeAtLevelMs: { normal: totals.normalMs, moderate: totals.moderateMs, high: totals.highMs, critical: totals.criticalMs },
    gc: { count: totals.gcCount, pauseMs: totals.gcPauseMs },
    ...events,
  };
}

function summarizeEvents(
  statements: HistoryQueryStatements,
  window: { fromMs: number; toMs: number },
  maxLeakEvents: number,
): Pick<HistorySummary, 'pressureChanges' | 'actions' | 'leaks'> {
  let pressureChanges = 0;
  const actions = { count: 0, byName: {} as Record<string, number> };
  const leaks = { count: 0, cleared: 0, events: [] as StoredEvent[] };

  for (const row of statements.eventCounts.iterate(window) as Iterable<{ type: string; name: string | null; count: number }>) {
    if (row.type === 'pressure') pressureChanges += row.count;
    if (row.type === 'leak') leaks.count += row.count;
    if (row.type === 'leak-cleared') leaks.cleared += row.count;
    if (row.type === 'action') {
      actions.count += row.count;
      const name = row.name ?? 'unnamed';
      actions.byName[name] = (actions.byName[name] ?? 0) + row.count;
    }
  }

  for (const row of statements.leakEvents.iterate({ ...window, limit: maxLeakEvents }) as Iterable<{ data: string }>) {
    leaks.events.push(JSON.parse(row.data) as StoredEvent);
  }

  return { pressureChanges, actions, leaks };
}

function emptyTotals(): Totals {
  return {
    samples: 0,
    usageMin: Number.POSITIVE_INFINITY,
    usageSum: 0,
    usageMax: Number.NEGATIVE_INFINITY,
    heapMin: Number.POSITIVE_INFINITY,
    heapSum: 0,
    heapMax: Number.NEGATIVE_INFINITY,
    rssMin: Number.POSITIVE_INFINITY,
    rssSum: 0,
    rssMax: Number.NEGATIVE_INFINITY,
    gcCount: 0,
    gcPauseMs: 0,
    normalMs: 0,
    moderateMs: 0,
    highMs: 0,
    criticalMs: 0,
  };
}

function addTotals(a: Totals, b: Totals | Rollup): Totals {
  return {
    samples: a.samples + b.samples,
    usageMin: Math.min(a.usageMin, b.usageMin),
    usageSum: a.usageSum + b.usageSum,
    usageMax: Math.max(a.usageMax, b.usageMax),
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
