import { randomUUID } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import type { PressureLevel } from '../analysis/levels.js';
import { clockOption, loggerOption, objectOption, pressureLevelArgument, rejectUnknownOptions } from '../responses/response-options.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { itemsToTrim, type TrimResult } from '../util/trim.js';
import { durationOption, invalidOption, numberOption } from '../util/validate.js';
import type { StoreDatabase } from './open.js';
import { sqliteCode } from './store-error.js';

export const OPERATION_STATUSES = ['running', 'done', 'failed', 'cancelled'] as const;

export type OperationStatus = (typeof OPERATION_STATUSES)[number];

export type FinishedOperationStatus = Exclude<OperationStatus, 'running'>;

export interface OperationRecord {
  id: string;
  kind: string;
  status: OperationStatus;
  /** Milliseconds since the epoch. */
  startedAt: number;
  finishedAt: number | null;
  /** A short summary of the outcome, at most `maxResultChars` characters, or null. */
  result: string | null;
}

export interface OperationStoreOptions {
  /** The database from `openDatabase()`, or null to keep records in memory only (bounded by `maxRecent`). */
  database: StoreDatabase | null;
  /** Running operations held in memory; `begin()` throws past it. Default 10000. */
  maxActive?: number;
  /** Finished records kept in memory after they are written (or, without a database, instead). Default 1000. */
  maxRecent?: number;
  /** Finished records waiting to be written; the oldest are dropped, and counted, past it. Default 10000. */
  maxPending?: number;
  /** Finished records written in one transaction once this many are waiting. Default 500. */
  batchSize?: number;
  /** The maximum time a finished record waits before it is written. Default 1 s. */
  flushIntervalMs?: number | string;
  /** Written records older than this are deleted. Default 7 days. */
  maxAgeMs?: number | string;
  /** At most this many records are kept on disk; the oldest go first. Default 100000. */
  maxRows?: number;
  /** Time between retention runs, which happen after a write. Default 60 s. */
  pruneIntervalMs?: number | string;
  /** Longer result summaries are cut to this many characters. Default 1000. */
  maxResultChars?: number;
  clock?: Clock;
  logger?: Logger;
}

export interface OperationStoreStats {
  /** True while finished records go to a database. */
  persistent: boolean;
  active: number;
  pending: number;
  recent: number;
  written: number;
  pruned: number;
  flushes: number;
  writeErrors: number;
  /** Finished records lost because `maxPending` were waiting, as when the disk fails for long. */
  droppedUnwritten: number;
}

export interface OperationQuery {
  status?: OperationStatus;
  kind?: string;
  /** Records finished at or after this epoch ms. */
  sinceMs?: number;
  /** Default 100, at most 10000. */
  limit?: number;
}

const DAY_MS = 86_400_000;
const KNOWN_OPTIONS = [
  'database',
  'maxActive',
  'maxRecent',
  'maxPending',
  'batchSize',
  'flushIntervalMs',
  'maxAgeMs',
  'maxRows',
  'pruneIntervalMs',
  'maxResultChars',
  'clock',
  'logger',
] as const;

interface Statements {
  insert: BetterSqlite3.Statement;
  byId: BetterSqlite3.Statement;
  deleteOlder: BetterSqlite3.Statement;
  count: BetterSqlite3.Statement;
  deleteOldest: BetterSqlite3.Statement;
  insertBatch: (records: readonly OperationRecord[]) => void;
}

/**
 * Records operations: running ones in memory, finished ones written to SQLite
 * in batches, one transaction per batch, and pruned by age and row count.
 * Every in-memory part is bounded: `maxActive`, `maxPending` and `maxRecent`.
 */
export class OperationStore {
  readonly #database: StoreDatabase | null;
  readonly #statements: Statements | null;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #limits: {
    maxActive: number;
    maxRecent: number;
    maxPending: number;
    batchSize: number;
    flushIntervalMs: number;
    maxAgeMs: number;
    maxRows: number;
    pruneIntervalMs: number;
    maxResultChars: number;
  };
  readonly #active = new Map<string, OperationRecord>();
  #pending: OperationRecord[] = [];
  /** Insertion order is finish order, so the first key is the oldest. */
  readonly #recent = new Map<string, OperationRecord>();
  #flushTimer: NodeJS.Timeout | null = null;
  #lastPruneMs: number | null = null;
  #closed = false;
  readonly #stats = { written: 0, pruned: 0, flushes: 0, writeErrors: 0, droppedUnwritten: 0 };

  constructor(options: OperationStoreOptions) {
    const given = objectOption('options', options);
    rejectUnknownOptions('options', given, KNOWN_OPTIONS);
    if (given.database === undefined || (given.database !== null && typeof given.database?.connection !== 'object')) {
      throw invalidOption('database', 'a database from openDatabase(), or null to keep records in memory only', given.database, 'type');
    }

    this.#database = given.database;
    this.#clock = clockOption(given.clock);
    this.#logger = loggerOption(given.logger);
    this.#limits = {
      maxActive: numberOption('maxActive', given.maxActive, 10_000, 1, 10_000_000, true),
      maxRecent: numberOption('maxRecent', given.maxRecent, 1000, 0, 10_000_000, true),
      maxPending: numberOption('maxPending', given.maxPending, 10_000, 1, 10_000_000, true),
      batchSize: numberOption('batchSize', given.batchSize, 500, 1, 100_000, true),
      flushIntervalMs: durationOption('flushIntervalMs', given.flushIntervalMs, 1000, 10, DAY_MS),
      maxAgeMs: durationOption('maxAgeMs', given.maxAgeMs, 7 * DAY_MS, 1000, 3650 * DAY_MS),
      maxRows: numberOption('maxRows', given.maxRows, 100_000, 1, 1_000_000_000, true),
      pruneIntervalMs: durationOption('pruneIntervalMs', given.pruneIntervalMs, 60_000, 0, DAY_MS),
      maxResultChars: numberOption('maxResultChars', given.maxResultChars, 1000, 0, 1_000_000, true),
    };
    this.#statements = this.#database ? prepare(this.#database.connection) : null;
  }

  /** Records the start of an operation and returns its record. Throws when `maxActive` operations are running or the id is in use. */
  begin(kind: string, id: string = randomUUID()): OperationRecord {
    this.#assertOpen();
    checkText('kind', kind, 200);
    checkText('id', id, 200);
    if (this.#active.has(id)) throw new RangeError(`Cannot begin operation ${JSON.stringify(id)}: an operation with this id is running`);
    if (this.#active.size >= this.#limits.maxActive) {
      throw new RangeError(`Cannot begin operation of kind ${JSON.stringify(kind)}: ${this.#active.size} operations are running, the maximum (maxActive). Finish some first.`);
    }

    const record: OperationRecord = { id, kind, status: 'running', startedAt: this.#clock.epochNow(), finishedAt: null, result: null };
    this.#active.set(id, record);
    return { ...record };
  }

  /** Ends a running operation and queues its record for writing. Throws when no operation with this id is running. */
  finish(id: string, status: FinishedOperationStatus, result: string | null = null): OperationRecord {
    this.#assertOpen();
    const record = this.#active.get(id);
    if (!record) throw new RangeError(`Cannot finish operation ${JSON.stringify(id)}: no operation with this id is running`);
    checkFinishedStatus('status', status);

    this.#active.delete(id);
    record.status = status;
    record.finishedAt = this.#clock.epochNow();
    record.result = this.#cut(result);
    this.#queue(record);
    return { ...record };
  }

  /** Queues a record that finished elsewhere, such as a job record from the workload governor. */
  add(record: OperationRecord): void {
    this.#assertOpen();
    const given = objectOption('record', record);
    checkText('record.id', given.id, 200);
    checkText('record.kind', given.kind, 200);
    checkFinishedStatus('record.status', given.status);
    const startedAt = numberOption('record.startedAt', given.startedAt, 0, 0, Number.MAX_SAFE_INTEGER);
    const finishedAt = numberOption('record.finishedAt', given.finishedAt, 0, startedAt, Number.MAX_SAFE_INTEGER);

    this.#queue({ id: given.id as string, kind: given.kind as string, status: given.status as OperationStatus, startedAt, finishedAt, result: this.#cut(given.result ?? null) });
  }

  /** Returns a copy of the record with this id from memory or the database, or undefined. */
  get(id: string): OperationRecord | undefined {
    const inMemory = this.#active.get(id) ?? this.#recent.get(id) ?? this.#pending.find((record) => record.id === id);
    if (inMemory) return { ...inMemory };
    if (!this.#statements || this.#closed) return undefined;

    const row = this.#statements.byId.get(id) as OperationRow | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** Returns running operations, oldest first. */
  active(): OperationRecord[] {
    return [...this.#active.values()].map((record) => ({ ...record }));
  }

  /**
   * Returns finished records, newest first. With a database it writes what is
   * pending and reads the file; without one it reads the records in memory.
   */
  list(query: OperationQuery = {}): OperationRecord[] {
    const given = objectOption('query', query);
    const limit = numberOption('query.limit', given.limit, 100, 1, 10_000, true);
    if (given.status !== undefined) checkStatus('query.status', given.status);
    if (given.kind !== undefined) checkText('query.kind', given.kind, 200);
    const sinceMs = numberOption('query.sinceMs', given.sinceMs, 0, 0, Number.MAX_SAFE_INTEGER);

    if (!this.#database || this.#closed) {
      const matches = [...this.#recent.values(), ...this.#pending].filter(
        (record) => (given.status === undefined || record.status === given.status) && (given.kind === undefined || record.kind === given.kind) && (record.finishedAt ?? 0) >= sinceMs,
      );
      return matches
        .sort((a, b) => (b.finishedAt ?? 0) - (a.finishedAt ?? 0))
        .slice(0, limit)
        .map((record) => ({ ...record }));
    }

    this.flush();
    const clauses = ['finished_at >= @sinceMs'];
    if (given.status !== undefined) clauses.push('status = @status');
    if (given.kind !== undefined) clauses.push('kind = @kind');

    // The clauses come from the fixed list above; values are bound as parameters.
    const sql = `SELECT * FROM operations WHERE ${clauses.join(' AND ')} ORDER BY finished_at DESC LIMIT @limit`;
    const rows = this.#database.connection.prepare(sql).all({ sinceMs, limit, status: given.status, kind: given.kind }) as OperationRow[];
    return rows.map(fromRow);
  }

  /**
   * Writes every pending record, in transactions of at most `batchSize`, and
   * returns how many were written. On a write error the batch stays pending,
   * the error is logged, and the next flush tries again.
   */
  flush(): number {
    this.#clearFlushTimer();
    if (!this.#statements || this.#closed || this.#pending.length === 0) return 0;

    let written = 0;
    while (this.#pending.length > 0) {
      const batch = this.#pending.slice(0, this.#limits.batchSize);
      try {
        this.#statements.insertBatch(batch);
      } catch (err) {
        this.#stats.writeErrors++;
        this.#logger.error(
          { err, code: sqliteCode(err), rows: batch.length, pending: this.#pending.length, writeErrors: this.#stats.writeErrors },
          'headroom: failed to write operation records; they stay pending and the next flush retries',
        );
        this.#armFlushTimer();
        break;
      }

      this.#pending.splice(0, batch.length);
      for (const record of batch) this.#remember(record);
      written += batch.length;
    }

    this.#stats.written += written;
    this.#stats.flushes++;
    this.#pruneIfDue();
    return written;
  }

  /** Deletes written records past `maxAgeMs` or past `maxRows`, oldest first, and returns how many it deleted. */
  prune(): number {
    if (!this.#statements || this.#closed) return 0;

    const nowMs = this.#clock.epochNow();
    this.#lastPruneMs = nowMs;
    try {
      let deleted = this.#statements.deleteOlder.run(nowMs - this.#limits.maxAgeMs).changes;
      const rows = (this.#statements.count.get() as { rows: number }).rows;
      if (rows > this.#limits.maxRows) deleted += this.#statements.deleteOldest.run(rows - this.#limits.maxRows).changes;

      this.#stats.pruned += deleted;
      return deleted;
    } catch (err) {
      this.#stats.writeErrors++;
      this.#logger.error({ err, code: sqliteCode(err) }, 'headroom: failed to prune operation records');
      return 0;
    }
  }

  /**
   * Frees memory under pressure: writes what is pending, then drops recent
   * records, half at moderate and all at high and critical. Without a database
   * the dropped records are gone. Running operations are never dropped.
   */
  trim(level: PressureLevel): TrimResult {
    pressureLevelArgument('level', level);
    if (level === 'normal') return { items: 0, bytes: null };

    this.flush();
    const count = itemsToTrim(level, this.#recent.size);
    let dropped = 0;
    for (const id of this.#recent.keys()) {
      if (dropped >= count) break;
      this.#recent.delete(id);
      dropped++;
    }
    return { items: dropped, bytes: null };
  }

  stats(): OperationStoreStats {
    return {
      persistent: this.#statements !== null && !this.#closed,
      active: this.#active.size,
      pending: this.#pending.length,
      recent: this.#recent.size,
      ...this.#stats,
    };
  }

  /** Writes what is pending and clears the flush timer. The database stays open: its owner closes it. */
  close(): void {
    if (this.#closed) return;

    this.flush();
    this.#clearFlushTimer();
    this.#closed = true;
  }

  #queue(record: OperationRecord): void {
    if (!this.#statements) {
      this.#remember(record);
      return;
    }

    this.#pending.push(record);
    if (this.#pending.length > this.#limits.maxPending) {
      const dropped = this.#pending.length - this.#limits.maxPending;
      this.#pending.splice(0, dropped);
      this.#stats.droppedUnwritten += dropped;
    }

    if (this.#pending.length >= this.#limits.batchSize) this.flush();
    else this.#armFlushTimer();
  }

  #remember(record: OperationRecord): void {
    this.#recent.delete(record.id);
    this.#recent.set(record.id, record);
    if (this.#recent.size <= this.#limits.maxRecent) return;

    const oldest = this.#recent.keys().next();
    if (!oldest.done) this.#recent.delete(oldest.value);
  }

  #pruneIfDue(): void {
    const nowMs = this.#clock.epochNow();
    if (this.#lastPruneMs !== null && nowMs - this.#lastPruneMs < this.#limits.pruneIntervalMs) return;
    this.prune();
  }

  #armFlushTimer(): void {
    if (this.#flushTimer || this.#closed) return;

    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = null;
      this.flush();
    }, this.#limits.flushIntervalMs);
    this.#flushTimer.unref();
  }

  #clearFlushTimer(): void {
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
  }

  #cut(result: unknown): string | null {
    if (result === null) return null;
    if (typeof result !== 'string') throw invalidOption('result', 'a string or null', result, 'type');
    return result.length > this.#limits.maxResultChars ? result.slice(0, this.#limits.maxResultChars) : result;
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('The operation store is closed; create a new one to record operations');
  }
}

interface OperationRow {
  id: string;
  kind: string;
  status: string;
  started_at: number;
  finished_at: number;
  result: string | null;
}

function prepare(connection: BetterSqlite3.Database): Statements {
  const insert = connection.prepare(
    'INSERT OR REPLACE INTO operations (id, kind, status, started_at, finished_at, result) VALUES (@id, @kind, @status, @startedAt, @finishedAt, @result)',
  );
  return {
    insert,
    byId: connection.prepare('SELECT * FROM operations WHERE id = ?'),
    deleteOlder: connection.prepare('DELETE FROM operations WHERE finished_at < ?'),
    count: connection.prepare('SELECT count(*) AS rows FROM operations'),
    deleteOldest: connection.prepare('DELETE FROM operations WHERE id IN (SELECT id FROM operations ORDER BY finished_at ASC LIMIT ?)'),
    // One transaction per batch: every row of a batch is on disk after the commit, or none is.
    insertBatch: connection.transaction((records: readonly OperationRecord[]) => {
      for (const record of records) insert.run(record);
    }),
  };
}

function fromRow(row: OperationRow): OperationRecord {
  return { id: row.id, kind: row.kind, status: row.status as OperationStatus, startedAt: row.started_at, finishedAt: row.finished_at, result: row.result };
}

function checkText(name: string, value: unknown, maxLength: number): void {
  const rule = `a non-empty string of at most ${maxLength} characters`;
  if (typeof value !== 'string') throw invalidOption(name, rule, value, 'type');
  if (value.length === 0 || value.length > maxLength) throw invalidOption(name, rule, value);
}

function checkStatus(name: string, value: unknown): void {
  if (typeof value === 'string' && (OPERATION_STATUSES as readonly string[]).includes(value)) return;
  throw invalidOption(name, `one of ${OPERATION_STATUSES.map((status) => `"${status}"`).join(', ')}`, value, typeof value === 'string' ? 'range' : 'type');
}

function checkFinishedStatus(name: string, value: unknown): void {
  if (value === 'done' || value === 'failed' || value === 'cancelled') return;
  throw invalidOption(name, 'one of "done", "failed", "cancelled"', value, typeof value === 'string' ? 'range' : 'type');
}

/** Creates an operation store. Throws on an invalid option. */
export function createOperationStore(options: OperationStoreOptions): OperationStore {
  return new OperationStore(options);
}
