import { QDT_STATUSES, type QdtMetrics, type QdtStatus } from './metrics.js';

/** Minimum, mean and maximum of one metric over a window, or nulls without samples. */
export interface QdtRange {
  min: number | null;
  mean: number | null;
  max: number | null;
}

export interface QdtHistorySummary {
  windowMs: number;
  samples: number;
  /** Samples at each status within the window. */
  statusCounts: Record<QdtStatus, number>;
  filament: QdtRange;
  coherence: QdtRange;
  heapMB: QdtRange;
}

/** A ring of the latest QDT metrics, bounded by `capacity` (about 120 bytes each). */
export class QdtHistory {
  readonly capacity: number;
  readonly #entries: QdtMetrics[] = [];
  /** The index the next entry is written to once the ring is full. */
  #next = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get size(): number {
    return this.#entries.length;
  }

  record(metrics: QdtMetrics): void {
    if (this.#entries.length < this.capacity) {
      this.#entries.push(metrics);
      return;
    }

    this.#entries[this.#next] = metrics;
    this.#next = (this.#next + 1) % this.capacity;
  }

  /** Summarizes the entries whose `time` is within `windowMs` of `nowEpochMs`. */
  summarize(windowMs: number, nowEpochMs: number): QdtHistorySummary {
    const fromMs = nowEpochMs - windowMs;
    const inWindow = this.#entries.filter((entry) => entry.time >= fromMs);
    const statusCounts = Object.fromEntries(QDT_STATUSES.map((status) => [status, 0])) as Record<QdtStatus, number>;
    for (const entry of inWindow) statusCounts[entry.status]++;

    return {
      windowMs,
      samples: inWindow.length,
      statusCounts,
      filament: range(inWindow.map((entry) => entry.filament)),
      coherence: range(inWindow.map((entry) => entry.coherence)),
      heapMB: range(inWindow.map((entry) => entry.heapMB)),
    };
  }
}

function range(values: number[]): QdtRange {
  if (values.length === 0) return { min: null, mean: null, max: null };

  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (const value of values) {
    min = Math.min(min, value);
    max = Math.max(max, value);
    sum += value;
  }
  return { min, mean: sum / values.length, max };
}
