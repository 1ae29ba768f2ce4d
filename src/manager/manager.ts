import { EventEmitter } from 'node:events';
import { effectiveLimit, type EffectiveLimit, type LimitReadings } from '../analysis/limits.js';
import { isAtLeast, levelRank, PRESSURE_LEVELS, type PressureLevel } from '../analysis/levels.js';
import { PressureTracker } from '../analysis/pressure.js';
import { Responder, type ActionEvent, type ResponderStatus, type SingleAction } from '../responses/responder.js';
import type { RelieveAction } from '../responses/relieve.js';
import type { ReleaserDefinition } from '../responses/releasers.js';
import { LeakDetector } from '../analysis/leak-detector.js';
import type { LeakEvent } from '../analysis/leak-events.js';
import { LiveSetEstimator } from '../analysis/live-set.js';
import type { GrowthSource } from '../responses/heap-snapshot.js';
import { ListenerWarningTracker, type ListenerWarning } from '../sampling/listener-warnings.js';
import { NodeProbe } from '../sampling/node-probe.js';
import { WorkerHeapBoard, watchWorker } from '../sampling/worker-heaps.js';
import type { Worker } from 'node:worker_threads';
import type { Probe } from '../sampling/probe.js';
import type { Sample } from '../sampling/sample.js';
import { expectedHeapFailureBytes, Sampler, type Reading } from '../sampling/sampler.js';
import type { LimitsSnapshot, MemoryManagerEvents, PressureEvent, WarningEvent } from './events.js';
import { resolveOptions, type MemoryManagerOptions, type ResolvedOptions } from './options.js';
import { checkHeapAgainstProcessLimit } from './startup-warnings.js';

/** Counters about the manager itself. */
export interface ManagerStats {
  samples: number;
  /** Samples that failed to be taken; each is logged. */
  sampleErrors: number;
  /** Event listeners that threw; each is logged and the others still run. */
  listenerErrors: number;
}

/**
 * Watches this process: one sample per interval, the effective limits, and a
 * pressure level with events when it changes.
 */
export class MemoryManager extends EventEmitter<MemoryManagerEvents> {
  readonly #options: ResolvedOptions;
  readonly #probe: Probe;
  readonly #sampler: Sampler;
  readonly #pressure: PressureTracker;
  readonly #responder: Responder;
  readonly #liveSet = new LiveSetEstimator();
  readonly #leaks: LeakDetector | null;
  readonly #listenerWarnings: ListenerWarningTracker;
  #workerHeaps: WorkerHeapBoard | null = null;
  #lastGcSampleMs = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | null = null;
  /** The interval asked for; under high or critical pressure the timer runs at `pressureIntervalMs` instead. */
  #baseIntervalMs: number;
  #intervalMs: number;
  #startedAtMs = 0;
  #limitsReadAtMs = 0;
  #limitReadings: LimitReadings;
  #limit: EffectiveLimit = { limitBytes: null, source: null };
  #latest: Sample | null = null;
  /** Startup warnings given so far; one per code, so a handful at most. */
  readonly #warnings: WarningEvent[] = [];
  readonly #stats: ManagerStats = { samples: 0, sampleErrors: 0, listenerErrors: 0 };

  constructor(options: MemoryManagerOptions = {}) {
    super();
    this.#options = resolveOptions(options);
    this.#baseIntervalMs = this.#options.intervalMs;
    this.#intervalMs = this.#options.intervalMs;

    // Sampling and pressure.
    this.#probe = this.#options.probe ?? new NodeProbe({ eventLoopResolutionMs: this.#options.eventLoopResolutionMs });
    this.#sampler = new Sampler(this.#probe, this.#options.clock, this.#options.arrayBuffersEverySamples);
    this.#pressure = new PressureTracker({
      thresholds: this.#options.thresholds,
      hysteresisRatio: this.#options.hysteresisRatio,
      warmUpMs: this.#options.warmUpMs,
    });
    this.#limitReadings = {
      cgroupV2Bytes: null,
      cgroupV1Bytes: null,
      constrainedMemoryBytes: null,
      configuredBytes: this.#options.configuredLimitBytes,
    };

    // Analysis beyond the level: listener warnings, leaks and the live set.
    this.#listenerWarnings = new ListenerWarningTracker(
      () => this.#options.clock.epochNow(),
      (warning) => {
        this.#options.logger.warn({ ...warning }, `headroom: too many '${warning.eventName}' listeners on a ${warning.emitter}`);
        this.#emitSafely('listener-warning', warning);
      },
    );
    this.#leaks = this.#options.leakDetection === false ? null : new LeakDetector(this.#options.leakDetection);
    this.#probe.onMajorGc?.((heapUsedBytes) => {
      this.#liveSet.recordAfterMajorGc(heapUsedBytes, this.#options.clock.now());
      this.#sampleIfLevelRises(heapUsedBytes);
    });

    // Responses to pressure.
    this.#responder = new Responder(this.#options.responses, {
      clock: this.#options.clock,
      logger: this.#options.logger,
      latest: () => this.#latest,
      emit: (action: ActionEvent) => this.#emitSafely('action', action),
    });
  }

  get running(): boolean {
    return this.#timer !== null;
  }

  get level(): PressureLevel {
    return this.#pressure.level;
  }

  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** The latest sample, or null before the first one. */
  get latest(): Sample | null {
    return this.#latest;
  }

  /** Warnings about the setup given since start, such as a heap limit above the process limit. */
  get warnings(): readonly WarningEvent[] {
    return [...this.#warnings];
  }

  get stats(): Readonly<ManagerStats> {
    return { ...this.#stats };
  }

  limits(): LimitsSnapshot {
    return {
      heapLimitBytes: this.#latest?.heapLimitBytes ?? this.#probe.heap().limitBytes,
      limitBytes: this.#limit.limitBytes,
      limitSource: this.#limit.source,
      readings: { ...this.#limitReadings },
    };
  }

  /** Starts sampling. Calling it while running does nothing. */
  start(): this {
    if (this.#timer) return this;

    this.#probe.start();
    this.#listenerWarnings.start();
    // Worker figures older than three intervals are dropped: that worker has stopped reporting.
    this.#workerHeaps = new WorkerHeapBoard(3 * this.#options.intervalMs, () => this.#options.clock.epochNow());
    this.#startedAtMs = this.#options.clock.now();
    this.#sampler.reset();
    this.#refreshLimits();
    this.#warnIfHeapAboveLimit(this.#probe.heap().limitBytes);

    this.#timer = setTimeout(() => this.#tick(), this.#intervalMs);
    this.#timer.unref();
    return this;
  }

  /** Stops sampling and releases every timer, observer and histogram. Listeners added by the caller stay. */
  stop(): this {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#probe.stop();
    this.#listenerWarnings.stop();
    this.#workerHeaps?.close();
    this.#workerHeaps = null;
    return this;
  }

  /** Changes the time between samples from the next one on. Throws on an invalid value, as the option does. */
  setIntervalMs(value: number | string): void {
    this.#baseIntervalMs = resolveOptions({ intervalMs: value, logger: this.#options.logger }).intervalMs;
    this.#rescheduleForLevel();
  }

  /** Samples faster at high and critical, where a fast leak can cross the rest of the budget between two samples. */
  #rescheduleForLevel(): void {
    let intervalMs = this.#baseIntervalMs;
    if (isAtLeast(this.#pressure.level, 'high')) intervalMs = Math.min(intervalMs, this.#options.pressureIntervalMs);
    if (intervalMs === this.#intervalMs) return;

    this.#intervalMs = intervalMs;
    if (!this.#timer) return;

    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#tick(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Takes a sample now, applies it, emits its events and returns it. */
  sampleNow(): Sample {
    const reading = this.#sampler.read();
    if (reading.monotonicMs - this.#limitsReadAtMs >= this.#options.limitRefreshMs) this.#refreshLimits();

    const live = this.#liveSet.update({ monotonicMs: reading.monotonicMs, heapUsedBytes: reading.heapUsedBytes, gc: reading.gc });
    const sample = this.#applyPressure(reading, live.liveBytes);
    this.#detectLeaks(sample, reading.monotonicMs, live.ageMs);
    this.#shareWorkerHeaps(sample);
    this.#rescheduleForLevel();
    this.#latest = sample;
    this.#stats.samples++;
    this.#emitSafely('sample', sample);
    this.#responder.onSample(sample, this.#growthSource());
    return sample;
  }

  /** Returns every `MaxListenersExceededWarning` since start, by emitter class and event name. */
  listenerWarnings(): ListenerWarning[] {
    return this.#listenerWarnings.list();
  }

  /**
   * Reports a worker thread's errors as `worker-error` events, so a worker that
   * runs out of heap (`ERR_WORKER_OUT_OF_MEMORY`) does not crash this thread.
   * Every error of that worker is then handled here. Returns a function that stops watching.
   */
  watchWorker(worker: Worker): () => void {
    return watchWorker(worker, () => this.#options.clock.epochNow(), (event) => {
      this.#options.logger.error({ ...event }, `headroom: worker ${event.threadId} failed: ${event.message}`);
      this.#emitSafely('worker-error', event);
    });
  }

  /** In a worker thread, publishes this sample's heap; in the main thread, adds the workers' totals to it. */
  #shareWorkerHeaps(sample: Sample): void {
    if (!this.#workerHeaps) return;

    this.#workerHeaps.publish({ heapUsedBytes: sample.heapUsedBytes, heapLimitBytes: sample.heapLimitBytes, liveBytes: sample.liveBytes, time: sample.time });
    sample.workers = this.#workerHeaps.totals();
  }

  /**
   * Takes a sample at once when a major GC leaves more live heap than the next
   * level's threshold, instead of waiting for the timer: a fast leak can cross
   * the last tenth of the budget between two timed samples. At most one such
   * sample per `MIN_GC_SAMPLE_GAP_MS`.
   */
  #sampleIfLevelRises(liveBytes: number): void {
    const latest = this.#latest;
    if (!this.#timer || !latest || latest.heapBudgetBytes <= 0) return;

    const now = this.#options.clock.now();
    if (now - this.#lastGcSampleMs < MIN_GC_SAMPLE_GAP_MS) return;

    const next = PRESSURE_LEVELS[levelRank(this.#pressure.level) + 1];
    if (next === undefined || next === 'normal') return;
    if (liveBytes / latest.heapBudgetBytes < this.#options.thresholds[next]) return;

    this.#lastGcSampleMs = now;
    try {
      this.sampleNow();
    } catch (err) {
      this.#stats.sampleErrors++;
      this.#options.logger.error({ err, sampleErrors: this.#stats.sampleErrors }, 'headroom: failed to take a sample after a GC');
    }
  }

  /** Leaks being reported now: one per kind (and per resource type), each until its `leak-cleared`. */
  activeLeaks(): LeakEvent[] {
    return this.#leaks?.activeLeaks() ?? [];
  }

  /** Updates the leak detector with a sample, sets its forecast, and emits leak events. */
  #detectLeaks(sample: Sample, monotonicMs: number, liveAgeMs: number): void {
    if (!this.#leaks) return;

    const update = this.#leaks.update({
      time: sample.time,
      monotonicMs,
      liveBytes: sample.liveBytes,
      liveAgeMs,
      majorGcCount: sample.gc.byKind.major.count,
      heapTotalBytes: sample.heapTotalBytes,
      heapBudgetBytes: sample.heapBudgetBytes,
      heapFailureBytes: expectedHeapFailureBytes(sample.heapBudgetBytes),
      externalBytes: sample.externalBytes,
      rssBytes: sample.rssBytes,
      limitBytes: sample.limitBytes,
      ...(this.#probe.resources ? { resources: this.#probe.resources() } : {}),
    });
    sample.timeToLimitMs = update.forecast.timeToLimitMs;

    for (const event of update.events) {
      this.#options.logger.warn({ ...event }, `headroom: ${event.type} (${event.kind})`);
      if (event.type === 'leak') this.#emitSafely('leak', event);
      else this.#emitSafely('leak-cleared', event);
    }
  }

  /** The kind of memory that is growing, so a heap snapshot is not taken for growth it would not show. */
  #growthSource(): GrowthSource {
    const kinds = new Set(this.activeLeaks().map((leak) => leak.kind));
    if (kinds.has('heap')) return 'heap';
    if (kinds.has('external')) return 'external';
    if (kinds.has('native')) return 'native';
    return 'unknown';
  }

  /**
   * Registers something the application can free under pressure: a name, a
   * priority, the lowest level it acts at, and `release(level, signal)`.
   * Returns a function that unregisters it.
   */
  registerReleaser(definition: ReleaserDefinition): () => boolean {
    return this.#responder.registerReleaser(definition);
  }

  /**
   * Frees memory now: runs the releasers for `level` (default: the current
   * level, at least moderate), then a forced GC if available and paying.
   */
  relieve(level: PressureLevel = maxLevel(this.level, 'moderate'), trigger = 'manual'): Promise<RelieveAction> {
    return this.#responder.relieve(level, trigger);
  }

  /** Forces a full GC unless its cooldown forbids it; a manual request is treated as critical, so a busy loop does not block it. */
  forceGc(trigger = 'manual'): SingleAction {
    return this.#responder.forceGc(this.level, trigger, 'critical');
  }

  /** Writes a heap snapshot when `responses.heapSnapshot` is configured and there is room under the limit. */
  writeSnapshot(trigger = 'manual'): SingleAction {
    return this.#responder.writeSnapshot(this.level, trigger);
  }

  /** Releasers, forced GC and snapshot figures, including why forced GC is unavailable when it is. */
  responses(): ResponderStatus {
    return this.#responder.status();
  }

  #tick(): void {
    try {
      this.sampleNow();
    } catch (err) {
      this.#stats.sampleErrors++;
      this.#options.logger.error({ err, sampleErrors: this.#stats.sampleErrors }, 'headroom: failed to take a sample');
    }

    // refresh() re-arms the same timer after the work, so samples never overlap. A timer
    // replaced by #rescheduleForLevel during the work is already armed.
    this.#timer?.refresh();
  }

  #applyPressure(reading: Reading, liveBytes: number): Sample {
    const limitBytes = this.#limit.limitBytes;
    const heapUsageRatio = reading.heapBudgetBytes > 0 ? liveBytes / reading.heapBudgetBytes : 0;
    const processUsageRatio = limitBytes === null ? null : reading.rssBytes / limitBytes;
    const elapsedMs = reading.monotonicMs - this.#startedAtMs;
    const update = this.#pressure.update({ heapUsageRatio, processUsageRatio }, elapsedMs);

    // A literal naming each field: object rest and spread cost several µs here.
    const sample: Sample = {
      time: reading.time,
      intervalMs: reading.intervalMs,
      heapUsedBytes: reading.heapUsedBytes,
      heapTotalBytes: reading.heapTotalBytes,
      heapLimitBytes: reading.heapLimitBytes,
      heapBudgetBytes: reading.heapBudgetBytes,
      externalBytes: reading.externalBytes,
      arrayBuffersBytes: reading.arrayBuffersBytes,
      rssBytes: reading.rssBytes,
      spaces: reading.spaces,
      gc: reading.gc,
      eventLoop: reading.eventLoop,
      liveBytes,
      timeToLimitMs: null,
      workers: { count: 0, heapUsedBytes: 0, heapLimitBytes: 0, liveBytes: 0 },
      limitBytes,
      heapUsageRatio,
      processUsageRatio,
      level: update.level,
      budget: update.budget,
    };

    if (update.changed) {
      const event: PressureEvent = {
        type: 'pressure',
        time: reading.time,
        from: update.previous,
        to: update.level,
        budget: update.budget,
        usageRatio: update.usageRatio,
        heapUsedBytes: reading.heapUsedBytes,
        liveBytes,
        heapLimitBytes: reading.heapLimitBytes,
        heapBudgetBytes: reading.heapBudgetBytes,
        rssBytes: reading.rssBytes,
        limitBytes,
      };
      this.#options.logger.info({ ...event }, `headroom: pressure ${event.from} -> ${event.to}`);
      this.#emitSafely('pressure', event);
    }

    return sample;
  }

  #refreshLimits(): void {
    const platform = this.#probe.limits();
    this.#limitReadings = { ...platform, configuredBytes: this.#options.configuredLimitBytes };
    this.#limit = effectiveLimit(this.#limitReadings);
    this.#limitsReadAtMs = this.#options.clock.now();
  }

  #warnIfHeapAboveLimit(heapLimitBytes: number): void {
    const warning = checkHeapAgainstProcessLimit(heapLimitBytes, this.#limit, this.#options.clock.epochNow());
    if (!warning) return;

    this.#warnings.push(warning);
    // process.emitWarning already printed it; an injected logger gets it too.
    if (this.#options.loggerInjected) this.#options.logger.warn({ code: warning.code, heapLimitBytes, limitBytes: this.#limit.limitBytes }, warning.message);
    this.#emitSafely('warning', warning);
  }

  /** Calls each listener in its own try/catch, so one failing listener neither stops the others nor the sampler. */
  #emitSafely<K extends keyof MemoryManagerEvents>(name: K, ...args: MemoryManagerEvents[K]): void {
    // rawListeners() returns the wrappers that once() installs, which remove themselves when called.
    // listeners() unwraps them, so a once() listener would run on every event.
    for (const listener of this.rawListeners(name) as Array<(...values: MemoryManagerEvents[K]) => void>) {
      try {
        listener.apply(this, args);
      } catch (err) {
        this.#stats.listenerErrors++;
        this.#options.logger.error({ err, event: name, listenerErrors: this.#stats.listenerErrors }, `headroom: a '${name}' listener threw`);
      }
    }
  }
}

/** The minimum time between two samples taken because a GC left the heap above the next threshold. */
const MIN_GC_SAMPLE_GAP_MS = 50;

function maxLevel(a: PressureLevel, b: PressureLevel): PressureLevel {
  return isAtLeast(a, b) ? a : b;
}

/** Creates a memory manager; call `start()` to begin sampling. Throws on an invalid option. */
export function createMemoryManager(options: MemoryManagerOptions = {}): MemoryManager {
  return new MemoryManager(options);
}
