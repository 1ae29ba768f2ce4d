import { invalidOption, numberOption } from '../util/validate.js';
import { objectOption, rejectUnknownOptions } from './response-options.js';

/** The measured effectiveness of one action. */
export interface ActionEffectiveness {
  action: string;
  /** Records in the window, at most `windowSize`. */
  samples: number;
  windowBytes: number;
  windowMs: number;
  /** Bytes reclaimed per ms over the window, or null with no records. */
  bytesPerMs: number | null;
  /** Null until the action has `minSamples` records. */
  pays: boolean | null;
  /** Skips since the action last ran. After `retryAfterSkips` of them it runs once to be measured again. */
  skipsInRow: number;
}

export interface EffectivenessTrackerOptions {
  /** The number of recent records per action that the average covers. Default 8. */
  windowSize?: number;
  /** The maximum number of actions tracked. Past it, the action recorded least recently is dropped. Default 512. */
  maxActions?: number;
  /** An action pays when it reclaims at least this many bytes per ms it takes. Default 16384 (16 KiB). */
  minBytesPerMs?: number;
  /** Records needed before an action is judged. Default 3. */
  minSamples?: number;
  /** A non-paying action is skipped this many times in a row, then run once to be measured again. Default 5. */
  retryAfterSkips?: number;
}

interface ActionRecord {
  bytes: number[];
  durationsMs: number[];
  windowBytes: number;
  windowMs: number;
  skipsInRow: number;
}

/**
 * A duration below this counts as this, so an action too fast for the clock
 * to time still gets a finite rate.
 */
const MIN_DURATION_MS = 0.01;
const KNOWN_OPTIONS = ['windowSize', 'maxActions', 'minBytesPerMs', 'minSamples', 'retryAfterSkips'] as const;

/**
 * Keeps, for each action, the bytes it reclaimed per ms it took over its
 * latest records, so that callers can order actions and skip those that do
 * not pay. Memory is bounded by `maxActions` times `windowSize` records.
 *
 * The default floor of 16 KiB per ms matches a forced full GC that reclaims
 * about 1 % of the heap, at an estimated pause of 0.65 ms per MiB of heap.
 */
export class EffectivenessTracker {
  readonly #windowSize: number;
  readonly #maxActions: number;
  readonly #minBytesPerMs: number;
  readonly #minSamples: number;
  readonly #retryAfterSkips: number;
  /** Insertion order is recording order, so the first key is the one recorded least recently. */
  readonly #actions = new Map<string, ActionRecord>();

  constructor(options: EffectivenessTrackerOptions = {}) {
    const resolved = objectOption('options', options);
    rejectUnknownOptions('options', resolved, KNOWN_OPTIONS);

    this.#windowSize = numberOption('windowSize', resolved.windowSize, 8, 1, 1000, true);
    this.#maxActions = numberOption('maxActions', resolved.maxActions, 512, 1, 65_536, true);
    this.#minBytesPerMs = numberOption('minBytesPerMs', resolved.minBytesPerMs, 16_384, 0, 2 ** 40);
    this.#minSamples = numberOption('minSamples', resolved.minSamples, 3, 1, 1000, true);
    this.#retryAfterSkips = numberOption('retryAfterSkips', resolved.retryAfterSkips, 5, 1, 1_000_000, true);
    if (this.#minSamples > this.#windowSize) {
      throw invalidOption('minSamples', `an integer no larger than windowSize (${this.#windowSize})`, this.#minSamples);
    }
  }

  get size(): number {
    return this.#actions.size;
  }

  /** Adds one run of `action`: `reclaimedBytes` freed in `durationMs`. Resets the action's skip count. */
  record(action: string, reclaimedBytes: number, durationMs: number): void {
    if (typeof action !== 'string' || action.length === 0) throw invalidOption('action', 'a non-empty string', action, 'type');
    numberOption('reclaimedBytes', reclaimedBytes, 0, 0, Number.MAX_SAFE_INTEGER);
    numberOption('durationMs', durationMs, 0, 0, Number.MAX_SAFE_INTEGER);

    const record = this.#actions.get(action) ?? { bytes: [], durationsMs: [], windowBytes: 0, windowMs: 0, skipsInRow: 0 };
    const clampedMs = Math.max(durationMs, MIN_DURATION_MS);
    record.bytes.push(reclaimedBytes);
    record.durationsMs.push(clampedMs);
    record.windowBytes += reclaimedBytes;
    record.windowMs += clampedMs;
    record.skipsInRow = 0;

    if (record.bytes.length > this.#windowSize) {
      record.windowBytes -= record.bytes.shift() ?? 0;
      record.windowMs -= record.durationsMs.shift() ?? 0;
    }

    // Re-inserting moves the action to the end, so the first key is always the stalest.
    this.#actions.delete(action);
    this.#actions.set(action, record);
    if (this.#actions.size > this.#maxActions) {
      const stalest = this.#actions.keys().next().value;
      if (stalest !== undefined) this.#actions.delete(stalest);
    }
  }

  /** Returns what is known about `action`, or null when it has no record. */
  get(action: string): ActionEffectiveness | null {
    const record = this.#actions.get(action);
    if (!record) return null;

    const samples = record.bytes.length;
    const bytesPerMs = samples === 0 ? null : record.windowBytes / record.windowMs;
    const pays = bytesPerMs === null || samples < this.#minSamples ? null : bytesPerMs >= this.#minBytesPerMs;
    return { action, samples, windowBytes: record.windowBytes, windowMs: record.windowMs, bytesPerMs, pays, skipsInRow: record.skipsInRow };
  }

  /** Returns every tracked action, most recently recorded last. */
  list(): ActionEffectiveness[] {
    return [...this.#actions.keys()].map((action) => this.get(action) as ActionEffectiveness);
  }

  /**
   * Returns true when `action` is known not to pay and should be skipped this
   * time, and counts the skip. After `retryAfterSkips` skips in a row it
   * returns false once, so the action runs and is measured again.
   */
  shouldSkip(action: string): boolean {
    const known = this.get(action);
    const record = this.#actions.get(action);
    if (!known || !record || known.pays !== false) return false;

    if (record.skipsInRow >= this.#retryAfterSkips) {
      record.skipsInRow = 0;
      return false;
    }

    record.skipsInRow++;
    return true;
  }

  /**
   * Sorts actions for running. Actions that pay come first, fastest reclaim
   * first. Actions not yet judged follow in the given order, and actions that
   * do not pay come last, fastest first.
   */
  order(actions: readonly string[]): string[] {
    const group = (action: string): number => {
      const pays = this.get(action)?.pays ?? null;
      if (pays === true) return 0;
      return pays === null ? 1 : 2;
    };
    const rate = (action: string): number => this.get(action)?.bytesPerMs ?? 0;

    return actions
      .map((action, index) => ({ action, index, group: group(action), rate: rate(action) }))
      .sort((a, b) => a.group - b.group || (a.group === 1 ? 0 : b.rate - a.rate) || a.index - b.index)
      .map((entry) => entry.action);
  }

  /** Forgets `action`, or every action when none is given. */
  forget(action?: string): void {
    if (action === undefined) this.#actions.clear();
    else this.#actions.delete(action);
  }
}

/** Creates an empty tracker. Throws on an invalid option. */
export function createEffectivenessTracker(options: EffectivenessTrackerOptions = {}): EffectivenessTracker {
  return new EffectivenessTracker(options);
}
