import { getHeapStatistics } from 'node:v8';
import type { PressureLevel } from '../analysis/levels.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { formatBytes } from '../util/size.js';
import { durationOption, invalidOption, numberOption } from '../util/validate.js';
import { detectForcedGc } from './gc-availability.js';
import {
  booleanOption,
  clockOption,
  errorMessage,
  functionOption,
  loggerOption,
  objectOption,
  pressureLevelArgument,
  rejectUnknownOptions,
} from './response-options.js';

const MIB = 2 ** 20;

/**
 * The reason a forced GC did not run:
 * - `unavailable`: there is no gc function.
 * - `cooldown`: the previous forced GC ended less than the cooldown ago.
 * - `busy-loop`: the event loop is busy and the level is below critical.
 * - `pause-too-long`: the estimated pause exceeds `maxPauseMs` and the level is below critical.
 * - `failed`: gc() threw.
 */
export type GcSkipReason = 'unavailable' | 'cooldown' | 'busy-loop' | 'pause-too-long' | 'failed';

export interface ForcedGcRequest {
  level: PressureLevel;
  /** The share of recent time the event loop was busy (0 to 1), as `performance.eventLoopUtilization()` reports it. Omit when unknown. */
  loopUtilization?: number;
}

export type ForcedGcResult =
  | {
      ran: true;
      pauseMs: number;
      heapBeforeBytes: number;
      heapAfterBytes: number;
      /** Heap used before minus after, or 0 when the heap grew. */
      reclaimedBytes: number;
      /** True when the collection reclaimed enough to keep the base cooldown. */
      paid: boolean;
      /** The cooldown before the next forced GC, after this run's backoff. */
      cooldownMs: number;
    }
  | {
      ran: false;
      reason: GcSkipReason;
      message: string;
      /** For `cooldown`, the time until a forced GC is allowed again. */
      retryInMs: number | null;
    };

export interface ForcedGcStats {
  available: boolean;
  unavailableReason: string | null;
  runs: number;
  skipped: Record<GcSkipReason, number>;
  totalPauseMs: number;
  totalReclaimedBytes: number;
  /** The cooldown now in force, between `cooldownMs` and `maxCooldownMs`. */
  cooldownMs: number;
  /** Forced GCs in a row that did not pay. Each one doubled the cooldown. */
  unpaidRunsInRow: number;
  /** The current estimate of pause per MiB of heap used, learned from measured runs. */
  pauseMsPerMiB: number;
}

export interface ForcedGcOptions {
  /** The function that forces a full GC, or false to turn forced GC off. Default: found by `detectForcedGc()`. Tests pass a fake. */
  gc?: (() => void) | false;
  /** Without `gc`, turn on `--expose-gc` at run time when node was started without it. Default false. */
  enableAtRuntime?: boolean;
  /** The base time between two forced GCs, counted from the end of the previous one. Default 30 s. */
  cooldownMs?: number | string;
  /** The cooldown stops doubling here. Default 10 min. */
  maxCooldownMs?: number | string;
  /** Below critical, no forced GC while the event-loop utilization is at or above this ratio. Default 0.9. */
  busyLoopUtilization?: number;
  /** Below critical, no forced GC whose estimated pause exceeds this. Default 500 ms. */
  maxPauseMs?: number | string;
  /** The first estimate of pause per MiB of heap used, before any run is measured. Default 0.65 ms. */
  pauseMsPerMiB?: number;
  /** A run pays only if it reclaims at least this share of the heap used before it. Default 0.01. */
  minReclaimedRatio?: number;
  /** A run pays only if it reclaims at least this many bytes per ms of pause. Default 16384 (16 KiB). */
  minReclaimedBytesPerMs?: number;
  /** Returns heap used in bytes. Default `v8.getHeapStatistics().used_heap_size`. */
  measureHeapUsedBytes?: () => number;
  clock?: Clock;
  logger?: Logger;
}

interface ResolvedForcedGcOptions {
  cooldownMs: number;
  maxCooldownMs: number;
  busyLoopUtilization: number;
  maxPauseMs: number;
  minReclaimedRatio: number;
  minReclaimedBytesPerMs: number;
  measureHeapUsedBytes: () => number;
  clock: Clock;
  logger: Logger;
}

const HOUR_MS = 3_600_000;
const KNOWN_OPTIONS = [
  'gc',
  'enableAtRuntime',
  'cooldownMs',
  'maxCooldownMs',
  'busyLoopUtilization',
  'maxPauseMs',
  'pauseMsPerMiB',
  'minReclaimedRatio',
  'minReclaimedBytesPerMs',
  'measureHeapUsedBytes',
  'clock',
  'logger',
] as const;

/**
 * The first pause estimate. The cost of a full `gc()` follows the number of
 * live objects more than their bytes. 0.65 ms per MiB is a reported figure
 * for Node 20.20 on a 2-core VM. Heaps of 10-300 MiB of small objects
 * measured 1.0-3.4 ms per MiB on the same kind of VM (median of 5 calls).
 * A low first estimate corrects itself after one run, while a high one could
 * block every run below critical and so never be corrected.
 */
const DEFAULT_PAUSE_MS_PER_MIB = 0.65;

/** Weight of the newest measured run in the pause estimate. */
const PAUSE_ESTIMATE_WEIGHT = 0.5;

/**
 * Decides when a forced full GC is worth its pause, runs it, and measures it.
 *
 * Forced GCs are spaced by a cooldown. A run that reclaims little (under
 * `minReclaimedRatio` of the heap, or under `minReclaimedBytesPerMs` of pause)
 * doubles the cooldown up to `maxCooldownMs`. A run that pays resets it. So a
 * process without garbage is not paused again and again for nothing.
 */
export class ForcedGcController {
  readonly #gc: (() => void) | null;
  readonly #unavailableReason: string | null;
  readonly #options: ResolvedForcedGcOptions;
  #cooldownMs: number;
  #pauseMsPerMiB: number;
  /** Clock time when the previous forced GC ended, or null before the first. */
  #lastEndMs: number | null = null;
  #unpaidRunsInRow = 0;
  #runs = 0;
  #totalPauseMs = 0;
  #totalReclaimedBytes = 0;
  readonly #skipped: Record<GcSkipReason, number> = { unavailable: 0, cooldown: 0, 'busy-loop': 0, 'pause-too-long': 0, failed: 0 };

  constructor(options: ForcedGcOptions = {}) {
    const resolved = objectOption('options', options);
    rejectUnknownOptions('options', resolved, KNOWN_OPTIONS);

    const enableAtRuntime = booleanOption('enableAtRuntime', resolved.enableAtRuntime, false);
    if (resolved.gc === false) {
      this.#gc = null;
      this.#unavailableReason = 'forced GC was turned off with the option gc: false';
    } else if (resolved.gc !== undefined) {
      if (typeof resolved.gc !== 'function') throw invalidOption('gc', 'a function that forces a full GC, or false', resolved.gc, 'type');
      this.#gc = resolved.gc;
      this.#unavailableReason = null;
    } else {
      const availability = detectForcedGc({ enableAtRuntime });
      this.#gc = availability.gc;
      this.#unavailableReason = availability.available ? null : availability.reason;
    }

    this.#options = resolveControllerOptions(resolved);
    this.#cooldownMs = this.#options.cooldownMs;
    this.#pauseMsPerMiB = numberOption('pauseMsPerMiB', resolved.pauseMsPerMiB, DEFAULT_PAUSE_MS_PER_MIB, 0.001, 1000);
  }

  get available(): boolean {
    return this.#gc !== null;
  }

  /** The reason forced GC is unavailable, or null when it is available. */
  get unavailableReason(): string | null {
    return this.#unavailableReason;
  }

  get cooldownMs(): number {
    return this.#cooldownMs;
  }

  stats(): ForcedGcStats {
    return {
      available: this.available,
      unavailableReason: this.#unavailableReason,
      runs: this.#runs,
      skipped: { ...this.#skipped },
      totalPauseMs: this.#totalPauseMs,
      totalReclaimedBytes: this.#totalReclaimedBytes,
      cooldownMs: this.#cooldownMs,
      unpaidRunsInRow: this.#unpaidRunsInRow,
      pauseMsPerMiB: this.#pauseMsPerMiB,
    };
  }

  /** Forces a full GC when the checks allow it, and returns what it reclaimed and how long it paused, or why it did not run. */
  run(request: ForcedGcRequest): ForcedGcResult {
    const level = pressureLevelArgument('request.level', request.level);
    const loopUtilization = request.loopUtilization === undefined ? null : numberOption('request.loopUtilization', request.loopUtilization, 0, 0, 1);

    const heapBeforeBytes = this.#options.measureHeapUsedBytes();
    const skip = this.#check(level, loopUtilization, heapBeforeBytes);
    if (skip) {
      this.#skipped[skip.reason]++;
      this.#options.logger.debug({ pressureLevel: level, reason: skip.reason, retryInMs: skip.retryInMs }, `headroom: forced GC skipped: ${skip.message}`);
      return skip;
    }

    return this.#collect(level, heapBeforeBytes);
  }

  #check(level: PressureLevel, loopUtilization: number | null, heapBeforeBytes: number): Extract<ForcedGcResult, { ran: false }> | null {
    if (this.#gc === null) {
      return { ran: false, reason: 'unavailable', message: this.#unavailableReason ?? 'no gc function', retryInMs: null };
    }

    const now = this.#options.clock.now();
    if (this.#lastEndMs !== null && now - this.#lastEndMs < this.#cooldownMs) {
      const retryInMs = this.#lastEndMs + this.#cooldownMs - now;
      return { ran: false, reason: 'cooldown', message: `cooldown of ${this.#cooldownMs} ms, ${Math.ceil(retryInMs)} ms left`, retryInMs };
    }

    if (level === 'critical') return null;

    if (loopUtilization !== null && loopUtilization >= this.#options.busyLoopUtilization) {
      const message = `event-loop utilization ${loopUtilization.toFixed(2)} is at or above ${this.#options.busyLoopUtilization} and the level is ${level}, not critical`;
      return { ran: false, reason: 'busy-loop', message, retryInMs: null };
    }

    const estimatedPauseMs = (heapBeforeBytes / MIB) * this.#pauseMsPerMiB;
    if (estimatedPauseMs > this.#options.maxPauseMs) {
      const message =
        `estimated pause ${Math.round(estimatedPauseMs)} ms for ${formatBytes(heapBeforeBytes)} of heap exceeds ` +
        `maxPauseMs ${this.#options.maxPauseMs} and the level is ${level}, not critical`;
      return { ran: false, reason: 'pause-too-long', message, retryInMs: null };
    }

    return null;
  }

  #collect(level: PressureLevel, heapBeforeBytes: number): ForcedGcResult {
    const { clock, logger } = this.#options;
    const startMs = clock.now();

    try {
      (this.#gc as () => void)();
    } catch (err) {
      this.#lastEndMs = clock.now();
      this.#skipped.failed++;
      logger.error({ err, pressureLevel: level, failures: this.#skipped.failed }, 'headroom: forced GC failed');
      return { ran: false, reason: 'failed', message: `gc() threw: ${errorMessage(err)}`, retryInMs: null };
    }

    const endMs = clock.now();
    const pauseMs = Math.max(0, endMs - startMs);
    const heapAfterBytes = this.#options.measureHeapUsedBytes();
    const reclaimedBytes = Math.max(0, heapBeforeBytes - heapAfterBytes);

    this.#lastEndMs = endMs;
    this.#runs++;
    this.#totalPauseMs += pauseMs;
    this.#totalReclaimedBytes += reclaimedBytes;
    this.#learnPause(pauseMs, heapBeforeBytes);

    const paid = this.#pays(reclaimedBytes, pauseMs, heapBeforeBytes);
    this.#applyBackoff(paid);

    logger.debug(
      { level, pauseMs, heapBeforeBytes, heapAfterBytes, reclaimedBytes, paid, cooldownMs: this.#cooldownMs },
      `headroom: forced GC reclaimed ${formatBytes(reclaimedBytes)} in ${pauseMs.toFixed(1)} ms`,
    );
    return { ran: true, pauseMs, heapBeforeBytes, heapAfterBytes, reclaimedBytes, paid, cooldownMs: this.#cooldownMs };
  }

  #pays(reclaimedBytes: number, pauseMs: number, heapBeforeBytes: number): boolean {
    if (reclaimedBytes < heapBeforeBytes * this.#options.minReclaimedRatio) return false;

    // A pause the clock could not resolve costs nothing measurable, so only the share reclaimed counts.
    if (pauseMs <= 0) return reclaimedBytes > 0;
    return reclaimedBytes / pauseMs >= this.#options.minReclaimedBytesPerMs;
  }

  #applyBackoff(paid: boolean): void {
    if (paid) {
      this.#unpaidRunsInRow = 0;
      this.#cooldownMs = this.#options.cooldownMs;
      return;
    }

    this.#unpaidRunsInRow++;
    const previousMs = this.#cooldownMs;
    // A base cooldown of 0 still backs off, starting from 1 s.
    this.#cooldownMs = Math.min(Math.max(previousMs * 2, 1000), this.#options.maxCooldownMs);
    if (this.#cooldownMs !== previousMs) {
      this.#options.logger.info(
        { cooldownMs: this.#cooldownMs, unpaidRunsInRow: this.#unpaidRunsInRow },
        `headroom: forced GC reclaimed little ${this.#unpaidRunsInRow} time(s) in a row; cooldown raised to ${this.#cooldownMs} ms`,
      );
    }
  }

  /** Pause scales with the live heap, which heap used before the run bounds from above, so the estimate errs high. */
  #learnPause(pauseMs: number, heapBeforeBytes: number): void {
    const heapMiB = heapBeforeBytes / MIB;
    if (pauseMs <= 0 || heapMiB < 1) return;

    const measured = pauseMs / heapMiB;
    this.#pauseMsPerMiB = PAUSE_ESTIMATE_WEIGHT * measured + (1 - PAUSE_ESTIMATE_WEIGHT) * this.#pauseMsPerMiB;
  }
}

/** Creates a forced-GC controller. Throws on an invalid option. */
export function createForcedGcController(options: ForcedGcOptions = {}): ForcedGcController {
  return new ForcedGcController(options);
}

function resolveControllerOptions(options: Partial<ForcedGcOptions>): ResolvedForcedGcOptions {
  const cooldownMs = durationOption('cooldownMs', options.cooldownMs, 30_000, 0, HOUR_MS);
  const maxCooldownMs = durationOption('maxCooldownMs', options.maxCooldownMs, Math.max(600_000, cooldownMs), 0, 24 * HOUR_MS);
  if (maxCooldownMs < cooldownMs) {
    throw invalidOption('maxCooldownMs', `a duration at or above cooldownMs (${cooldownMs} ms)`, options.maxCooldownMs);
  }

  return {
    cooldownMs,
    maxCooldownMs,
    busyLoopUtilization: numberOption('busyLoopUtilization', options.busyLoopUtilization, 0.9, 0, 1),
    maxPauseMs: durationOption('maxPauseMs', options.maxPauseMs, 500, 1, 60_000),
    minReclaimedRatio: numberOption('minReclaimedRatio', options.minReclaimedRatio, 0.01, 0, 1),
    minReclaimedBytesPerMs: numberOption('minReclaimedBytesPerMs', options.minReclaimedBytesPerMs, 16_384, 0, 2 ** 40),
    measureHeapUsedBytes: functionOption('measureHeapUsedBytes', options.measureHeapUsedBytes, readHeapUsedBytes),
    clock: clockOption(options.clock),
    logger: loggerOption(options.logger),
  };
}

/** Returns heap used in bytes, without the /proc read that `process.memoryUsage()` makes on Linux. */
export function readHeapUsedBytes(): number {
  return getHeapStatistics().used_heap_size;
}
