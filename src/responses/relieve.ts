import { isAtLeast, type PressureLevel } from '../analysis/levels.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { formatBytes } from '../util/size.js';
import { invalidOption, numberOption } from '../util/validate.js';
import { EffectivenessTracker } from './effectiveness.js';
import { ForcedGcController, readHeapUsedBytes, type GcSkipReason } from './forced-gc.js';
import { ReleaserRegistry, type ReleaserResult } from './releasers.js';
import {
  clockOption,
  functionOption,
  loggerOption,
  nameOption,
  objectOption,
  pressureLevelArgument,
  rejectUnknownOptions,
  responseLevelOption,
  type ResponseLevel,
} from './response-options.js';

/** The action name under which forced GCs are recorded in the effectiveness tracker. */
export const FORCED_GC_ACTION = 'forced-gc';

export type ReleaserStep = { kind: 'releaser' } & ReleaserResult;

export interface ForcedGcStep {
  kind: 'forced-gc';
  ran: boolean;
  /** The measured pause, or 0 when the GC did not run. */
  durationMs: number;
  /** Heap used before the GC minus after it, or null when it did not run. */
  reclaimedBytes: number | null;
  /** The reason it did not run: the controller's reason, or `below-min-level`. */
  skipped: GcSkipReason | 'below-min-level' | null;
  message: string | null;
}

export type RelieveStep = ReleaserStep | ForcedGcStep;

export interface RelieveError {
  /** The releaser name, or `forced-gc`. */
  step: string;
  message: string;
  timedOut: boolean;
}

/** The result of one `relieve()` call, shaped as an `action` event. */
export interface RelieveAction {
  type: 'action';
  action: 'relieve';
  /** Milliseconds since the epoch, when the call started. */
  time: number;
  /** The cause of the call, such as `pressure` or `manual`. */
  trigger: string;
  level: PressureLevel;
  durationMs: number;
  /** Heap used before the first step minus heap used after the last, or 0 when the heap grew meanwhile. */
  reclaimedBytes: number;
  heapBeforeBytes: number;
  heapAfterBytes: number;
  /** The sum of the byte counts that releasers returned: their own estimates, not a measurement. */
  reportedBytes: number;
  steps: RelieveStep[];
  /** One entry per step that threw, rejected, timed out or failed. */
  errors: RelieveError[];
}

export interface RelieveOptions {
  releasers: ReleaserRegistry;
  /** Forces a full GC after the releasers. Default null: no forced GC. */
  forcedGc?: ForcedGcController | null;
  /** Records what each action reclaimed, and skips releasers that do not pay below critical. Default null. */
  effectiveness?: EffectivenessTracker | null;
  /** The lowest level at which a forced GC is attempted. Default `'moderate'`. */
  gcMinLevel?: ResponseLevel;
  /** Returns heap used in bytes. Default `v8.getHeapStatistics().used_heap_size`. */
  measureHeapUsedBytes?: () => number;
  clock?: Clock;
  logger?: Logger;
}

export interface RelieveRequestOptions {
  /** The event-loop utilization (0 to 1) the forced-GC controller weighs. Omit when unknown. */
  loopUtilization?: number;
}

const KNOWN_OPTIONS = ['releasers', 'forcedGc', 'effectiveness', 'gcMinLevel', 'measureHeapUsedBytes', 'clock', 'logger'] as const;

/**
 * Runs the pressure responses in order: the releasers for the level, then a
 * forced GC when the controller allows it, so the memory the releasers let go
 * is reclaimed at once and measured.
 *
 * Overlapping calls are safe: a releaser still running from an earlier call is
 * skipped, and the GC cooldown spaces forced GCs.
 */
export class Reliever {
  readonly #releasers: ReleaserRegistry;
  readonly #forcedGc: ForcedGcController | null;
  readonly #effectiveness: EffectivenessTracker | null;
  readonly #gcMinLevel: ResponseLevel;
  readonly #measureHeapUsedBytes: () => number;
  readonly #clock: Clock;
  readonly #logger: Logger;

  constructor(options: RelieveOptions) {
    if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object with at least releasers', options, 'type');
    const resolved = objectOption('options', options);
    rejectUnknownOptions('options', resolved, KNOWN_OPTIONS);

    if (!(resolved.releasers instanceof ReleaserRegistry)) {
      throw invalidOption('releasers', 'a ReleaserRegistry from createReleaserRegistry()', resolved.releasers, 'type');
    }
    this.#releasers = resolved.releasers;
    this.#forcedGc = instanceOrNull('forcedGc', resolved.forcedGc, ForcedGcController, 'a ForcedGcController or null');
    this.#effectiveness = instanceOrNull('effectiveness', resolved.effectiveness, EffectivenessTracker, 'an EffectivenessTracker or null');
    this.#gcMinLevel = responseLevelOption('gcMinLevel', resolved.gcMinLevel, 'moderate');
    this.#measureHeapUsedBytes = functionOption('measureHeapUsedBytes', resolved.measureHeapUsedBytes, readHeapUsedBytes);
    this.#clock = clockOption(resolved.clock);
    this.#logger = loggerOption(resolved.logger);
  }

  /** Runs the releasers for `level`, then a forced GC if allowed, and returns what was done and reclaimed. */
  async relieve(level: PressureLevel, trigger: string, options: RelieveRequestOptions = {}): Promise<RelieveAction> {
    pressureLevelArgument('level', level);
    nameOption('trigger', trigger, 100);
    const loopUtilization = options.loopUtilization === undefined ? undefined : numberOption('loopUtilization', options.loopUtilization, 0, 0, 1);

    const time = this.#clock.epochNow();
    const startMs = this.#clock.now();
    const heapBeforeBytes = this.#measureHeapUsedBytes();

    const releaserSteps = await this.#runReleasers(level, trigger);
    const gcStep = this.#runForcedGc(level, loopUtilization);
    const steps: RelieveStep[] = gcStep ? [...releaserSteps, gcStep] : releaserSteps;

    const heapAfterBytes = this.#measureHeapUsedBytes();
    const action: RelieveAction = {
      type: 'action',
      action: 'relieve',
      time,
      trigger,
      level,
      durationMs: Math.max(0, this.#clock.now() - startMs),
      reclaimedBytes: Math.max(0, heapBeforeBytes - heapAfterBytes),
      heapBeforeBytes,
      heapAfterBytes,
      reportedBytes: releaserSteps.reduce((sum, step) => sum + (step.reportedBytes ?? 0), 0),
      steps,
      errors: collectErrors(steps),
    };

    this.#logger.info(
      { action: action.action, trigger, pressureLevel: level, durationMs: action.durationMs, reclaimedBytes: action.reclaimedBytes, errors: action.errors.length },
      `headroom: relieve at ${level} (${trigger}) reclaimed ${formatBytes(action.reclaimedBytes)} in ${Math.round(action.durationMs)} ms`,
    );
    return action;
  }

  async #runReleasers(level: PressureLevel, trigger: string): Promise<ReleaserStep[]> {
    const tracker = this.#effectiveness;
    // At critical every releaser runs, paying or not, because the process is about to die.
    const skip = tracker && level !== 'critical' ? (name: string) => tracker.shouldSkip(name) : undefined;

    const results = await this.#releasers.run(level, trigger, { skip });
    for (const result of results) {
      if (tracker && result.ok && result.skipped === null && result.reportedBytes !== null) {
        tracker.record(result.name, result.reportedBytes, result.durationMs);
      }
    }

    return results.map((result) => ({ kind: 'releaser', ...result }));
  }

  #runForcedGc(level: PressureLevel, loopUtilization: number | undefined): ForcedGcStep | null {
    if (!this.#forcedGc) return null;

    if (!isAtLeast(level, this.#gcMinLevel)) {
      const message = `level ${level} is below gcMinLevel ${this.#gcMinLevel}`;
      return { kind: 'forced-gc', ran: false, durationMs: 0, reclaimedBytes: null, skipped: 'below-min-level', message };
    }

    const result = this.#forcedGc.run(loopUtilization === undefined ? { level } : { level, loopUtilization });
    if (!result.ran) {
      return { kind: 'forced-gc', ran: false, durationMs: 0, reclaimedBytes: null, skipped: result.reason, message: result.message };
    }

    this.#effectiveness?.record(FORCED_GC_ACTION, result.reclaimedBytes, result.pauseMs);
    return { kind: 'forced-gc', ran: true, durationMs: result.pauseMs, reclaimedBytes: result.reclaimedBytes, skipped: null, message: null };
  }
}

/** Creates a reliever over a releaser registry and, optionally, a forced-GC controller. Throws on an invalid option. */
export function createReliever(options: RelieveOptions): Reliever {
  return new Reliever(options);
}

function collectErrors(steps: readonly RelieveStep[]): RelieveError[] {
  const errors: RelieveError[] = [];
  for (const step of steps) {
    if (step.kind === 'releaser' && !step.ok) {
      errors.push({ step: step.name, message: step.error ?? 'failed', timedOut: step.timedOut });
    } else if (step.kind === 'forced-gc' && step.skipped === 'failed') {
      errors.push({ step: FORCED_GC_ACTION, message: step.message ?? 'failed', timedOut: false });
    }
  }
  return errors;
}

function instanceOrNull<T>(name: string, value: unknown, type: abstract new (...args: never[]) => T, rule: string): T | null {
  if (value === undefined || value === null) return null;
  if (!(value instanceof type)) throw invalidOption(name, rule, value, 'type');
  return value;
}
