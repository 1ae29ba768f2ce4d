import { combineForecasts, NO_FORECAST, timeToLimitMs, type Forecast } from './forecast.js';
import { assessGrowth, MAX_PAIRS_PER_SLOPE, sliceMedians, withoutRepeats, type GrowthAssessment, type GrowthRules } from './growth.js';
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
import { checkReading, type LeakReading } from './leak-reading.js';
import { robustSlope, type TimePoint } from './robust-slope.js';
import { WindowedSeries } from './windowed-series.js';

export type { LeakReading } from './leak-reading.js';

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
  /** Monotonic time the rate and level were last re-checked. */
  checkedAtMs: number;
}

/**
 * An active leak's rate is re-fitted at most this often. Each fit takes two
 * Theil-Sen slopes of up to 1024 pairs, which on a 1 s interval ran in cold,
 * unoptimised code and cost about 0.3 ms a sample. A steady leak's rate moves
 * little in 5 s, and the forecast still follows the live set every sample.
 */
export const ACTIVE_LEAK_REFIT_MS = 5000;

/** A span of points that passed the growth rules. */
interface PassedSpan {
  points: readonly TimePoint[];
  assessment: GrowthAssessment;
  /** True when it passed only on the shorter `urgentSpanMs`, because the budget runs out soon. */
  urgent: boolean;
}

interface TrackedSeries {
  kind: LeakKind;
  /** The resource type for `resources`, null for the memory kinds. */
  resourceType: string | null;
  series: WindowedSeries;
  active: ActiveLeak | null;
  /** Monotonic time since when every update has passed the growth rules, or null. */
  passingSinceMs: number | null;
  /** True when an update since `passingSinceMs` passed only on the urgent span. */
  passingUrgently: boolean;
}

/**
 * Detects steady growth of the live set, external memory, native memory and
 * active resource counts, and forecasts the time until a budget runs out.
 * Call `update` once per sample; it returns the events caused by that sample.
 *
 * A kind is reported once its last `shortWindowMs` or its whole window has
 * passed every rule of `assessGrowth` on each update for `confirmMs`. A heap
 * leak also needs a major GC within that span. A memory leak fast enough to
 * use up its budget before those rules could pass is reported on a shorter
 * span (`urgentSpanMs`), with `evidence.urgent` set. A report is cleared with
 * hysteresis: when the slope falls below `clearRateRatio` of the minimum rate,
 * or the level falls back to where the growth began. Each kind has its own
 * series, so growth of external or native memory is never reported as a heap leak.
 *
 * Bounded: each series keeps at most `maxPointsPerSeries` points (64 by
 * default), and there are four memory series (live set, external, native, RSS)
 * plus at most `maxResourceTypes` resource series (32 by default). Each
 * Theil-Sen slope uses at most MAX_PAIRS_PER_SLOPE (1024) pairs. Slopes are
 * taken only for a span that passed the cheaper rules, for an active leak
 * (two per update), and for RSS while a memory leak is active.
 */
export class LeakDetector {
  readonly #options: ResolvedLeakDetectorOptions;
  /** Monotonic time of the first update; null before it. */
  #startMs: number | null = null;
  /** Monotonic time of the latest update; null before the first. */
  #lastMs: number | null = null;
  readonly #memory: Record<MemoryLeakKind, TrackedSeries>;
  /** RSS, for the process budget's forecast. */
  readonly #rss: WindowedSeries;
  /** The latest RSS slope and when it was fitted; null while no memory leak is active. */
  #rssFit: { ratePerSecond: number; fittedAtMs: number } | null = null;
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

  /** Returns the leak events not yet cleared, as they were emitted. */
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
    if (this.#lastMs !== null && reading.monotonicMs < this.#lastMs) {
      throw new RangeError(`Invalid reading.monotonicMs ${reading.monotonicMs}: it is before the previous reading at ${this.#lastMs} ms, but times must not decrease`);
    }
    this.#lastMs = reading.monotonicMs;

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
    this.#lastMs = null;
    this.#lastMajorGcMs = null;
    for (const tracked of Object.values(this.#memory)) {
      tracked.series.clear();
      tracked.active = null;
      this.#stopPassing(tracked);
    }
    this.#rss.clear();
    this.#rssFit = null;
    this.#resources.clear();
    this.#forecast = { ...NO_FORECAST };
  }

  #createSeries(): WindowedSeries {
    return new WindowedSeries(this.#options.windowMs, this.#options.maxPointsPerSeries);
  }

  #track(kind: LeakKind, resourceType: string | null): TrackedSeries {
    return { kind, resourceType, series: this.#createSeries(), active: null, passingSinceMs: null, passingUrgently: false };
  }

  *#allSeries(): Generator<TrackedSeries> {
    for (const kind of MEMORY_LEAK_KINDS) yield this.#memory[kind];
    yield* this.#resources.values();
  }

  #addMemoryPoints(reading: LeakReading): void {
    const timeMs = reading.monotonicMs;

    this.#memory.heap.series.add(timeMs, reading.liveBytes, timeMs - (reading.liveAgeMs ?? 0));
    this.#memory.external.series.add(timeMs, reading.externalBytes);
    // Can be negative when heap pages are reserved but not yet resident; only its trend matters.
    this.#memory.native.series.add(timeMs, reading.rssBytes - reading.heapTotalBytes - reading.externalBytes);
    this.#rss.add(timeMs, reading.rssBytes);
  }

  #addResourcePoints(timeMs: number, counts: Readonly<Record<string, number>>): void {
    // A type missing from the counts has no active resources left. Recording that first lets a new type take its place.
    for (const [resourceType, tracked] of this.#resources) {
      if (!Object.hasOwn(counts, resourceType)) tracked.series.add(timeMs, 0);
    }

    for (const [resourceType, count] of Object.entries(counts)) {
      const tracked = this.#resources.get(resourceType) ?? this.#startTrackingResource(resourceType);
      tracked?.series.add(timeMs, count);
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

    // Every span is a part of the series, so a series whose whole range is below the rise floor passes no span.
    // This is the usual case, and it touches no point object.
    const minRise = this.#minRiseFor(tracked.kind, reading);
    if (tracked.series.valueRange() < minRise) {
      this.#stopPassing(tracked);
      return null;
    }

    const rules = this.#rulesFor(tracked.kind, reading, minRise);
    let passed: PassedSpan | null = null;
    for (const points of this.#spans(tracked.series.points)) {
      const assessment = assessGrowth(points, rules);
      if (assessment.significant && (tracked.kind !== 'heap' || this.#majorGcWithin(points))) {
        passed = { points, assessment, urgent: false };
        break;
      }
    }
    passed ??= this.#urgentPass(tracked, reading, rules);

    if (!passed) {
      this.#stopPassing(tracked);
      return null;
    }

    // Noise passes the rules for a few updates at a time; a leak keeps passing them.
    tracked.passingSinceMs ??= reading.monotonicMs;
    tracked.passingUrgently ||= passed.urgent;
    if (reading.monotonicMs - tracked.passingSinceMs < this.#options.confirmMs) return null;

    // A confirmation that began on the urgent span would not have ended yet without it.
    const event = this.#leakEvent(tracked, { ...passed, urgent: tracked.passingUrgently }, rules, reading);
    this.#stopPassing(tracked);
    tracked.active = {
      event,
      detectedAtMs: reading.monotonicMs,
      startLevel: passed.assessment.firstLevel,
      ratePerSecond: passed.assessment.ratePerSecond as number,
      checkedAtMs: reading.monotonicMs,
    };
    return event;
  }

  #stopPassing(tracked: TrackedSeries): void {
    tracked.passingSinceMs = null;
    tracked.passingUrgently = false;
  }

  /**
   * Applies the rules to the last `minSpanMs` of a memory series, with the span
   * floor lowered to `urgentSpanMs`. The span passes only when, at the slope
   * found, the budget runs out within `minSpanMs` + `confirmMs`, the time the
   * full rules could still need: a fast leak would otherwise be reported after
   * the crash, or not at all. Null for resources, which have no budget.
   */
  #urgentPass(tracked: TrackedSeries, reading: LeakReading, rules: GrowthRules): PassedSpan | null {
    const options = this.#options;
    if (tracked.kind === 'resources' || options.urgentSpanMs >= options.minSpanMs) return null;

    // Heap: the live set against the heap budget. External and native memory count in RSS, against the process limit.
    const budgetBytes = budgetFor(tracked.kind, reading);
    const currentBytes = tracked.kind === 'heap' ? reading.liveBytes : reading.rssBytes;
    if (budgetBytes === null || budgetBytes <= 0) return null;

    const points = this.#lastSpan(tracked.series.points, options.minSpanMs);
    const assessment = assessGrowth(points, { ...rules, minSpanMs: options.urgentSpanMs, minSamples: rules.subWindows });
    if (!assessment.significant || (tracked.kind === 'heap' && !this.#majorGcWithin(points))) return null;

    const leftMs = timeToLimitMs(currentBytes, budgetBytes, assessment.ratePerSecond);
    if (leftMs === null || leftMs > options.minSpanMs + options.confirmMs) return null;
    return { points, assessment, urgent: true };
  }

  /** Returns the points of the last `spanMs`, or all of them when they span less. */
  #lastSpan(points: readonly TimePoint[], spanMs: number): readonly TimePoint[] {
    const last = points[points.length - 1];
    if (!last) return points;

    const first = points.findIndex((point) => point.timeMs >= last.timeMs - spanMs);
    return first > 0 ? points.slice(first) : points;
  }

  /**
   * Returns the spans the rules are applied to: the last `shortWindowMs` of the
   * points, then all of them. The short span catches a fast leak before a flat
   * past dilutes it. The long one catches a leak seen in steps tens of seconds
   * apart, as when major GCs are rare.
   */
  #spans(points: readonly TimePoint[]): Array<readonly TimePoint[]> {
    const last = points[points.length - 1];
    if (!last) return [];

    const recent = this.#lastSpan(points, this.#options.shortWindowMs);
    return recent.length < points.length ? [recent, points] : [points];
  }

  /** Returns the RSS slope, re-fitted at most every ACTIVE_LEAK_REFIT_MS. */
  #rssRate(nowMs: number): number {
    if (this.#rssFit === null || nowMs - this.#rssFit.fittedAtMs >= ACTIVE_LEAK_REFIT_MS) {
      this.#rssFit = { ratePerSecond: this.#currentRate(this.#rss.points), fittedAtMs: nowMs };
    }
    return this.#rssFit.ratePerSecond;
  }

  /**
   * Returns the larger Theil-Sen slope of the two spans, or 0 without one. A
   * leak that began within the window shows its full rate only in the short span.
   */
  #currentRate(points: readonly TimePoint[]): number {
    let rate = 0;
    let found = false;
    for (const span of this.#spans(points)) {
      const slope = robustSlope(withoutRepeats(span), { maxPairs: MAX_PAIRS_PER_SLOPE });
      if (slope === null) continue;

      rate = found ? Math.max(rate, slope) : slope;
      found = true;
    }
    return rate;
  }

  /**
   * Returns true when a major GC happened within the span of `points`, or when
   * the rule is off. Between major GCs the live-set estimate is a trough that
   * also rises with promoted garbage, which only a major GC frees, so a rise
   * seen without one cannot tell promotion from a leak.
   */
  #majorGcWithin(points: readonly TimePoint[]): boolean {
    if (!this.#options.heapRequiresMajorGc) return true;

    const first = points[0];
    return first !== undefined && this.#lastMajorGcMs !== null && this.#lastMajorGcMs >= first.timeMs;
  }

  /** Returns a leak-cleared event when the growth stopped or was freed; otherwise stores the current rate for the forecast. */
  #evaluateActive(tracked: TrackedSeries, active: ActiveLeak, reading: LeakReading): LeakClearedEvent | null {
    if (reading.monotonicMs - active.checkedAtMs < ACTIVE_LEAK_REFIT_MS) return null;
    active.checkedAtMs = reading.monotonicMs;

    const points = tracked.series.points;
    const rate = this.#currentRate(points);
    active.ratePerSecond = rate;

    const medians = sliceMedians(this.#spans(points)[0] ?? [], this.#options.subWindows);
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

  #leakEvent(tracked: TrackedSeries, passed: PassedSpan, rules: GrowthRules, reading: LeakReading): LeakEvent {
    const { points, assessment } = passed;
    const firstPoint = points[0];
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
      evidence: { ...shared, firstBytes: assessment.firstLevel, lastBytes: assessment.lastLevel, minRiseBytes: rules.minRise, urgent: passed.urgent },
    };
    return event;
  }

  #rulesFor(kind: LeakKind, reading: LeakReading, minRise: number): GrowthRules {
    const options = this.#options;
    return {
      minSpanMs: options.minSpanMs,
      minSamples: options.minSamples,
      subWindows: options.subWindows,
      minRisingSubWindows: Math.ceil(options.minRisingSubWindowRatio * (options.subWindows - 1)),
      minRatePerSecond: this.#minRateFor(kind),
      minRise,
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

    const budgetBytes = budgetFor(kind, reading);
    return budgetBytes === null ? options.minRiseBytes : Math.max(options.minRiseBytes, options.minRiseRatio * budgetBytes);
  }

  /**
   * Forecasts both budgets. Heap: the live set, projected over `liveAgeMs`,
   * against `heapFailureBytes` (the heap budget by default) at the heap leak's
   * rate, while a heap leak is active.
   * Process: RSS against the process limit at the RSS slope, while any memory
   * leak is active.
   */
  #computeForecast(reading: LeakReading): Forecast {
    const heapLeak = this.#memory.heap.active;
    let heapMs: number | null = null;
    if (heapLeak) {
      // A post-GC value or trough is up to a GC period old; the live set has grown since at the leak's rate.
      const projectedLiveBytes = reading.liveBytes + Math.max(0, heapLeak.ratePerSecond) * ((reading.liveAgeMs ?? 0) / 1000);
      heapMs = timeToLimitMs(projectedLiveBytes, reading.heapFailureBytes ?? reading.heapBudgetBytes, heapLeak.ratePerSecond);
    }

    let processMs: number | null = null;
    const anyMemoryLeak = MEMORY_LEAK_KINDS.some((kind) => this.#memory[kind].active !== null);
    if (!anyMemoryLeak) this.#rssFit = null;
    if (anyMemoryLeak && reading.limitBytes !== null) {
      processMs = timeToLimitMs(reading.rssBytes, reading.limitBytes, this.#rssRate(reading.monotonicMs));
    }

    return combineForecasts(heapMs, processMs);
  }
}

/** Returns the budget a memory kind counts against: the heap budget for `heap`, the process limit (or null) for external and native memory. */
function budgetFor(kind: MemoryLeakKind, reading: LeakReading): number | null {
  return kind === 'heap' ? reading.heapBudgetBytes : reading.limitBytes;
}
