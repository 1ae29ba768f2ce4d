import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import { emptyGcReading, type GcKindTotals, type GcReading } from './sample.js';

type GcKindName = keyof GcReading['byKind'];

function kindName(kind: number | undefined): GcKindName {
  switch (kind) {
    case constants.NODE_PERFORMANCE_GC_MAJOR:
      return 'major';
    case constants.NODE_PERFORMANCE_GC_INCREMENTAL:
      return 'incremental';
    case constants.NODE_PERFORMANCE_GC_WEAKCB:
      return 'weakCallbacks';
    default:
      return 'minor';
  }
}

/**
 * Adds up garbage collections reported by a `gc` PerformanceObserver between two drains.
 *
 * Node delivers `gc` entries a little after each collection, so a collection
 * that ends just before a sample may be counted in the next one.
 */
export class GcObserver {
  #observer: PerformanceObserver | null = null;
  #totals: GcReading = emptyGcReading();
  readonly #onMajor: ((pauseMs: number) => void) | undefined;

  /** `onMajor` runs after each full collection is reported, for callers that track the heap after it. */
  constructor(onMajor?: (pauseMs: number) => void) {
    this.#onMajor = onMajor;
  }

  start(): void {
    if (this.#observer) return;

    this.#observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) this.#record(entry);
    });
    this.#observer.observe({ entryTypes: ['gc'] });
  }

  stop(): void {
    this.#observer?.disconnect();
    this.#observer = null;
  }

  /** Returns the collections since the previous drain and starts a new count. */
  drain(): GcReading {
    const totals = this.#totals;
    this.#totals = emptyGcReading();
    return totals;
  }

  #record(entry: PerformanceEntry): void {
    const detail = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail;
    const name = kindName(detail?.kind);
    const totals: GcKindTotals = this.#totals.byKind[name];

    totals.count++;
    totals.pauseMs += entry.duration;
    this.#totals.count++;
    this.#totals.pauseMs += entry.duration;

    if (name === 'major') this.#onMajor?.(entry.duration);
  }
}
