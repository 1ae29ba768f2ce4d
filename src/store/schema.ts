import type BetterSqlite3 from 'better-sqlite3';

/** The schema this version writes, kept in `PRAGMA user_version`. */
export const SCHEMA_VERSION = 1;

/**
 * Times are epoch milliseconds. Levels are stored as their rank, 0 (normal)
 * to 3 (critical). Every statement is idempotent, so opening an existing file
 * of the same version changes nothing.
 */
const SCHEMA_V1 = `
CREATE TABLE IF NOT EXISTS operations (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  result TEXT
);
CREATE INDEX IF NOT EXISTS operations_finished_at ON operations (finished_at);

CREATE TABLE IF NOT EXISTS samples (
  time INTEGER NOT NULL,
  interval_ms REAL NOT NULL,
  level INTEGER NOT NULL,
  usage_ratio REAL NOT NULL,
  heap_used_bytes INTEGER NOT NULL,
  rss_bytes INTEGER NOT NULL,
  external_bytes INTEGER NOT NULL,
  gc_count INTEGER NOT NULL,
  gc_pause_ms REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS samples_time ON samples (time);

CREATE TABLE IF NOT EXISTS sample_rollups (
  bucket_start INTEGER PRIMARY KEY,
  bucket_ms INTEGER NOT NULL,
  samples INTEGER NOT NULL,
  usage_min REAL NOT NULL,
  usage_sum REAL NOT NULL,
  usage_max REAL NOT NULL,
  usage_histogram TEXT NOT NULL,
  heap_min INTEGER NOT NULL,
  heap_sum REAL NOT NULL,
  heap_max INTEGER NOT NULL,
  rss_min INTEGER NOT NULL,
  rss_sum REAL NOT NULL,
  rss_max INTEGER NOT NULL,
  gc_count INTEGER NOT NULL,
  gc_pause_ms REAL NOT NULL,
  normal_ms REAL NOT NULL,
  moderate_ms REAL NOT NULL,
  high_ms REAL NOT NULL,
  critical_ms REAL NOT NULL
);

CREATE TABLE IF NOT EXISTS events (
  time INTEGER NOT NULL,
  type TEXT NOT NULL,
  name TEXT,
  data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_time ON events (time);
`;

/**
 * Creates the tables of a new file and returns the schema version found.
 * Returns a higher number than SCHEMA_VERSION, without touching the file, when a
 * newer headroom wrote it. The write transaction runs on every open, so a file
 * locked by another writer fails here rather than at the first flush.
 */
export function applySchema(connection: BetterSqlite3.Database): number {
  const found = connection.pragma('user_version', { simple: true }) as number;
  if (found > SCHEMA_VERSION) return found;

  connection.transaction(() => {
    connection.exec(SCHEMA_V1);
    connection.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
  return SCHEMA_VERSION;
}
