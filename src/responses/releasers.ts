import { isAtLeast, type PressureLevel } from '../analysis/levels.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { describeValue, durationOption, invalidOption, numberOption } from '../util/validate.js';
import {
  clockOption,
  errorMessage,
  loggerOption,
  nameOption,
  objectOption,
  pressureLevelArgument,
  rejectUnknownOptions,
  responseLevelOption,
  type ResponseLevel,
} from './response-options.js';

/**
 * Frees memory the application can rebuild. It may return the number of bytes
 * it freed, as an estimate the caller reports. An async releaser should stop
 * when `signal` aborts, because the registry has stopped waiting for it.
 */
export type ReleaseFunction = (level: PressureLevel, signal: AbortSignal) => void | number | Promise<void | number>;

export interface ReleaserDefinition {
  /** The name in results, stats and log lines, unique within a registry. */
  name: string;
  /** Releasers with a higher priority run first, and equal priorities run in registration order. Default 0. */
  priority?: number;
  /** The lowest level at which this releaser runs. Default `'moderate'`. */
  minLevel?: ResponseLevel;
  release: ReleaseFunction;
}

/**
 * The reason a releaser was not called: `still-running` when its previous call was
 * abandoned after the timeout and has not settled yet, `not-paying` when the
 * caller's `skip` test excluded it.
 */
export type ReleaserSkipReason = 'still-running' | 'not-paying';

/** The outcome of one releaser in one run. */
export interface ReleaserResult {
  name: string;
  /** Time until the releaser settled or was abandoned, read from the injected clock. */
  durationMs: number;
  ok: boolean;
  /** The error message when the releaser threw, rejected, timed out or returned an invalid value. */
  error: string | null;
  timedOut: boolean;
  skipped: ReleaserSkipReason | null;
  /** The byte count the releaser returned, or null when it returned nothing. */
  reportedBytes: number | null;
}

/** Counters for one registered releaser, since it was registered. */
export interface ReleaserStats {
  name: string;
  priority: number;
  minLevel: ResponseLevel;
  calls: number;
  /** Calls that threw, rejected or returned an invalid value. Timeouts are counted in `timeouts` only. */
  errors: number;
  timeouts: number;
  skips: number;
  totalDurationMs: number;
  totalReportedBytes: number;
}

export interface ReleaserRegistryOptions {
  /** How long an async releaser may run before it is abandoned and its signal aborts. Default 1000 ms. */
  timeoutMs?: number | string;
  /** The maximum number of registered releasers. Default 256. */
  maxReleasers?: number;
  clock?: Clock;
  logger?: Logger;
}

export interface ReleaserRunOptions {
  /** Returns true for a releaser that should not be called in this run, such as one that does not pay. */
  skip?: (name: string) => boolean;
}

interface Entry {
  readonly name: string;
  readonly priority: number;
  readonly minLevel: ResponseLevel;
  readonly release: ReleaseFunction;
  /** Registration order, used to break priority ties. */
  readonly sequence: number;
  /** True from the call until its promise settles, including after the registry abandoned it. */
  inFlight: boolean;
  stats: ReleaserStats;
}

type CallOutcome = { kind: 'returned'; value: unknown } | { kind: 'threw'; error: unknown } | { kind: 'timed-out'; error: Error };

const DEFAULT_TIMEOUT_MS = 1000;
const DEFAULT_MAX_RELEASERS = 256;
const KNOWN_OPTIONS = ['timeoutMs', 'maxReleasers', 'clock', 'logger'] as const;
const KNOWN_DEFINITION_KEYS = ['name', 'priority', 'minLevel', 'release'] as const;

/**
 * Holds the application's releasers and runs them under pressure, one after
 * another, in priority order. A releaser that throws, rejects or times out is
 * logged and counted, and the releasers after it still run.
 */
export class ReleaserRegistry {
  readonly #timeoutMs: number;
  readonly #maxReleasers: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  /** Sorted by priority, highest first, then by registration order. */
  #entries: Entry[] = [];
  #nextSequence = 0;

  constructor(options: ReleaserRegistryOptions = {}) {
    const resolved = objectOption('options', options);
    rejectUnknownOptions('options', resolved, KNOWN_OPTIONS);

    this.#timeoutMs = durationOption('timeoutMs', resolved.timeoutMs, DEFAULT_TIMEOUT_MS, 1, 60_000);
    this.#maxReleasers = numberOption('maxReleasers', resolved.maxReleasers, DEFAULT_MAX_RELEASERS, 1, 65_536, true);
    this.#clock = clockOption(resolved.clock);
    this.#logger = loggerOption(resolved.logger);
  }

  get size(): number {
    return this.#entries.length;
  }

  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  has(name: string): boolean {
    return this.#entries.some((entry) => entry.name === name);
  }

  /** Registers a releaser and returns a function that unregisters it. Throws on an invalid definition or a duplicate name. */
  register(definition: ReleaserDefinition): () => boolean {
    const entry = this.#validate(definition);

    if (this.has(entry.name)) {
      throw invalidOption('releaser.name', 'a name not already registered', entry.name);
    }
    if (this.#entries.length >= this.#maxReleasers) {
      throw invalidOption('releaser', `at most ${this.#maxReleasers} registered releasers (option maxReleasers)`, entry.name);
    }

    this.#entries.push(entry);
    this.#entries.sort((a, b) => b.priority - a.priority || a.sequence - b.sequence);

    // Removes this very entry, so a stale unregister function cannot remove a later releaser of the same name.
    return () => {
      const index = this.#entries.indexOf(entry);
      if (index === -1) return false;

      this.#entries.splice(index, 1);
      return true;
    };
  }

  /** Returns the counters of every registered releaser, in run order. */
  stats(): ReleaserStats[] {
    return this.#entries.map((entry) => ({ ...entry.stats }));
  }

  /**
   * Calls, in priority order, every releaser whose `minLevel` is at or below
   * `level`, and returns one result per releaser considered. `trigger` names
   * the cause of the run in log lines.
   */
  async run(level: PressureLevel, trigger: string, options: ReleaserRunOptions = {}): Promise<ReleaserResult[]> {
    pressureLevelArgument('level', level);
    nameOption('trigger', trigger, 100);
    const skip = options.skip;

    // A copy, so releasers that register or unregister during the run do not shift the loop.
    const selected = this.#entries.filter((entry) => isAtLeast(level, entry.minLevel));
    const results: ReleaserResult[] = [];

    for (const entry of selected) {
      if (!this.#entries.includes(entry)) continue;

      if (entry.inFlight) {
        results.push(this.#skip(entry, 'still-running'));
      } else if (skip?.(entry.name)) {
        results.push(this.#skip(entry, 'not-paying'));
      } else {
        results.push(await this.#call(entry, level, trigger));
      }
    }

    return results;
  }

  #validate(definition: ReleaserDefinition): Entry {
    const resolved = objectOption('releaser', definition);
    rejectUnknownOptions('releaser', resolved, KNOWN_DEFINITION_KEYS);

    const name = nameOption('releaser.name', resolved.name);
    const priority = numberOption('releaser.priority', resolved.priority, 0, -1_000_000, 1_000_000);
    const minLevel = responseLevelOption('releaser.minLevel', resolved.minLevel, 'moderate');
    if (typeof resolved.release !== 'function') {
      throw invalidOption('releaser.release', 'a function (level, signal) => void | number | Promise<void | number>', resolved.release, 'type');
    }

    return {
      name,
      priority,
      minLevel,
      release: resolved.release,
      sequence: this.#nextSequence++,
      inFlight: false,
      stats: { name, priority, minLevel, calls: 0, errors: 0, timeouts: 0, skips: 0, totalDurationMs: 0, totalReportedBytes: 0 },
    };
  }

  #skip(entry: Entry, reason: ReleaserSkipReason): ReleaserResult {
    entry.stats.skips++;
    this.#logger.debug({ releaser: entry.name, reason }, `headroom: skipped releaser "${entry.name}" (${reason})`);
    return { name: entry.name, durationMs: 0, ok: true, error: null, timedOut: false, skipped: reason, reportedBytes: null };
  }

  async #call(entry: Entry, level: PressureLevel, trigger: string): Promise<ReleaserResult> {
    const startedMs = this.#clock.now();
    const outcome = await this.#invoke(entry, level);
    const durationMs = Math.max(0, this.#clock.now() - startedMs);

    entry.stats.calls++;
    entry.stats.totalDurationMs += durationMs;
    const result: ReleaserResult = { name: entry.name, durationMs, ok: true, error: null, timedOut: false, skipped: null, reportedBytes: null };

    if (outcome.kind === 'timed-out') {
      entry.stats.timeouts++;
      this.#logger.warn(
        { err: outcome.error, releaser: entry.name, pressureLevel: level, trigger, timeoutMs: this.#timeoutMs, timeouts: entry.stats.timeouts },
        `headroom: releaser "${entry.name}" timed out after ${this.#timeoutMs} ms and was abandoned`,
      );
      return { ...result, ok: false, error: outcome.error.message, timedOut: true };
    }

    const error = outcome.kind === 'threw' ? outcome.error : invalidReturnError(entry.name, outcome.value);
    if (outcome.kind === 'threw' || error !== null) {
      entry.stats.errors++;
      this.#logger.error(
        { err: error, releaser: entry.name, pressureLevel: level, trigger, durationMs, errors: entry.stats.errors },
        `headroom: releaser "${entry.name}" failed`,
      );
      return { ...result, ok: false, error: errorMessage(error) };
    }

    const reportedBytes = typeof outcome.value === 'number' ? outcome.value : null;
    if (reportedBytes !== null) entry.stats.totalReportedBytes += reportedBytes;
    return { ...result, reportedBytes };
  }

  /**
   * Calls the releaser and waits for it at most `timeoutMs`. The timer starts
   * when release() returns a promise, so a synchronous releaser is never timed
   * out.
   * NOTE: a synchronous releaser that never returns blocks the event loop, and
   * no timeout can stop it.
   */
  async #invoke(entry: Entry, level: PressureLevel): Promise<CallOutcome> {
    const controller = new AbortController();

    let returned: unknown;
    try {
      returned = entry.release(level, controller.signal);
    } catch (error) {
      return { kind: 'threw', error };
    }

    if (!isPromiseLike(returned)) return { kind: 'returned', value: returned };

    entry.inFlight = true;
    const settled = Promise.resolve(returned).then(
      (value): CallOutcome => ({ kind: 'returned', value }),
      (error: unknown): CallOutcome => ({ kind: 'threw', error }),
    );
    void settled.then((outcome) => {
      entry.inFlight = false;
      if (controller.signal.aborted && outcome.kind === 'threw') {
        this.#logger.debug({ err: outcome.error, releaser: entry.name }, `headroom: abandoned releaser "${entry.name}" rejected after its timeout`);
      }
    });

    // The timer is not unref()'d: it lives only while a release is awaited, and it is what ends the wait.
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<CallOutcome>((resolve) => {
      timer = setTimeout(() => {
        const error = new Error(`releaser "${entry.name}" timed out after ${this.#timeoutMs} ms`);
        error.name = 'TimeoutError';
        controller.abort(error);
        resolve({ kind: 'timed-out', error });
      }, this.#timeoutMs);
    });

    try {
      return await Promise.race([settled, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Creates an empty releaser registry. Throws on an invalid option. */
export function createReleaserRegistry(options: ReleaserRegistryOptions = {}): ReleaserRegistry {
  return new ReleaserRegistry(options);
}

/** Returns an error for a return value that is neither nothing nor a byte count, or null when it is valid. */
function invalidReturnError(name: string, value: unknown): Error | null {
  if (value === undefined) return null;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return null;

  return new TypeError(`releaser "${name}" returned ${describeValue(value)}; expected nothing or a number of bytes (0 or more)`);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}
