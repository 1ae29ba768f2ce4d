import type { Budget, PressureLevel } from '../analysis/levels.js';
import type { WorkerHeapTotals } from './worker-heaps.js';

/** One V8 heap space, as `v8.getHeapSpaceStatistics()` reports it. */
export interface HeapSpaceReading {
  name: string;
  sizeBytes: number;
  usedBytes: number;
  availableBytes: number;
}

/** Collections of one kind during an interval. */
export interface GcKindTotals {
  count: number;
  pauseMs: number;
}

/** Garbage collections observed between two samples. */
export interface GcReading {
  count: number;
  pauseMs: number;
  byKind: {
    minor: GcKindTotals;
    major: GcKindTotals;
    incremental: GcKindTotals;
    weakCallbacks: GcKindTotals;
  };
}

/** Event-loop figures over one interval, not since start-up. */
export interface EventLoopReading {
  delayP50Ms: number;
  delayP99Ms: number;
  /** Share of the interval the loop was busy, from 0 to 1. */
  utilization: number;
}

/** One reading of the process, taken once per interval. */
export interface Sample {
  /** Milliseconds since the epoch. */
  time: number;
  /** Milliseconds since the previous sample, or since start for the first one. */
  intervalMs: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  /** V8's `heap_size_limit`, young generation included. */
  heapLimitBytes: number;
  /**
   * The heap budget: 80 % of the old generation's maximum (`heapLimitBytes` minus
   * the young generation), past which V8 can abort when collections free little.
   */
  heapBudgetBytes: number;
  externalBytes: number;
  /** Refreshed every `arrayBuffersEverySamples` samples, because its only source also reads RSS. */
  arrayBuffersBytes: number;
  rssBytes: number;
  /** The effective process limit (smallest of cgroup, constrained memory, configured), or null for none. */
  limitBytes: number | null;
  /** The live set over `heapBudgetBytes`: the heap budget is judged on what survives collection. */
  heapUsageRatio: number;
  /** RSS over `limitBytes`, or null without a process limit. */
  processUsageRatio: number | null;
  /** Estimated heap that survives a full collection: heap used after the last major GC, or the recent trough. */
  liveBytes: number;
  /** Time until the first budget runs out at the current leak rate, or null without a leak. */
  timeToLimitMs: number | null;
  /** Heaps of worker threads whose own managers reported recently; zeros elsewhere. */
  workers: WorkerHeapTotals;
  level: PressureLevel;
  /** The budget whose usage set `level`. */
  budget: Budget;
  spaces: HeapSpaceReading[];
  gc: GcReading;
  eventLoop: EventLoopReading;
}

/** Returns empty GC totals. */
export function emptyGcReading(): GcReading {
  return {
    count: 0,
    pauseMs: 0,
    byKind: {
      minor: { count: 0, pauseMs: 0 },
      major: { count: 0, pauseMs: 0 },
      incremental: { count: 0, pauseMs: 0 },
      weakCallbacks: { count: 0, pauseMs: 0 },
    },
  };
}
