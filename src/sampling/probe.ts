import type { EventLoopReading, GcReading, HeapSpaceReading } from './sample.js';

/** Heap figures from `v8.getHeapStatistics()`, renamed with units. */
export interface HeapReading {
  usedBytes: number;
  totalBytes: number;
  limitBytes: number;
  externalBytes: number;
  /**
   * Space V8 keeps for the young generation inside `limitBytes`. Long-lived
   * objects live in the rest, so the heap budget is taken from `limitBytes`
   * minus this. Omitted means 0.
   */
  youngGenerationBytes?: number;
}

/** Process limits as the platform reports them, null where absent or unlimited. */
export interface PlatformLimits {
  cgroupV2Bytes: number | null;
  cgroupV1Bytes: number | null;
  constrainedMemoryBytes: number | null;
}

/**
 * Every reading the sampler takes goes through a probe, so tests can script
 * exact readings. `gcSinceLast` and `eventLoopSinceLast` cover the time since
 * their previous call.
 */
export interface Probe {
  start(): void;
  stop(): void;
  heap(): HeapReading;
  heapSpaces(): HeapSpaceReading[];
  rssBytes(): number;
  /** Expensive on Linux (it re-reads RSS from /proc), so the sampler calls it less often. */
  arrayBuffersBytes(): number;
  gcSinceLast(): GcReading;
  eventLoopSinceLast(): EventLoopReading;
  /** Called at start and on a slow timer: `constrainedMemory()` alone costs about 20 µs. */
  limits(): PlatformLimits;
  /** Active handles and requests by type, from `process.getActiveResourcesInfo()`. Optional. */
  resources?(): Record<string, number>;
  /** Registers a callback for heap used right after each major GC. Optional. */
  onMajorGc?(listener: (heapUsedBytes: number) => void): void;
}
