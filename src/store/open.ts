import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { booleanOption, loggerOption, objectOption, rejectUnknownOptions } from '../responses/response-options.js';
import type { Logger } from '../util/logger.js';
import { invalidOption, numberOption } from '../util/validate.js';
import { applySchema, SCHEMA_VERSION } from './schema.js';
import { sqliteCode, StoreError } from './store-error.js';

/** The default file, relative to the working directory. */
export const DEFAULT_DATABASE_PATH = '.headroom/headroom.db';

export interface OpenDatabaseOptions {
  /** A file path, or `':memory:'` for a database that lives as long as the connection. Default `.headroom/headroom.db`. */
  path?: string;
  /**
   * How long a write waits for another connection's lock before it fails.
   * better-sqlite3 is synchronous, so the wait blocks the event loop. Default 250 ms.
   */
  busyTimeoutMs?: number;
  /**
   * `false` (default): SQLite's `synchronous = NORMAL` in WAL mode. A commit
   * survives the process being killed, but the last commits can be lost if the
   * machine loses power. `true`: `synchronous = FULL`, which also survives
   * power loss and costs an fsync per commit.
   */
  fsyncEachCommit?: boolean;
  /** Creates the parent directory when it is missing. Default true. */
  createDirectory?: boolean;
}

/** An open SQLite connection with headroom's schema, shared by the operation and history stores. */
export interface StoreDatabase {
  /** The path as given, or `':memory:'`. */
  readonly path: string;
  readonly connection: BetterSqlite3.Database;
  readonly open: boolean;
  close(): void;
}

type DatabaseConstructor = new (path: string, options?: BetterSqlite3.Options) => BetterSqlite3.Database;

const KNOWN_OPTIONS = ['path', 'busyTimeoutMs', 'fsyncEachCommit', 'createDirectory'] as const;

let driver: DatabaseConstructor | null = null;

/**
 * Loads better-sqlite3 on first use. It is an optional peer dependency, so the
 * rest of headroom never loads it, and a missing install is reported here.
 */
function loadDriver(path: string): DatabaseConstructor {
  if (driver) return driver;

  try {
    driver = createRequire(import.meta.url)('better-sqlite3') as DatabaseConstructor;
    return driver;
  } catch (err) {
    throw new StoreError(
      'HEADROOM_STORE_DRIVER_MISSING',
      path,
      `Cannot open the headroom store at ${path}: better-sqlite3 is not installed. Install it with \`npm install better-sqlite3\`, or run without persistence.`,
      err,
    );
  }
}

/**
 * Opens (or creates) the store file in WAL mode and creates its tables.
 * Throws a `StoreError` whose code names the failure: a path that cannot be
 * opened, a locked file, a file that is not a SQLite database or is damaged,
 * or a schema from a newer version.
 */
export function openDatabase(options: OpenDatabaseOptions = {}): StoreDatabase {
  const given = objectOption('options', options);
  rejectUnknownOptions('options', given, KNOWN_OPTIONS);

  const path = resolvePath(given.path);
  const busyTimeoutMs = numberOption('busyTimeoutMs', given.busyTimeoutMs, 250, 0, 60_000, true);
  const fsyncEachCommit = booleanOption('fsyncEachCommit', given.fsyncEachCommit, false);
  const createDirectory = booleanOption('createDirectory', given.createDirectory, true);
  const Database = loadDriver(path);

  if (path !== ':memory:' && createDirectory) makeParentDirectory(path);

  let connection: BetterSqlite3.Database | null = null;
  try {
    connection = new Database(path, { timeout: busyTimeoutMs });
    // The first statements read the file header, so a file that is not a database fails here.
    connection.pragma('journal_mode = WAL');
    connection.pragma(`synchronous = ${fsyncEachCommit ? 'FULL' : 'NORMAL'}`);

    const version = applySchema(connection);
    if (version > SCHEMA_VERSION) {
      throw new StoreError(
        'HEADROOM_STORE_SCHEMA_TOO_NEW',
        path,
        `Cannot open the headroom store at ${path}: its schema version is ${version}, and this headroom knows versions up to ${SCHEMA_VERSION}. Upgrade headroom or use another file.`,
      );
    }
  } catch (err) {
    connection?.close();
    throw err instanceof StoreError ? err : classifyOpenError(path, err, busyTimeoutMs);
  }

  return wrap(path, connection);
}

/**
 * Opens the store, or logs why it cannot and returns null, so the caller goes
 * on without persistence. Invalid options still throw, because they are a
 * programming error rather than a state of the disk.
 */
export function openDatabaseOrNull(options: OpenDatabaseOptions & { logger?: Logger } = {}): StoreDatabase | null {
  const { logger: givenLogger, ...openOptions } = objectOption('options', options);
  const logger = loggerOption(givenLogger);

  try {
    return openDatabase(openOptions);
  } catch (err) {
    if (!(err instanceof StoreError)) throw err;

    logger.error({ err, code: err.code, path: err.path }, `headroom: ${err.message} Continuing without persistence.`);
    return null;
  }
}

function resolvePath(value: unknown): string {
  if (value === undefined) return DEFAULT_DATABASE_PATH;
  if (typeof value !== 'string' || value.length === 0) {
    throw invalidOption('path', 'a non-empty file path, or ":memory:"', value, typeof value === 'string' ? 'range' : 'type');
  }
  return value;
}

function makeParentDirectory(path: string): void {
  try {
    mkdirSync(dirname(resolve(path)), { recursive: true });
  } catch (err) {
    throw new StoreError(
      'HEADROOM_STORE_OPEN_FAILED',
      path,
      `Cannot open the headroom store at ${path}: its directory cannot be created (${(err as Error).message}). Choose a writable path.`,
      err,
    );
  }
}

/** Turns a driver error during open into a StoreError whose message names the fix. */
function classifyOpenError(path: string, err: unknown, busyTimeoutMs: number): StoreError {
  const code = sqliteCode(err);
  const detail = err instanceof Error ? err.message : String(err);

  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new StoreError(
      'HEADROOM_STORE_LOCKED',
      path,
      `Cannot open the headroom store at ${path}: another connection held a lock for more than ${busyTimeoutMs} ms (${code}). Close the other writer or use another file.`,
      err,
    );
  }
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new StoreError(
      'HEADROOM_STORE_CORRUPT',
      path,
      `Cannot open the headroom store at ${path}: the file is not a SQLite database or is damaged (${code}: ${detail}). Move it aside to start a new history.`,
      err,
    );
  }
  return new StoreError('HEADROOM_STORE_OPEN_FAILED', path, `Cannot open the headroom store at ${path}: ${detail}${code ? ` (${code})` : ''}. Choose a readable, writable path.`, err);
}

function wrap(path: string, connection: BetterSqlite3.Database): StoreDatabase {
  return {
    path,
    connection,
    get open() {
      return connection.open;
    },
    close() {
      if (connection.open) connection.close();
    },
  };
}
