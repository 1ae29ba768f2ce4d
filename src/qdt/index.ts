/**
 * `headroom/qdt`: the "QDT-Enhanced Memory Management" design under its own
 * names, mapped onto headroom's mechanisms. docs/qdt.md states what each name
 * is in standard terms and what each of the design's promises measures to.
 */
export { ETA, GAMMA, LAMBDA, PHI, QDT_INTERVAL_MS, QDT_SHEDDING_RAMP, QDT_THRESHOLDS } from './constants.js';
export { computeQdtMetrics, qdtStatus, QDT_STATUSES, type QdtMetrics, type QdtStatus } from './metrics.js';
export {
  createQDTMemoryManager,
  QDTMemoryManager,
  type QDTMemoryManagerEvents,
  type QDTMemoryManagerOptions,
  type QdtOperation,
  type QdtOperationStats,
  type QdtOptimizationEvent,
  type QdtPool,
} from './manager.js';
export { QdtHistory, type QdtHistorySummary, type QdtRange } from './history.js';
export {
  createQDTEnhancedStorage,
  createQDTMemoryPool,
  QDTEnhancedStorage,
  QDTMemoryPool,
  type QDTEnhancedStorageOptions,
  type QDTEnhancedStorageStats,
  type QDTMemoryPoolOptions,
} from './storage.js';
export { renderQdtDashboard, startQdtDashboard, type QdtDashboardOptions } from './dashboard.js';
export { QDT_PREFIX, QdtRoutes, type QdtRoutesOptions } from './routes.js';
export { qdtMiddleware, type QdtInstallation, type QdtMiddlewareOptions } from './middleware.js';
