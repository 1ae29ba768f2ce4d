import { isAtLeast, type PressureLevel } from '../analysis/levels.js';
import type { Sample } from '../sampling/sample.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { objectOption } from '../util/options.js';
import { durationOption, invalidOption, nestedOptionError } from '../util/validate.js';
import { createEffectivenessTracker, type ActionEffectiveness } from './effectiveness.js';
import { createForcedGcController, type ForcedGcController, type ForcedGcOptions, type ForcedGcStats } from './forced-gc.js';
import { createHeapSnapshotWriter, type GrowthSource, type HeapSnapshotWriter, type HeapSnapshotWriterOptions } from './heap-snapshot.js';
import { createReleaserRegistry, type ReleaserDefinition, type ReleaserRegistry, type ReleaserStats } from './releasers.js';
import { createReliever, type RelieveAction, type Reliever } from './relieve.js';

/** Options for what headroom does under pressure. */
export interface ResponseOptions {
  /** Run releasers (and a forced GC when it pays) on its own at high and critical. Default true. */
  automatic?: boolean;
  /** The minimum time between two automatic actions at the same level. Default 10 s. */
  actionCooldownMs?: number | string;
  /** How long an async releaser may run. Default 1 s. */
  releaserTimeoutMs?: number | string;
  /** Forced-GC settings, or false to never force a collection. Default: used when `gc` is exposed. */
  forcedGc?: false | Omit<ForcedGcOptions, 'clock' | 'logger'>;
  /** Heap snapshots near the limit, off unless a directory is given. */
  heapSnapshot?: false | Omit<HeapSnapshotWriterOptions, 'clock' | 'logger'>;
}

/** An explicit forced GC or snapshot, reported in the same shape as `relieve()`. */
export interface SingleAction {
  type: 'action';
  action: 'forced-gc' | 'heap-snapshot';
  time: number;
  trigger: string;
  level: PressureLevel;
  durationMs: number;
  reclaimedBytes: number;
  /** False when the action was skipped; `reason` and `message` then give the cause. */
  done: boolean;
  reason: string | null;
  message: string | null;
  /** The snapshot file, for a written heap snapshot. */
  path?: string;
  errors: Array<{ step: string; message: string; timedOut: boolean }>;
}

export type ActionEvent = RelieveAction | SingleAction;

/** Figures of the responses, for health routes and metrics: counters, forced-GC state and snapshots. */
export interface ResponderStatus {
  automatic: boolean;
  forcedGc: ForcedGcStats;
  releasers: ReleaserStats[];
  effectiveness: ActionEffectiveness[];
  heapSnapshots: { enabled: boolean; written: string[] };
  actions: { total: number; reclaimedBytes: number; errors: number };
}

interface ResponderContext {
  clock: Clock;
  logger: Logger;
  latest: () => Sample | null;
  /** Called with every action, automatic or not. */
  emit: (action: ActionEvent) => void;
}

const KNOWN_OPTIONS = new Set(['automatic', 'actionCooldownMs', 'releaserTimeoutMs', 'forcedGc', 'heapSnapshot']);

/**
 * Frees memory under pressure: the application's releasers first, then a
 * forced GC when it has been paying, then at critical one heap snapshot when
 * configured and there is room. Automatic actions run at high and critical,
 * each level at most once per `actionCooldownMs`.
 */
export class Responder {
  readonly #context: ResponderContext;
  readonly #automatic: boolean;
  readonly #cooldownMs: number;
  readonly #releasers: ReleaserRegistry;
  readonly #forcedGc: ForcedGcController;
  readonly #reliever: Reliever;
  readonly #snapshots: HeapSnapshotWriter | null;
  readonly #effectiveness = createEffectivenessTracker();
  readonly #lastAutomaticMs = new Map<PressureLevel, number>();
  readonly #totals = { total: 0, reclaimedBytes: 0, errors: 0 };
  #automaticRunning = false;
  #automaticSnapshotTaken = false;

  constructor(options: ResponseOptions = {}, context: ResponderContext) {
    if (typeof options !== 'object' || options === null) throw invalidOption('responses', 'an object', options, 'type');
    for (const key of Object.keys(options)) {
      if (!KNOWN_OPTIONS.has(key)) throw invalidOption(`responses.${key}`, `one of ${[...KNOWN_OPTIONS].join(', ')}`, (options as Record<string, unknown>)[key], 'type');
    }
    if (options.automatic !== undefined && typeof options.automatic !== 'boolean') {
      throw invalidOption('responses.automatic', 'true or false', options.automatic, 'type');
    }

    const { clock, logger } = context;
    this.#context = context;
    this.#automatic = options.automatic ?? true;
    this.#cooldownMs = durationOption('responses.actionCooldownMs', options.actionCooldownMs, 10_000, 0, 3_600_000);
    this.#releasers = createReleaserRegistry({ timeoutMs: options.releaserTimeoutMs ?? 1000, clock, logger });
    const forcedGc = options.forcedGc === false ? false : objectOption('responses.forcedGc', options.forcedGc, 'an object of forced-GC options, or false');
    const heapSnapshot = options.heapSnapshot === undefined || options.heapSnapshot === false ? null : objectOption('responses.heapSnapshot', options.heapSnapshot, 'an object with at least a directory, or false');
    try {
      this.#forcedGc = createForcedGcController(forcedGc === false ? { gc: false, clock, logger } : { ...forcedGc, clock, logger });
    } catch (err) {
      throw nestedOptionError(err, 'responses.forcedGc');
    }
    this.#reliever = createReliever({
      releasers: this.#releasers,
      forcedGc: this.#forcedGc,
      effectiveness: this.#effectiveness,
      gcMinLevel: 'high',
      clock,
      logger,
    });
    try {
      this.#snapshots = heapSnapshot ? createHeapSnapshotWriter({ ...(heapSnapshot as HeapSnapshotWriterOptions), clock, logger }) : null;
    } catch (err) {
      throw nestedOptionError(err, 'responses.heapSnapshot');
    }
  }

  /** Registers something the application can free. Returns a function that unregisters it. */
  registerReleaser(definition: ReleaserDefinition): () => boolean {
    return this.#releasers.register(definition);
  }

  /** Runs the releasers for `level`, then a forced GC if it pays, and reports the action. */
  async relieve(level: PressureLevel, trigger: string): Promise<RelieveAction> {
    const loopUtilization = this.#context.latest()?.eventLoop.utilization;
    const action = await this.#reliever.relieve(level, trigger, loopUtilization === undefined ? {} : { loopUtilization });
    this.#record(action);
    return action;
  }

  /**
   * Forces a full GC now unless its cooldown or a busy loop forbids it. Its
   * guards judge `guardLevel`, so critical lets a manual call pass a busy loop.
   * The action reports `level`, the level the process is at.
   */
  forceGc(level: PressureLevel, trigger: string, guardLevel: PressureLevel = level): SingleAction {
    const time = this.#context.clock.epochNow();
    const loopUtilization = this.#context.latest()?.eventLoop.utilization;
    const result = this.#forcedGc.run(loopUtilization === undefined ? { level: guardLevel } : { level: guardLevel, loopUtilization });

    const action: SingleAction = result.ran
      ? { ...base('forced-gc', time, trigger, level), durationMs: result.pauseMs, reclaimedBytes: result.reclaimedBytes, done: true }
      : { ...base('forced-gc', time, trigger, level), reason: result.reason, message: result.message };
    this.#record(action);
    return action;
  }

  /** Writes a heap snapshot when one is configured and there is room for it. */
  writeSnapshot(level: PressureLevel, trigger: string, growth: GrowthSource = 'unknown'): SingleAction {
    const time = this.#context.clock.epochNow();
    if (!this.#snapshots) {
      const action = { ...base('heap-snapshot', time, trigger, level), reason: 'disabled', message: 'heap snapshots are off: set responses.heapSnapshot.directory to enable them' };
      this.#record(action);
      return action;
    }

    const result = this.#snapshots.write({ limitBytes: this.#context.latest()?.limitBytes ?? null, growth });
    const action: SingleAction = result.written
      ? { ...base('heap-snapshot', time, trigger, level), durationMs: result.durationMs, done: true, path: result.path }
      : { ...base('heap-snapshot', time, trigger, level), reason: result.reason, message: result.message };
    this.#record(action);
    return action;
  }

  /**
   * Acts on a new sample when automatic responses are on. At high and
   * critical it relieves at most once per cooldown per level. At critical it
   * also writes one heap snapshot, if configured and the growth is on the heap.
   */
  onSample(sample: Sample, growth: GrowthSource): void {
    if (!this.#automatic || this.#automaticRunning || !isAtLeast(sample.level, 'high')) return;

    const now = this.#context.clock.now();
    const last = this.#lastAutomaticMs.get(sample.level);
    if (last !== undefined && now - last < this.#cooldownMs) return;

    this.#lastAutomaticMs.set(sample.level, now);
    this.#automaticRunning = true;
    void this.relieve(sample.level, 'pressure')
      .then(() => {
        if (sample.level === 'critical' && this.#snapshots && !this.#automaticSnapshotTaken && growth !== 'external' && growth !== 'native') {
          this.#automaticSnapshotTaken = true;
          this.writeSnapshot('critical', 'pressure', growth);
        }
      })
      .catch((err: unknown) => this.#context.logger.error({ err, pressureLevel: sample.level }, 'headroom: automatic relieve failed'))
      .finally(() => {
        this.#automaticRunning = false;
      });
  }

  status(): ResponderStatus {
    return {
      automatic: this.#automatic,
      forcedGc: this.#forcedGc.stats(),
      releasers: this.#releasers.stats(),
      effectiveness: this.#effectiveness.list(),
      heapSnapshots: { enabled: this.#snapshots !== null, written: this.#snapshots?.listSnapshots() ?? [] },
      actions: { ...this.#totals },
    };
  }

  #record(action: ActionEvent): void {
    this.#totals.total++;
    this.#totals.reclaimedBytes += action.reclaimedBytes;
    this.#totals.errors += action.errors.length;
    this.#context.emit(action);
  }
}

function base(action: SingleAction['action'], time: number, trigger: string, level: PressureLevel): SingleAction {
  return { type: 'action', action, time, trigger, level, durationMs: 0, reclaimedBytes: 0, done: false, reason: null, message: null, errors: [] };
}
