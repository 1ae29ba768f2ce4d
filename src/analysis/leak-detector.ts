import type { Sample } from '../sampling/sample.js';
import { combineForecasts, NO_FORECAST, timeToLimitMs, type Forecast } from './forecast.js';
import { assessGrowth, sliceMedians, type GrowthAssessment, type GrowthRules } from './growth.js';
import {
  MEMORY_LEAK_KINDS,
  type LeakClearedEvent,
  type LeakEvent,
  type LeakKind,
  type MemoryLeakEvent,
  type MemoryLeakKind,
  type ResourceLeakEvent,
} from './leak-events.js';
import { resolveLeakDetectorOptions, type LeakDetectorOptions, type ResolvedLeakDetectorOptions } from './leak-options.js';
import { robustSlope } from './robust-slope.js';
import { WindowedSeries } from './windowed-series.js';

/** The fields of a sample the detector reads, plus the live set, the monotonic time and optional resource counts. */
export interface LeakReading extends Pick<Sample, 'time' | 'heapTotalBytes' | 'heapBudgetBytes' | 'externalBytes' | 'rssBytes' | 'limitBytes'> {
  /** Monotonic milliseconds, as `performance.now()` returns them; windows are measured on this clock. */
  monotonicMs: number;
  /** The live-set estimate for this sample, from `LiveSetEstimator`. */
  liveBytes: number;
  /** Major GCs in the interval that ends at this reading: `sample.gc.byKind.major.count`. */
  majorGcCount: number;
  /** Active resources by type, as `countResources(process.getActiveResourcesInfo())` returns them. Omit to skip. */
  resources?: Readonly<Record<string, number>>;
}

export interface LeakUpdate {
  /** Leak and leak-cleared events caused by this reading, usually none. */
  events: Array<LeakEvent | LeakClearedEvent>;
  forecast: Forecast;
}

interface ActiveLeak {
  event: LeakEvent;
  detectedAtMs: number;
  /** Median of the first slice when the leak was reported: falling back to it means the memory was freed. */
  startLevel: number;
  ratePerSecond: number;
}

interface TrackedSeries {
  kind: LeakKind;
  /** The resource type for `resources`, null for the memory kinds. */
  resourceType: string | null;
  series: WindowedSeries;
  active: ActiveLeak | null;
  /** Monotonic time since when every update has passed the growth rules, or null. */
  passingSinceMs: number | null;
}

/**
 * Detects steady growth of the live set, external memory, native memory and
 * active resource counts, and forecasts the time until a budget runs out.
 * Call `update` once per sample; it returns the events caused by that sample.
 *
 * A kind is reported once when its window passes every rule of `assessGrowth`
 * and cleared with hysteresis: when its slope falls below `clearRateRatio` of
 * the minimum rate, or its level falls back to where the growth began. Each
 * kind has its own series, so growth of external or native memory is never
 * reported as a heap leak.
 *
 * Bounded: each series keeps at most `maxPointsPerSeries` points (64 by
 * default), and there are four memory series (live set, external, native, RSS)
 * plus at most `maxResourceTypes` resource series (32 by default). Theil-Sen on
 * 64 points takes 2016 pairwise slopes, and it runs only for a series that
 * passed the cheaper rules or has an active leak.
 */
export class LeakDetector {
  readonly #options: ResolvedLeakDetectorOptions;
  /** Monotonic time of the first update; null before it. */
  #startMs: number | null = null;
  readonly #memory: Record<MemoryLeakKind, TrackedSeries>;
  /** RSS, for the process budget's forecast. */
  readonly #rss: WindowedSeries;
  /** At most `maxResourceTypes` entries. */
  readonly #resources = new Map<string, TrackedSeries>();
  #forecast: Forecast = { ...NO_FORECAST };
  /** Monotonic time of the latest reading whose interval held a major GC, or null. */
  #lastMajorGcMs: number | null = null;

  /** Throws a TypeError or RangeError naming the option when one is invalid. */
  constructor(options: LeakDetectorOptions = {}) {
    this.#options = resolveLeakDetectorOptions(options);
    this.#memory = {
      heap: this.#track('heap', null),
      external: this.#track('external', null),
      native: this.#track('native', null),
    };
    this.#rss = this.#createSeries();
  }

  get options(): Readonly<ResolvedLeakDetectorOptions> {
    return this.#options;
  }

  /** The forecast from the latest update. */
  get forecast(): Forecast {
    return { ...this.#forecast };
  }

  /** Resource types being tracked, in the order first seen; at most `maxResourceTypes`. */
  get resourceTypes(): string[] {
    return [...this.#resources.keys()];
  }

  /** Number of points kept for a memory kind, at most `maxPointsPerSeries`. */
  seriesLength(kind: MemoryLeakKind): number {
    return this.#memory[kind].series.length;
  }

  /** The leak events not yet cleared, as they were emitted. */
  activeLeaks(): LeakEvent[] {
    const active: LeakEvent[] = [];
    for (const tracked of this.#allSeries()) {
      if (tracked.active) active.push(tracked.active.event);
    }
    return active;
  }

  /**
   * Adds one sample's reading and returns the events it caused and the
   * forecast. Readings within `warmUpMs` of the first update are ignored.
   * Throws a RangeError on a non-finite reading or a time before the previous one.
   */
  update(reading: LeakReading): LeakUpdate {
    checkReading(reading);

    this.#startMs ??= reading.monotonicMs;
    if (reading.monotonicMs - this.#startMs < this.#options.warmUpMs) {
      this.#forecast = { ...NO_FORECAST };
      return { events: [], forecast: this.forecast };
    }

    if (reading.majorGcCount > 0) this.#lastMajorGcMs = reading.monotonicMs;
    this.#addMemoryPoints(reading);
    if (reading.resources) this.#addResourcePoints(reading.monotonicMs, reading.resources);

    const events: Array<LeakEvent | LeakClearedEvent> = [];
    for (const tracked of this.#allSeries()) {
      const event = this.#evaluate(tracked, reading);
      if (event) events.push(event);
    }

    this.#forecast = this.#computeForecast(reading);
    for (const event of events) {
      if (event.type === 'leak' && event.kind !== 'resources') {
        event.timeToLimitMs = this.#forecast.timeToLimitMs;
        event.budget = this.#forecast.budget;
      }
    }

    return { events, forecast: this.forecast };
  }

  /** Forgets every reading and active leak, and starts a new warm-up at the next update. */
  reset(): void {
    this.#startMs = null;
    this.#lastMajorGcMs = null;
    for (const tracked of Object.values(this.#memory)) {
      tracked.series.clear();
      tracked.active = null;
      tracked.passingSinceMs = null;
    }
    this.#rss.clear();
    this.#resources.clear();
    this.#forecast = { ...NO_FORECAST };
  }

  #createSeries(): WindowedSeries {
    return new WindowedSeries(this.#options.windowMs, this.#options.maxPointsPerSeries);
  }

  #track(kind: LeakKind, resourceType: string | null): TrackedSeries {
    return { kind, resourceType, series: this.#createSeries(), active: null, passingSinceMs: null };
  }

  *#allSeries(): Generator<TrackedSeries> {
    for (const kind of MEMORY_LEAK_KINDS) yield this.#memory[kind];
    yield* this.#resources.values();
  }

  #addMemoryPoints(reading: LeakReading): void {
    const timeMs = reading.monotonicMs;

    this.#memory.heap.series.add(timeMs, reading.liveBytes);
    this.#memory.external.series.add(timeMs, reading.externalBytes);
    // Can be negative when heap pages are reserved but not yet resident; only its trend matters.
    this.#memory.native.series.add(timeMs, reading.rssBytes - reading.heapTotalBytes - reading.externalBytes);
    this.#rss.add(timeMs, reading.rssBytes);
  }

  #addResourcePoints(timeMs: number, counts: Readonly<Record<string, number>>): void {
    for (const [resourceType, count] of Object.entries(counts)) {
      if (!(Number.isFinite(count) && count >= 0)) {
        throw new RangeError(`Invalid resources.${resourceType}: expected a finite count of at least 0, got ${String(count)} (${typeof count})`);
      }

      const tracked = this.#resources.get(resourceType) ?? this.#startTrackingResource(resourceType);
      tracked?.series.add(timeMs, count);
    }

    // A type missing from the counts has no active resources left.
    for (const [resourceType, tracked] of this.#resources) {
      if (!Object.hasOwn(counts, resourceType)) tracked.series.add(timeMs, 0);
    }
  }

  /** Starts a series for a new resource type, making room by dropping a type that fell to 0. Null when the table is full. */
  #startTrackingResource(resourceType: string): TrackedSeries | null {
    if (this.#resources.size >= this.#options.maxResourceTypes) {
      const idle = [...this.#resources].find(([, tracked]) => tracked.active === null && tracked.series.last?.value === 0);
      // NOTE: with the table full of types that still have resources, a new type is not tracked.
      if (!idle) return null;
      this.#resources.delete(idle[0]);
    }

    const tracked = this.#track('resources', resourceType);
    this.#resources.set(resourceType, tracked);
    return tracked;
  }

  #evaluate(tracked: TrackedSeries, reading: LeakReading): LeakEvent | LeakClearedEvent | null {
    if (tracked.active) return this.#evaluateActive(tracked, tracked.active, reading);

    const rules = this.#rulesFor(tracked.kind, reading);
    const assessment = assessGrowth(tracked.series.points, rules);
    if (!assessment.significant || (tracked.kind === 'heap' && !this.#majorGcInWindow(tracked))) {
      tracked.passingSinceMs = null;
      return null;
    }

    // Noise passes the rules for a few updates at a time; a leak keeps passing them.
    tracked.passingSinceMs ??= reading.monotonicMs;
    if (reading.monotonicMs - tracked.passingSinceMs < this.#options.confirmMs) return null;
    tracked.passingSinceMs = null;

    const event = this.#leakEvent(tracked, assessment, rules, reading);
    tracked.active = {
      event,
      detectedAtMs: reading.monotonicMs,
      startLevel: assessment.firstLevel,
      ratePerSecond: assessment.ratePerSecond as number,
    };
    return event;
  }

  /**
   * Returns true when a major GC happened within the heap window, or when the
   * rule is off. Between major GCs the live-set estimate is a trough that also
   * rises with promoted garbage, which only a major GC frees, so a rise seen
   * without one cannot tell promotion from a leak.
   */
  #majorGcInWindow(tracked: TrackedSeries): boolean {
    if (!this.#options.heapRequiresMajorGc) return true;

    const first = tracked.series.points[0];
    return first !== undefined && this.#lastMajorGcMs !== null && this.#lastMajorGcMs >= first.timeMs;
  }

  /** Returns a leak-cleared event when the growth stopped or was freed; otherwise updates the rate used by the forecast. */
  #evaluateActive(tracked: TrackedSeries, active: ActiveLeak, reading: LeakReading): LeakClearedEvent | null {
    const points = tracked.series.points;
    const rate = robustSlope(points) ?? 0;
    active.ratePerSecond = rate;

    const medians = sliceMedians(points, this.#options.subWindows);
    const currentLevel = medians[medians.length - 1] ?? Number.NaN;

    let reason: LeakClearedEvent['reason'] | null = null;
    if (currentLevel <= active.startLevel) {
      reason = 'freed';
    } else if (rate < this.#options.clearRateRatio * this.#minRateFor(tracked.kind)) {
      reason = 'growth-stopped';
    }
    if (reason === null) return null;

    tracked.active = null;
    return {
      type: 'leak-cleared',
      time: reading.time,
      kind: tracked.kind,
      resourceType: tracked.resourceType,
      reason,
      detectedAt: active.event.time,
      durationMs: reading.monotonicMs - active.detectedAtMs,
    };
  }

  #leakEvent(tracked: TrackedSeries, assessment: GrowthAssessment, rules: GrowthRules, reading: LeakReading): LeakEvent {
    const firstPoint = tracked.series.points[0];
    const since = reading.time - (reading.monotonicMs - (firstPoint?.timeMs ?? reading.monotonicMs));
    const shared = {
      windowMs: assessment.spanMs,
      samples: assessment.samples,
      subWindows: rules.subWindows,
      risingSubWindows: assessment.risingSubWindows,
      slopeStandardErrors: assessment.slopeStandardErrors as number,
    };
    const rate = assessment.ratePerSecond as number;

    if (tracked.kind === 'resources') {
      const event: ResourceLeakEvent = {
        type: 'leak',
        time: reading.time,
        kind: 'resources',
        resourceType: tracked.resourceType as string,
        ratePerSecond: rate,
        since,
        timeToLimitMs: null,
        evidence: { ...shared, firstCount: assessment.firstLevel, lastCount: assessment.lastLevel, minRiseCount: rules.minRise },
      };
      return event;
    }

    // timeToLimitMs and budget are filled in by update() once every kind has been evaluated.
    const event: MemoryLeakEvent = {
      type: 'leak',
      time: reading.time,
      kind: tracked.kind,
      rateBytesPerSecond: rate,
      since,
      timeToLimitMs: null,
      budget: null,
      evidence: { ...shared, firstBytes: assessment.firstLevel, lastBytes: assessment.lastLevel, minRiseBytes: rules.minRise },
    };
    return event;
  }

  #rulesFor(kind: LeakKind, reading: LeakReading): GrowthRules {
    const options = this.#options;
    return {
      minSpanMs: options.minSpanMs,
      minSamples: options.minSamples,
      subWindows: options.subWindows,
      minRisingSubWindows: Math.ceil(options.minRisingSubWindowRatio * (options.subWindows - 1)),
      minRatePerSecond: this.#minRateFor(kind),
      minRise: this.#minRiseFor(kind, reading),
      minSlopeStandardErrors: options.minSlopeStandardErrors,
    };
  }

  #minRateFor(kind: LeakKind): number {
    return kind === 'resources' ? this.#options.minResourceRatePerSecond : this.#options.minRateBytesPerSecond[kind];
  }

  /** The rise floor: for memory kinds the larger of `minRiseBytes` and `minRiseRatio` of the kind's budget. */
  #minRiseFor(kind: LeakKind, reading: LeakReading): number {
    const options = this.#options;
    if (kind === 'resources') return options.minRiseCount;

    // External and native memory count against the process limit only, not against the heap budget.
    const budgetBytes = kind === 'heap' ? reading.heapBudgetBytes : reading.limitBytes;
    return budgetBytes === null ? options.minRiseBytes : Math.max(options.minRiseBytes, options.minRiseRatio * budgetBytes);
  }

  /**
   * Forecasts both budgets. Heap: live set against the heap budget at the heap
   * leak's rate, only while a heap leak is active. Process: RSS against the
   * process limit at the RSS slope, only while any memory leak is active.
   */
  #computeForecast(reading: LeakReading): Forecast {
    const heapLeak = this.#memory.heap.active;
    const heapMs = heapLeak ? timeToLimitMs(reading.liveBytes, reading.heapBudgetBytes, heapLeak.ratePerSecond) : null;

    let processMs: number | null = null;
    const anyMemoryLeak = MEMORY_LEAK_KINDS.some((kind) => this.#memory[kind].active !== null);
    if (anyMemoryLeak && reading.limitBytes !== null) {
      processMs = timeToLimitMs(reading.rssBytes, reading.limitBytes, robustSlope(this.#rss.points));
    }

    return combineForecasts(heapMs, processMs);
  }
}

function checkReading(reading: LeakReading): void {
  const fields = ['time', 'monotonicMs', 'liveBytes', 'majorGcCount', 'heapTotalBytes', 'heapBudgetBytes', 'externalBytes', 'rssBytes'] as const;
  for (const field of fields) {
    const value = reading[field];
    if (!Number.isFinite(value)) throw new RangeError(`Invalid reading.${field}: expected a finite number, got ${String(value)} (${typeof value})`);
  }

  const limitBytes = reading.limitBytes;
  if (limitBytes !== null && !(Number.isFinite(limitBytes) && limitBytes > 0)) {
    throw new RangeError(`Invalid reading.limitBytes: expected a positive number or null, got ${String(limitBytes)} (${typeof limitBytes})`);
  }
}
