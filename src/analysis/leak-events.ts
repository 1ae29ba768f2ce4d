import type { Budget } from './levels.js';

/**
 * Kind of growth:
 * - `heap`: the live set, the heap that survives collection;
 * - `external`: V8's external memory, such as Buffers and other ArrayBuffer backing stores;
 * - `native`: RSS minus heap total minus external, such as addons, allocator arenas and thread stacks;
 * - `resources`: the count of one type of active handle or request from `process.getActiveResourcesInfo()`.
 */
export type LeakKind = 'heap' | 'external' | 'native' | 'resources';

/** The kinds measured in bytes. */
export type MemoryLeakKind = Exclude<LeakKind, 'resources'>;

export const MEMORY_LEAK_KINDS: readonly MemoryLeakKind[] = ['heap', 'external', 'native'];

/** The window that showed the growth. Levels are slice medians, so single spikes do not move them. */
interface LeakEvidenceBase {
  /** Milliseconds from the first to the last point of the window. */
  windowMs: number;
  samples: number;
  subWindows: number;
  /** Slices whose median rose above the previous slice's. */
  risingSubWindows: number;
  /** The slope over its estimated standard error; Infinity for a rise without noise. */
  slopeStandardErrors: number;
}

export interface MemoryLeakEvidence extends LeakEvidenceBase {
  /** Median of the first slice of the window. */
  firstBytes: number;
  /** Median of the last slice of the window. */
  lastBytes: number;
  /** The rise the window had to exceed: the larger of `minRiseBytes` and `minRiseRatio` of the budget. */
  minRiseBytes: number;
  /**
   * True when the leak was reported on a span shorter than `minSpanMs`, because
   * at its rate the budget would run out before a full span could be seen.
   */
  urgent: boolean;
}

export interface ResourceLeakEvidence extends LeakEvidenceBase {
  firstCount: number;
  lastCount: number;
  minRiseCount: number;
}

/** Emitted once when a memory kind starts to grow steadily; `leak-cleared` follows when it stops. */
export interface MemoryLeakEvent {
  type: 'leak';
  /** Milliseconds since the epoch. */
  time: number;
  kind: MemoryLeakKind;
  /** Theil-Sen slope over the window. */
  rateBytesPerSecond: number;
  /** Epoch milliseconds of the first point of the window: the growth began at this time or earlier. */
  since: number;
  /** Time until the first budget runs out at current rates, or null when no budget applies. */
  timeToLimitMs: number | null;
  /** The budget behind `timeToLimitMs`. */
  budget: Budget | null;
  evidence: MemoryLeakEvidence;
}

/** Emitted once when the count of one resource type starts to grow steadily. */
export interface ResourceLeakEvent {
  type: 'leak';
  time: number;
  kind: 'resources';
  /** The type as `process.getActiveResourcesInfo()` names it, such as `Timeout` or `TCPSocketWrap`. */
  resourceType: string;
  ratePerSecond: number;
  since: number;
  /** Always null: resource counts have no byte budget of their own. */
  timeToLimitMs: null;
  evidence: ResourceLeakEvidence;
}

export type LeakEvent = MemoryLeakEvent | ResourceLeakEvent;

/** Emitted when a reported growth stops or its memory is freed. */
export interface LeakClearedEvent {
  type: 'leak-cleared';
  time: number;
  kind: LeakKind;
  /** The resource type for `resources`, null for the memory kinds. */
  resourceType: string | null;
  /**
   * `growth-stopped`: the slope fell below `clearRateRatio` of the minimum rate.
   * `freed`: the level fell back to where the growth began.
   */
  reason: 'growth-stopped' | 'freed';
  /** The `time` of the leak event this clears. */
  detectedAt: number;
  durationMs: number;
}
