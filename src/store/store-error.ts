/** Stable codes of the errors the store raises. */
export type StoreErrorCode =
  /** better-sqlite3, an optional peer dependency, is not installed. */
  | 'HEADROOM_STORE_DRIVER_MISSING'
  /** The file or its directory cannot be created or opened. */
  | 'HEADROOM_STORE_OPEN_FAILED'
  /** Another connection holds a lock longer than `busyTimeoutMs`. */
  | 'HEADROOM_STORE_LOCKED'
  /** The file is not a SQLite database, or its pages are damaged. */
  | 'HEADROOM_STORE_CORRUPT'
  /** The file was written by a newer headroom, with a schema this version does not know. */
  | 'HEADROOM_STORE_SCHEMA_TOO_NEW';

/** An error opening the store. `cause` contains the driver's error, with its SQLite code. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;
  readonly path: string;

  constructor(code: StoreErrorCode, path: string, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.path = path;
  }
}

/** Returns the SQLite result code of a driver error, such as `SQLITE_BUSY`, or null. */
export function sqliteCode(error: unknown): string | null {
  if (typeof error !== 'object' || error === null) return null;

  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : null;
}
