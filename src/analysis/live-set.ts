import { durationOption, invalidOption, numberOption } from '../util/validate.js';

export interface LiveSetEstimatorOptions {
  /** How long a post-GC reading or a trough stays the estimate: milliseconds or a string such as "30s". Default 30 s. */
  troughWindowMs?: number | string;
  /** Maximum number of heap readings kept for the trough. Default 64. */
  maxReadings?: number;
}

/** The fields of a sample that the estimator reads, plus the monotonic time of the reading. */
export interface LiveSetReading {
  /** Monotonic milliseconds, as `performance.now()` returns them. */
  monotonicMs: number;
  heapUsedBytes: number;
  gc: { byKind: { major: { count: number } } };
}

/** Source of an estimate: a reading right after a major GC, or the trough of recent readings. */
export type LiveSetSource = 'major-gc' | 'trough';

export interface LiveSetEstimate {
  /** Estimated bytes of heap that survive a full collection. */
  liveBytes: number;
  source: LiveSetSource;
  /** Milliseconds between the reading the estimate comes from and this update. */
  ageMs: number;
}

/**
 * 30 s: a post-GC value then lasts until the next major GC when those come up
 * to 30 s apart, and the minimum of 30 one-second readings sits near the bottom
 * of the young-generation sawtooth. With 10 s, the trough of a noisy flat heap
 * moved enough to be reported as a leak in the tests.
 */
export const DEFAULT_TROUGH_WINDOW_MS = 30_000;
export const DEFAULT_MAX_LIVE_SET_READINGS = 64;

const HOUR_MS = 3_600_000;
const KNOWN_OPTIONS = new Set(['troughWindowMs', 'maxReadings']);

interface HeapPoint {
  timeMs: number;
  bytes: number;
  source: LiveSetSource;
}

/**
 * Estimates the live set: the heap that survives garbage collection.
 *
 * Method: heap used right after a major (mark-compact) GC is the live set at
 * that moment. A GC observer can pass that value to `recordAfterMajorGc`.
 * Without it, a sample whose interval contains a major GC supplies its own heap
 * used, which is an upper bound because allocation goes on after the GC. The
 * post-GC value replaces every older reading. Between major GCs the estimate
 * is the minimum (trough) of heap used since then, over the last
 * `troughWindowMs`, because young-generation garbage raises heap used between
 * scavenges but not the trough. So the estimate is the most recent post-GC or
 * trough value, and it is never above the current heap used.
 *
 * NOTE: with no major GC for longer than `troughWindowMs`, the trough also
 * includes old-generation garbage that only a major GC frees, so the estimate
 * can creep up until the next one.
 *
 * Bounded: at most `maxReadings` readings; readings that arrive faster than
 * `troughWindowMs / maxReadings` are merged by keeping the lower one.
 */
export class LiveSetEstimator {
  readonly #troughWindowMs: number;
  readonly #maxReadings: number;
  readonly #mergeWithinMs: number;
  /** Oldest first. After a major GC its reading is the first entry. */
  #points: HeapPoint[] = [];
  /** The latest value given to `recordAfterMajorGc` since the previous update. */
  #pendingAfterGc: { bytes: number; timeMs: number } | null = null;
  #latest: LiveSetEstimate | null = null;

  constructor(options: LiveSetEstimatorOptions = {}) {
    if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options, 'type');
    for (const key of Object.keys(options)) {
      if (!KNOWN_OPTIONS.has(key)) throw invalidOption(key, 'one of the known options (troughWindowMs, maxReadings)', (options as Record<string, unknown>)[key], 'type');
    }

    this.#troughWindowMs = durationOption('troughWindowMs', options.troughWindowMs, DEFAULT_TROUGH_WINDOW_MS, 100, HOUR_MS);
    this.#maxReadings = numberOption('maxReadings', options.maxReadings, DEFAULT_MAX_LIVE_SET_READINGS, 2, 10_000, true);
    this.#mergeWithinMs = this.#troughWindowMs / this.#maxReadings;
  }

  /** Number of readings kept, at most `maxReadings`. */
  get readingCount(): number {
    return this.#points.length;
  }

  /** The latest estimate, or null before the first update. */
  get latest(): LiveSetEstimate | null {
    return this.#latest;
  }

  /**
   * Records heap used right after a major GC, as read in a `gc` performance
   * observer's callback. The next `update` uses it in place of the sample's own
   * heap used. Of several calls between two updates, the last one counts.
   */
  recordAfterMajorGc(heapUsedBytes: number, monotonicMs: number): void {
    checkReadingValue('heapUsedBytes', heapUsedBytes);
    checkReadingValue('monotonicMs', monotonicMs);

    this.#pendingAfterGc = { bytes: heapUsedBytes, timeMs: monotonicMs };
  }

  /**
   * Adds one sample's reading and returns the new estimate. A `Sample` with a
   * `monotonicMs` added fits. Throws on a negative or non-finite reading and on
   * a time before the previous update's.
   */
  update(reading: LiveSetReading): LiveSetEstimate {
    const { monotonicMs, heapUsedBytes } = reading;
    checkReadingValue('heapUsedBytes', heapUsedBytes);
    checkReadingValue('monotonicMs', monotonicMs);

    const newest = this.#points[this.#points.length - 1];
    if (newest && monotonicMs < newest.timeMs) {
      throw new RangeError(`Invalid monotonicMs ${monotonicMs}: it is before the previous reading at ${newest.timeMs} ms, but times must not decrease`);
    }

    const afterGc = this.#takeAfterGc(reading, monotonicMs);
    if (afterGc) this.#points = [afterGc];

    this.#addTroughPoint(monotonicMs, heapUsedBytes);
    this.#dropOlderThan(monotonicMs - this.#troughWindowMs);

    // Strictly lower, so a post-GC reading wins a tie with the sample read at the same moment.
    let lowest = this.#points[0] as HeapPoint;
    for (const point of this.#points) {
      if (point.bytes < lowest.bytes) lowest = point;
    }

    const estimate: LiveSetEstimate = {
      liveBytes: Math.min(lowest.bytes, heapUsedBytes),
      source: lowest.source,
      ageMs: monotonicMs - lowest.timeMs,
    };
    this.#latest = estimate;
    return estimate;
  }

  /** Forgets every reading. */
  reset(): void {
    this.#points = [];
    this.#pendingAfterGc = null;
    this.#latest = null;
  }

  /** Returns the post-GC reading for this interval, if there was a major GC, and clears the pending one. */
  #takeAfterGc(reading: LiveSetReading, monotonicMs: number): HeapPoint | null {
    const pending = this.#pendingAfterGc;
    this.#pendingAfterGc = null;

    // A hook time past this reading would keep the point alive too long, so it is capped here.
    if (pending) return { timeMs: Math.min(pending.timeMs, monotonicMs), bytes: pending.bytes, source: 'major-gc' };

    if (reading.gc.byKind.major.count > 0) return { timeMs: monotonicMs, bytes: reading.heapUsedBytes, source: 'major-gc' };
    return null;
  }

  #addTroughPoint(timeMs: number, bytes: number): void {
    const last = this.#points[this.#points.length - 1];

    // Merging keeps the lower reading and the newer time, so the trough survives and the count stays bounded.
    if (last && last.source === 'trough' && timeMs - last.timeMs < this.#mergeWithinMs) {
      this.#points[this.#points.length - 1] = { timeMs, bytes: Math.min(last.bytes, bytes), source: 'trough' };
      return;
    }

    this.#points.push({ timeMs, bytes, source: 'trough' });
  }

  #dropOlderThan(oldestKeptMs: number): void {
    let drop = 0;
    while (drop < this.#points.length - 1 && (this.#points[drop] as HeapPoint).timeMs < oldestKeptMs) drop++;

    // The merge spacing already bounds the count; this guards it against rounding.
    drop = Math.max(drop, this.#points.length - this.#maxReadings);
    if (drop > 0) this.#points.splice(0, drop);
  }
}

function checkReadingValue(name: string, value: number): void {
  if (!(Number.isFinite(value) && value >= 0)) {
    throw new RangeError(`Invalid ${name}: expected a finite number of at least 0, got ${String(value)} (${typeof value})`);
  }
}
