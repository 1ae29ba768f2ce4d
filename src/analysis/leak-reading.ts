import type { Sample } from '../sampling/sample.js';

/** The fields of a sample the detector reads, plus the live set, the monotonic time and optional resource counts. */
export interface LeakReading extends Pick<Sample, 'time' | 'heapTotalBytes' | 'heapBudgetBytes' | 'externalBytes' | 'rssBytes' | 'limitBytes'> {
  /** Monotonic milliseconds, as `performance.now()` returns them; windows are measured on this clock. */
  monotonicMs: number;
  /** The live-set estimate for this sample, from `LiveSetEstimator`. */
  liveBytes: number;
  /**
   * Milliseconds since the reading `liveBytes` comes from (`LiveSetEstimate.ageMs`).
   * The heap forecast adds the growth since then. Default 0.
   */
  liveAgeMs?: number;
  /**
   * The live set at which the heap is expected to fail, the target of the heap
   * forecast; `expectedHeapFailureBytes(heapBudgetBytes)` in the manager.
   * Default `heapBudgetBytes`.
   */
  heapFailureBytes?: number;
  /** Major GCs in the interval that ends at this reading: `sample.gc.byKind.major.count`. */
  majorGcCount: number;
  /** Active resources by type, as `countResources(process.getActiveResourcesInfo())` returns them. Omit to skip. */
  resources?: Readonly<Record<string, number>>;
}

/** Throws a RangeError naming the first field that is not a valid reading. */
export function checkReading(reading: LeakReading): void {
  const fields = ['time', 'monotonicMs', 'liveBytes', 'majorGcCount', 'heapTotalBytes', 'heapBudgetBytes', 'externalBytes', 'rssBytes'] as const;
  for (const field of fields) {
    const value = reading[field];
    if (!Number.isFinite(value)) throw new RangeError(`Invalid reading.${field}: expected a finite number, got ${String(value)} (${typeof value})`);
  }

  const liveAgeMs = reading.liveAgeMs ?? 0;
  if (!(Number.isFinite(liveAgeMs) && liveAgeMs >= 0)) {
    throw new RangeError(`Invalid reading.liveAgeMs: expected a finite number of at least 0, got ${String(liveAgeMs)} (${typeof liveAgeMs})`);
  }

  const heapFailureBytes = reading.heapFailureBytes ?? reading.heapBudgetBytes;
  if (!Number.isFinite(heapFailureBytes)) {
    throw new RangeError(`Invalid reading.heapFailureBytes: expected a finite number, got ${String(heapFailureBytes)} (${typeof heapFailureBytes})`);
  }

  const limitBytes = reading.limitBytes;
  if (limitBytes !== null && !(Number.isFinite(limitBytes) && limitBytes > 0)) {
    throw new RangeError(`Invalid reading.limitBytes: expected a positive number or null, got ${String(limitBytes)} (${typeof limitBytes})`);
  }

  for (const [resourceType, count] of Object.entries(reading.resources ?? {})) {
    if (!(Number.isFinite(count) && count >= 0)) {
      throw new RangeError(`Invalid reading.resources.${resourceType}: expected a finite count of at least 0, got ${String(count)} (${typeof count})`);
    }
  }
}
