import type BetterSqlite3 from 'better-sqlite3';
import { isPressureLevel, levelRank, type PressureLevel } from '../analysis/levels.js';
import { clockOption, loggerOption, objectOption, pressureLevelArgument, rejectUnknownOptions } from '../responses/response-options.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { TrimResult } from '../util/trim.js';
import { durationOption, invalidOption, numberOption } from '../util/validate.js';
import { prepareQueries, summarize, type HistoryQueryStatements, type HistorySummary } from './history-query.js';
import { prepareRollup, rollUpSamples, type RollupStatements } from './history-rollup.js';
import type { StoreDatabase } from './open.js';
import { sqliteCode } from './store-error.js';

/** The fields of a sample that the history keeps. A manager `Sample` fits as it is. */
export interface HistorySampleInput {
  /** Milliseconds since the epoch. */
  time: number;
  /** Time since the previous sample, counted at this sample's level. */
  intervalMs: number;
  level: PressureLevel;
  heapUsageRatio: number;
  processUsageRatio: number | null;
  heapUsedBytes: number;
  rssBytes: number;
  externalBytes: number;
  gc: { count: number; pauseMs: number };
}

/**
 * An event to keep: `pressure`, `action`, `leak`, `leak-cleared`, `warning` or
 * any other type, with `time` in epoch ms. The whole object is stored as JSON.
 */
export interface HistoryEventInput {
  type: string;
  time: number;
  [field: string]: unknown;
}

export interface HistoryStoreOptions {
  database: StoreDatabase;
  /** Samples younger than this stay raw. Default 1 hour. */
  rawRetentionMs?: number | string;
  /** Width of a rollup bucket. Default 1 minute. */
  rollupBucketMs?: number | string;
  /** Rollups older than this are deleted. Default 7 days. */
  rollupRetentionMs?: number | string;
  /** Events older than this are deleted. Default 7 days. */
  eventRetentionMs?: number | string;
  /** Samples and events written in one transaction once this many wait. Default 60. */
  batchSize?: number;
  /** The maximum time a sample or event waits before it is written. Default 5 s. */
  flushIntervalMs?: number | string;
  /** Samples and events waiting to be written; the oldest are dropped, and counted, past it. Default 10000. */
  maxPending?: number;
  /** Time between maintenance runs (rollup and retention) once `start()` is called. Default 60 s. */
  maintenanceIntervalMs?: number | string;
  /** Events longer than this, as JSON, are stored cut to their type and time. Default 16 KiB. */
  maxEventBytes?: number;
  /** Leak events listed in a summary, newest first. Default 50. */
  maxLeakEvents?: number;
  clock?: Clock;
  logger?: Logger;
}

export interface MaintenanceResult {
  /** Raw samples folded into rollups. */
  rolledUp: number;
  deletedRollups: number;
  deletedEvents: number;
}

export interface HistoryStoreStats {
  pending: number;
  writtenSamples: number;
  writtenEvents: number;
  writeErrors: number;
  droppedUnwritten: number;
  maintenanceRuns: number;
}

interface SampleRow {
  time: number;
  intervalMs: number;
  level: number;
  usageRatio: number;
  heapUsedBytes: number;
  rssBytes: number;
  externalBytes: number;
  gcCount: number;
  gcPauseMs: number;
}

interface EventRow {
  time: number;
  type: string;
  name: string | null;
  data: string;
}

type HistorySettings = Required<Omit<HistoryStoreOptions, 'database' | 'clock' | 'logger'>> & {
  rawRetentionMs: number;
  rollupBucketMs: number;
  rollupRetentionMs: number;
  eventRetentionMs: number;
  flushIntervalMs: number;
  maintenanceIntervalMs: number;
};

type PendingRow = { kind: 'sample'; row: SampleRow } | { kind: 'event'; row: EventRow };

const DAY_MS = 86_400_000;
const KNOWN_OPTIONS = [
  'database',
  'rawRetentionMs',
  'rollupBucketMs',
  'rollupRetentionMs',
  'eventRetentionMs',
  'batchSize',
  'flushIntervalMs',
  'maxPending',
  'maintenanceIntervalMs',
  'maxEventBytes',
  'maxLeakEvents',
  'clock',
  'logger',
] as const;

/**
 * Keeps the history of samples and events in the store file: raw samples for
 * `rawRetentionMs`, then one rollup per `rollupBucketMs` (min, mean, max, a
 * usage histogram for percentiles, GC totals and time per level) for
 * `rollupRetentionMs`. `summarize()` returns what `GET /analytics` serves.
 */
export class HistoryStore {
  readonly #database: StoreDatabase;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #settings: HistorySettings;
  readonly #write: (rows: readonly PendingRow[]) => void;
  readonly #rollup: RollupStatements;
  readonly #maintain: (nowMs: number) => MaintenanceResult;
  readonly #queries: HistoryQueryStatements;
  #pending: PendingRow[] = [];
  #flushTimer: NodeJS.Timeout | null = null;
  #maintenanceTimer: NodeJS.Timeout | null = null;
  #closed = false;
  readonly #stats = { writtenSamples: 0, writtenEvents: 0, writeErrors: 0, droppedUnwritten: 0, maintenanceRuns: 0 };

  constructor(options: HistoryStoreOptions) {
    const given = objectOption('options', options);
    rejectUnknownOptions('options', given, KNOWN_OPTIONS);
    if (typeof given.database !== 'object' || given.database === null || typeof given.database.connection !== 'object') {
      throw invalidOption('database', 'a database from openDatabase()', given.database, 'type');
    }

    this.#database = given.database;
    this.#clock = clockOption(given.clock);
    this.#logger = loggerOption(given.logger);
    this.#settings = resolveSettings(given);

    const connection = this.#database.connection;
    this.#write = prepareWrite(connection);
    this.#rollup = prepareRollup(connection);
    this.#queries = prepareQueries(connection);
    this.#maintain = this.#prepareMaintenance(connection);
  }

  /** Queues a sample for writing. Throws on a sample without a numeric time or a known level. */
  recordSample(sample: HistorySampleInput): void {
    this.#assertOpen();
    if (typeof sample !== 'object' || sample === null || !Number.isFinite(sample.time) || !isPressureLevel(sample.level)) {
      throw invalidOption('sample', 'an object with a numeric `time` and a pressure `level`, such as a manager sample', sample, 'type');
    }

    const usageRatio = Math.max(sample.heapUsageRatio, sample.processUsageRatio ?? 0);
    this.#queue({
      kind: 'sample',
      row: {
        time: Math.round(sample.time),
        intervalMs: finiteOrZero(sample.intervalMs),
        level: levelRank(sample.level),
        usageRatio: finiteOrZero(usageRatio),
        heapUsedBytes: Math.round(finiteOrZero(sample.heapUsedBytes)),
        rssBytes: Math.round(finiteOrZero(sample.rssBytes)),
        externalBytes: Math.round(finiteOrZero(sample.externalBytes)),
        gcCount: Math.round(finiteOrZero(sample.gc?.count)),
        gcPauseMs: finiteOrZero(sample.gc?.pauseMs),
      },
    });
  }

  /** Queues an event for writing. Throws on an event without a string `type` and a numeric `time`. */
  recordEvent(event: HistoryEventInput): void {
    this.#assertOpen();
    if (typeof event !== 'object' || event === null || typeof event.type !== 'string' || !Number.isFinite(event.time)) {
      throw invalidOption('event', 'an object with a string `type` and a numeric `time`', event, 'type');
    }

    let data = JSON.stringify(event);
    if (Buffer.byteLength(data) > this.#settings.maxEventBytes) data = JSON.stringify({ type: event.type, time: event.time, truncated: true });

    this.#queue({ kind: 'event', row: { time: Math.round(event.time), type: event.type, name: eventName(event), data } });
  }

  /**
   * Writes every pending sample and event in one transaction and returns how
   * many rows it wrote. On a write error the rows stay pending, the error is
   * logged, and the next flush tries again.
   */
  flush(): number {
    this.#clearFlushTimer();
    if (this.#closed || this.#pending.length === 0) return 0;

    const rows = this.#pending;
    try {
      this.#write(rows);
    } catch (err) {
      this.#stats.writeErrors++;
      this.#logger.error(
        { err, code: sqliteCode(err), rows: rows.length, writeErrors: this.#stats.writeErrors },
        'headroom: failed to write history; the rows stay pending and the next flush retries',
      );
      this.#armFlushTimer();
      return 0;
    }

    this.#pending = [];
    for (const pending of rows) {
      if (pending.kind === 'sample') this.#stats.writtenSamples++;
      else this.#stats.writtenEvents++;
    }
    return rows.length;
  }

  /**
   * Writes what is pending, folds raw samples older than `rawRetentionMs`
   * (whole buckets only) into rollups, and deletes rollups and events past
   * their retention, in one transaction.
   */
  maintain(): MaintenanceResult {
    this.#assertOpen();
    this.flush();

    const result = this.#maintain(this.#clock.epochNow());
    this.#stats.maintenanceRuns++;
    this.#logger.debug({ ...result }, 'headroom: history maintenance done');
    return result;
  }

  /** Summarizes the window [fromMs, toMs), in epoch ms; the default window is the last hour. */
  summarize(window: { fromMs?: number; toMs?: number } = {}): HistorySummary {
    this.#assertOpen();
    const toMs = numberOption('toMs', window.toMs, this.#clock.epochNow(), 0, Number.MAX_SAFE_INTEGER);
    const fromMs = numberOption('fromMs', window.fromMs, toMs - 3_600_000, 0, toMs);

    this.flush();
    return summarize(this.#queries, fromMs, toMs, this.#settings.maxLeakEvents);
  }

  /** Arms the maintenance timer. Calling it again does nothing. */
  start(): this {
    if (this.#maintenanceTimer || this.#closed) return this;

    this.#armMaintenance();
    return this;
  }

  /** Writes what is pending under pressure, so the buffer is empty. The history keeps nothing else in memory. */
  trim(level: PressureLevel): TrimResult {
    pressureLevelArgument('level', level);
    if (level === 'normal') return { items: 0, bytes: null };
    return { items: this.flush(), bytes: null };
  }

  stats(): HistoryStoreStats {
    return { pending: this.#pending.length, ...this.#stats };
  }

  /** Writes what is pending and clears every timer. The database stays open: its owner closes it. */
  close(): void {
    if (this.#closed) return;

    this.flush();
    this.#clearFlushTimer();
    if (this.#maintenanceTimer) clearTimeout(this.#maintenanceTimer);
    this.#maintenanceTimer = null;
    this.#closed = true;
  }

  #prepareMaintenance(connection: BetterSqlite3.Database): (nowMs: number) => MaintenanceResult {
    const deleteRollups = connection.prepare('DELETE FROM sample_rollups WHERE bucket_start < ?');
    const deleteEvents = connection.prepare('DELETE FROM events WHERE time < ?');
    const { rawRetentionMs, rollupBucketMs, rollupRetentionMs, eventRetentionMs } = this.#settings;

    return connection.transaction((nowMs: number): MaintenanceResult => {
      // Only whole buckets are folded: the cutoff is rounded down to a bucket boundary.
      const cutoffMs = Math.floor((nowMs - rawRetentionMs) / rollupBucketMs) * rollupBucketMs;
      return {
        rolledUp: rollUpSamples(this.#rollup, cutoffMs, rollupBucketMs),
        deletedRollups: deleteRollups.run(nowMs - rollupRetentionMs).changes,
        deletedEvents: deleteEvents.run(nowMs - eventRetentionMs).changes,
      };
    });
  }

  #queue(row: PendingRow): void {
    this.#pending.push(row);
    if (this.#pending.length > this.#settings.maxPending) {
      const dropped = this.#pending.length - this.#settings.maxPending;
      this.#pending.splice(0, dropped);
      this.#stats.droppedUnwritten += dropped;
    }

    if (this.#pending.length >= this.#settings.batchSize) this.flush();
    else this.#armFlushTimer();
  }

  #armFlushTimer(): void {
    if (this.#flushTimer || this.#closed) return;

    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = null;
      this.flush();
    }, this.#settings.flushIntervalMs);
    this.#flushTimer.unref();
  }

  #clearFlushTimer(): void {
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
  }

  /** Arms the next run after the previous one ended, so runs never overlap. */
  #armMaintenance(): void {
    this.#maintenanceTimer = setTimeout(() => {
      try {
        this.maintain();
      } catch (err) {
        this.#stats.writeErrors++;
        this.#logger.error({ err, code: sqliteCode(err) }, 'headroom: history maintenance failed; it runs again at the next interval');
      }
      if (!this.#closed) this.#armMaintenance();
    }, this.#settings.maintenanceIntervalMs);
    this.#maintenanceTimer.unref();
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('The history store is closed; create a new one to record history');
  }
}

function resolveSettings(given: Partial<HistoryStoreOptions>): HistorySettings {
  const rollupBucketMs = durationOption('rollupBucketMs', given.rollupBucketMs, 60_000, 1000, DAY_MS);
  if (!Number.isInteger(rollupBucketMs)) throw invalidOption('rollupBucketMs', 'a whole number of milliseconds', given.rollupBucketMs);

  return {
    rawRetentionMs: durationOption('rawRetentionMs', given.rawRetentionMs, 3_600_000, 0, 365 * DAY_MS),
    rollupBucketMs,
    rollupRetentionMs: durationOption('rollupRetentionMs', given.rollupRetentionMs, 7 * DAY_MS, 60_000, 3650 * DAY_MS),
    eventRetentionMs: durationOption('eventRetentionMs', given.eventRetentionMs, 7 * DAY_MS, 60_000, 3650 * DAY_MS),
    batchSize: numberOption('batchSize', given.batchSize, 60, 1, 100_000, true),
    flushIntervalMs: durationOption('flushIntervalMs', given.flushIntervalMs, 5000, 10, DAY_MS),
    maxPending: numberOption('maxPending', given.maxPending, 10_000, 1, 10_000_000, true),
    maintenanceIntervalMs: durationOption('maintenanceIntervalMs', given.maintenanceIntervalMs, 60_000, 1000, DAY_MS),
    maxEventBytes: numberOption('maxEventBytes', given.maxEventBytes, 16 * 1024, 64, 16 * 1024 * 1024, true),
    maxLeakEvents: numberOption('maxLeakEvents', given.maxLeakEvents, 50, 0, 10_000, true),
  };
}

function prepareWrite(connection: BetterSqlite3.Database): (rows: readonly PendingRow[]) => void {
  const insertSample = connection.prepare(`INSERT INTO samples (time, interval_ms, level, usage_ratio, heap_used_bytes, rss_bytes, external_bytes, gc_count, gc_pause_ms)
    VALUES (@time, @intervalMs, @level, @usageRatio, @heapUsedBytes, @rssBytes, @externalBytes, @gcCount, @gcPauseMs)`);
  const insertEvent = connection.prepare('INSERT INTO events (time, type, name, data) VALUES (@time, @type, @name, @data)');

  return connection.transaction((rows: readonly PendingRow[]) => {
    for (const pending of rows) {
      if (pending.kind === 'sample') insertSample.run(pending.row);
      else insertEvent.run(pending.row);
    }
  });
}

/** Returns the name an event is counted under: the action, the leak kind, the level reached, or the warning code. */
function eventName(event: HistoryEventInput): string | null {
  for (const field of ['action', 'kind', 'to', 'code']) {
    const value = event[field];
    if (typeof value === 'string') return value;
  }
  return null;
}

function finiteOrZero(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** Creates a history store on an open database. Throws on an invalid option. */
export function createHistoryStore(options: HistoryStoreOptions): HistoryStore {
  return new HistoryStore(options);
}
