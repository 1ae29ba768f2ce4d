/**
 * `headroom/store`: the embedded SQLite store. It needs the optional peer
 * dependency better-sqlite3 12.x, loaded only when a database is opened.
 */
export { DEFAULT_DATABASE_PATH, openDatabase, openDatabaseOrNull, type OpenDatabaseOptions, type StoreDatabase } from './open.js';
export { StoreError, type StoreErrorCode } from './store-error.js';
export {
  createOperationStore,
  OperationStore,
  OPERATION_STATUSES,
  type OperationQuery,
  type OperationRecord,
  type OperationStatus,
  type OperationStoreOptions,
  type OperationStoreStats,
} from './operation-store.js';
export { createHistoryStore, HistoryStore, type HistoryStoreOptions, type HistoryStoreStats } from './history-store.js';
export type { HistorySummary } from './history-query.js';
export { attachHistory } from './attach-history.js';
