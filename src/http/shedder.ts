import { isAtLeast, type PressureLevel } from '../analysis/levels.js';
import { DEFAULT_THRESHOLDS } from '../analysis/pressure.js';
import type { MemoryManager } from '../manager/manager.js';
import type { Sample } from '../sampling/sample.js';
import type { Clock } from '../util/clock.js';
import { durationOption, invalidOption, numberOption } from '../util/validate.js';
import { clockOption, objectOption, rejectUnknownOptions, triggerLevelOption, type TriggerLevel } from './options.js';

export interface EventLoopSheddingOptions {
  /** Event-loop utilization over the sample's interval (0 to 1) where shedding starts. Default 0.9. */
  fromUtilization?: number;
  /** Utilization where the event-loop share reaches `maxShedRatio`. Default 1. */
  toUtilization?: number;
  /**
   * The largest share of requests shed for a busy loop alone, below 1. Default 0.5.
   * A busy loop still completes work, so rejecting every request would turn slowness into an outage.
   */
  maxShedRatio?: number;
}

export interface LoadShedderOptions {
  /** At this level or worse, `maxShedRatio` of requests are shed. Default `'critical'`. */
  fullLevel?: TriggerLevel;
  /**
   * The usage ratios between which the shed share grows linearly from 0 to
   * `maxShedRatio`, or false for no ramp. Default `{ fromRatio: 0.8, toRatio: 0.9 }`:
   * the manager's default high and critical thresholds.
   */
  ramp?: { fromRatio?: number; toRatio?: number } | false;
  /** The largest share of requests shed for memory. Default 1: all at `fullLevel`. */
  maxShedRatio?: number;
  /**
   * Falling usage lowers the share only once it is this ratio below the usage
   * the share was set from, so a collection that frees a little does not
   * lift shedding at once. Default 0.05.
   */
  hysteresisRatio?: number;
  /** Nothing is shed for this long after the shedder is created: milliseconds or "5s". Default 5 s. */
  warmUpMs?: number | string;
  /** The `Retry-After` value of a shed response, in seconds. Default 10. */
  retryAfterSeconds?: number;
  /** Shed on event-loop utilization as well, or false. Default false. */
  eventLoop?: EventLoopSheddingOptions | false;
  /** Time source for the warm-up; tests pass a scripted one. */
  clock?: Clock;
}

interface ResolvedEventLoopOptions {
  fromUtilization: number;
  toUtilization: number;
  maxShedRatio: number;
}

export interface ResolvedShedderOptions {
  fullLevel: TriggerLevel;
  ramp: { fromRatio: number; toRatio: number } | null;
  maxShedRatio: number;
  hysteresisRatio: number;
  warmUpMs: number;
  retryAfterSeconds: number;
  eventLoop: ResolvedEventLoopOptions | null;
  clock: Clock;
}

/** The cause of shedding, or null when no request is shed. */
export type ShedReason = 'memory' | 'event-loop' | null;

/** The cached decision and its counters. */
export interface ShedderState {
  /** Share of requests shed from now until the next sample, from 0 to 1. */
  shedRatio: number;
  reason: ShedReason;
  /** True until the first sample after the warm-up, during which nothing is shed. */
  warmingUp: boolean;
  /** The level of the sample the decision came from, or null before the first sample. */
  level: PressureLevel | null;
  /** The usage ratio the memory share was computed from, after hysteresis. */
  heldUsageRatio: number;
  /** The event-loop utilization the event-loop share was computed from, after hysteresis. */
  heldUtilization: number;
  shedRequests: number;
  retryAfterSeconds: number;
}

/**
 * Shares are kept as integer millionths, so the counter in `shouldShed()` adds
 * integers and sheds exactly the share (0.25 sheds every fourth request),
 * where adding floating-point shares would drift.
 */
const SHARE_SCALE = 1_000_000;

const KNOWN_OPTIONS = ['fullLevel', 'ramp', 'maxShedRatio', 'hysteresisRatio', 'warmUpMs', 'retryAfterSeconds', 'eventLoop', 'clock'] as const;
const HOUR_MS = 3_600_000;

/** Validates every shedder option; the error names the option, the rule and the value received. */
export function resolveShedderOptions(options: LoadShedderOptions = {}): ResolvedShedderOptions {
  const given = objectOption('shedding', options);
  rejectUnknownOptions('shedding', given, KNOWN_OPTIONS);

  return {
    fullLevel: triggerLevelOption('shedding.fullLevel', given.fullLevel, 'critical'),
    ramp: resolveRamp(given.ramp),
    maxShedRatio: numberOption('shedding.maxShedRatio', given.maxShedRatio, 1, 0, 1),
    hysteresisRatio: numberOption('shedding.hysteresisRatio', given.hysteresisRatio, 0.05, 0, 0.5),
    warmUpMs: durationOption('shedding.warmUpMs', given.warmUpMs, 5000, 0, HOUR_MS),
    retryAfterSeconds: numberOption('shedding.retryAfterSeconds', given.retryAfterSeconds, 10, 1, 3600, true),
    eventLoop: resolveEventLoop(given.eventLoop),
    clock: clockOption('shedding.clock', given.clock),
  };
}

function resolveRamp(value: LoadShedderOptions['ramp']): ResolvedShedderOptions['ramp'] {
  if (value === false) return null;

  const ramp = objectOption('shedding.ramp', value === undefined ? undefined : value);
  rejectUnknownOptions('shedding.ramp', ramp, ['fromRatio', 'toRatio']);
  const fromRatio = numberOption('shedding.ramp.fromRatio', ramp.fromRatio, DEFAULT_THRESHOLDS.high, 0, 1);
  const toRatio = numberOption('shedding.ramp.toRatio', ramp.toRatio, DEFAULT_THRESHOLDS.critical, 0, 1.5);
  if (toRatio <= fromRatio) throw invalidOption('shedding.ramp.toRatio', `a ratio above shedding.ramp.fromRatio (${fromRatio})`, toRatio);
  return { fromRatio, toRatio };
}

function resolveEventLoop(value: LoadShedderOptions['eventLoop']): ResolvedEventLoopOptions | null {
  if (value === undefined || value === false) return null;

  const loop = objectOption('shedding.eventLoop', value);
  rejectUnknownOptions('shedding.eventLoop', loop, ['fromUtilization', 'toUtilization', 'maxShedRatio']);
  const fromUtilization = numberOption('shedding.eventLoop.fromUtilization', loop.fromUtilization, 0.9, 0, 1);
  const toUtilization = numberOption('shedding.eventLoop.toUtilization', loop.toUtilization, 1, 0, 1);
  if (toUtilization <= fromUtilization) {
    throw invalidOption('shedding.eventLoop.toUtilization', `a utilization above shedding.eventLoop.fromUtilization (${fromUtilization})`, toUtilization);
  }
  const maxShedRatio = numberOption('shedding.eventLoop.maxShedRatio', loop.maxShedRatio, 0.5, 0, 0.95);
  return { fromUtilization, toUtilization, maxShedRatio };
}

/**
 * Follows `current` upward at once and downward only once it falls more than
 * `margin` below the held value, then trails it by `margin` (a backlash).
 */
function holdWithHysteresis(held: number, current: number, margin: number): number {
  if (current >= held) return current;
  if (current < held - margin) return current + margin;
  return held;
}

/** Maps `value` linearly from [from, to] onto [0, max], clamped. */
function rampShare(value: number, from: number, to: number, max: number): number {
  if (value <= from) return 0;
  if (value >= to) return max;
  return (max * (value - from)) / (to - from);
}

/**
 * Decides which requests to shed. The decision is computed once per sample
 * (`update`) and cached, so `shouldShed()` costs a comparison, an addition and
 * no reading of the process.
 *
 * The share of requests shed is the larger of a memory share and an optional
 * event-loop share. The memory share grows linearly over the ramp and is
 * `maxShedRatio` at `fullLevel` or worse. Shed requests are spread evenly by
 * an error-diffusion counter: at a share of 0.25 exactly every fourth request
 * is shed, with no random numbers.
 */
export class LoadShedder {
  readonly options: ResolvedShedderOptions;
  readonly #createdAtMs: number;
  #shedRatio = 0;
  /** `#shedRatio` in millionths. */
  #shareUnits = 0;
  /** Carried share of a request in millionths; a request is shed each time it reaches SHARE_SCALE. Stays below SHARE_SCALE. */
  #credit = 0;
  #reason: ShedReason = null;
  #warmingUp: boolean;
  #level: PressureLevel | null = null;
  #heldUsageRatio = 0;
  #heldUtilization = 0;
  #shedRequests = 0;
  #responseBody = '';
  #detach: (() => void) | null = null;

  constructor(options: LoadShedderOptions = {}) {
    this.options = resolveShedderOptions(options);
    this.#createdAtMs = this.options.clock.now();
    this.#warmingUp = this.options.warmUpMs > 0;
  }

  /** Share of requests shed until the next sample: 0 when none are. Read it before calling `shouldShed()` to skip other work. */
  get shedRatio(): number {
    return this.#shedRatio;
  }

  get shedRequests(): number {
    return this.#shedRequests;
  }

  get retryAfterSeconds(): number {
    return this.options.retryAfterSeconds;
  }

  /** The JSON body of a shed response, built once per sample. */
  get responseBody(): string {
    return this.#responseBody;
  }

  get state(): ShedderState {
    return {
      shedRatio: this.#shedRatio,
      reason: this.#reason,
      warmingUp: this.#warmingUp,
      level: this.#level,
      heldUsageRatio: this.#heldUsageRatio,
      heldUtilization: this.#heldUtilization,
      shedRequests: this.#shedRequests,
      retryAfterSeconds: this.options.retryAfterSeconds,
    };
  }

  /** Returns true when this request should be rejected, and counts it. O(1), no allocation. */
  shouldShed(): boolean {
    const units = this.#shareUnits;
    if (units === 0) return false;

    this.#credit += units;
    if (this.#credit < SHARE_SCALE) return false;

    this.#credit -= SHARE_SCALE;
    this.#shedRequests++;
    return true;
  }

  /** Applies the manager's samples from now on, starting with its latest one. Returns this shedder. */
  attach(manager: MemoryManager): this {
    this.#detach?.();

    const listener = (sample: Sample): void => this.update(sample);
    manager.on('sample', listener);
    this.#detach = () => manager.off('sample', listener);

    if (manager.latest) this.update(manager.latest);
    return this;
  }

  /** Stops following the manager; the last decision stays in force. */
  close(): void {
    this.#detach?.();
    this.#detach = null;
  }

  /** Recomputes the cached decision from one sample. */
  update(sample: Sample): void {
    this.#level = sample.level;
    const usageRatio = Math.max(sample.heapUsageRatio, sample.processUsageRatio ?? 0);
    const utilization = sample.eventLoop.utilization;

    // Start-up allocates and compiles, so its readings tell little about load and nothing is kept from them.
    this.#warmingUp = this.options.clock.now() - this.#createdAtMs < this.options.warmUpMs;
    if (this.#warmingUp) {
      this.#heldUsageRatio = usageRatio;
      this.#heldUtilization = utilization;
      this.#setShare(0, null, sample);
      return;
    }

    const { ramp, hysteresisRatio, maxShedRatio, eventLoop } = this.options;
    this.#heldUsageRatio = holdWithHysteresis(this.#heldUsageRatio, usageRatio, hysteresisRatio);
    this.#heldUtilization = holdWithHysteresis(this.#heldUtilization, utilization, hysteresisRatio);

    let memoryShare = ramp ? rampShare(this.#heldUsageRatio, ramp.fromRatio, ramp.toRatio, maxShedRatio) : 0;
    if (isAtLeast(sample.level, this.options.fullLevel)) memoryShare = maxShedRatio;

    const loopShare = eventLoop
      ? rampShare(this.#heldUtilization, eventLoop.fromUtilization, eventLoop.toUtilization, eventLoop.maxShedRatio)
      : 0;

    if (memoryShare === 0 && loopShare === 0) this.#setShare(0, null, sample);
    else if (memoryShare >= loopShare) this.#setShare(memoryShare, 'memory', sample);
    else this.#setShare(loopShare, 'event-loop', sample);
  }

  #setShare(share: number, reason: ShedReason, sample: Sample): void {
    this.#shareUnits = Math.round(share * SHARE_SCALE);
    this.#shedRatio = this.#shareUnits / SHARE_SCALE;
    if (this.#shareUnits === 0) {
      this.#credit = 0;
      reason = null;
    }
    this.#reason = reason;
    this.#responseBody = reason === null ? '' : this.#describe(reason, sample);
  }

  #describe(reason: Exclude<ShedReason, null>, sample: Sample): string {
    const usagePercent = Math.round(Math.max(sample.heapUsageRatio, sample.processUsageRatio ?? 0) * 100);
    const message =
      reason === 'memory'
        ? `Service is shedding load: memory pressure is ${sample.level} (${sample.budget} at ${usagePercent} % of its budget). Retry later.`
        : `Service is shedding load: the event loop was busy ${Math.round(sample.eventLoop.utilization * 100)} % of the last interval. Retry later.`;

    return JSON.stringify({
      error: 'service_unavailable',
      message,
      reason,
      level: sample.level,
      shedRatio: this.#shedRatio,
      retryAfterSeconds: this.options.retryAfterSeconds,
    });
  }
}

/** Creates a load shedder that follows the manager's samples. Throws on an invalid option. */
export function createLoadShedder(manager: MemoryManager, options: LoadShedderOptions = {}): LoadShedder {
  return new LoadShedder(options).attach(manager);
}
