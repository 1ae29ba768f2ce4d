import { PRESSURE_LEVELS, type PressureLevel } from '../analysis/levels.js';
import type { Sample } from '../sampling/sample.js';

/** The figures of one sample that the analytics summaries read: about 100 bytes, against a few KB for a whole sample. */
export interface HistoryPoint {
  /** Milliseconds since the epoch. */
  time: number;
  intervalMs: number;
  level: PressureLevel;
  /** The larger of the heap and process usage ratios. */
  usageRatio: number;
  heapUsedBytes: number;
  liveBytes: number;
  heapBudgetBytes: number;
  externalBytes: number;
  rssBytes: number;
  limitBytes: number | null;
  gcCount: number;
  gcPauseMs: number;
  /** Pause of the major (mark-compact) collections in the interval. */
  majorGcPauseMs: number;
  eventLoopUtilization: number;
  eventLoopDelayP99Ms: number;
}

/** An event kept for the analytics summaries, such as `leak`, `action` or `pressure`. */
export interface HistoryEvent {
  name: string;
  /** Milliseconds since the epoch: the event's own `time`, or when it was recorded. */
  time: number;
  payload: unknown;
}

export interface Distribution {
  min: number;
  mean: number;
  max: number;
  p95: number;
}

export interface ActionTotals {
  count: number;
  /** The sum of the `reclaimedBytes` the action events carried. */
  reclaimedBytes: number;
  durationMs: number;
}

/** The body of GET /analytics from the built-in history. */
export interface AnalyticsSummary {
  windowMs: number;
  /** Epoch milliseconds of the first and last sample in the window, or null with none. */
  from: number | null;
  to: number | null;
  samples: number;
  /** Null fields mean no sample in the window. */
  usageRatio: Distribution | null;
  heapUsedBytes: Distribution | null;
  rssBytes: Distribution | null;
  /** Milliseconds spent at each level: each sample's interval counts for the level it ended at. */
  timeAtLevelMs: Record<PressureLevel, number>;
  gc: { count: number; pauseMs: number; majorPauseMs: number };
  eventLoop: { utilization: Distribution | null; delayP99Ms: Distribution | null };
  pressureChanges: number;
  actions: { count: number; reclaimedBytes: number; byAction: Record<string, ActionTotals> };
  leaks: unknown[];
  /** True when the history did not reach back to the start of the window. */
  truncated: boolean;
  /** The window's samples, oldest first, thinned evenly to at most `MAX_SUMMARY_POINTS`, for charts. */
  points: HistoryPoint[];
  /** The window's latest events, oldest first, at most `MAX_SUMMARY_EVENTS`. */
  events: HistoryEvent[];
}

/** Bounds of the series GET /analytics returns, so its body stays small (about 100 KB at most). */
export const MAX_SUMMARY_POINTS = 600;
export const MAX_SUMMARY_EVENTS = 100;

/** Keeps at most `max` items, evenly spaced, always with the newest. */
function thin<T>(items: T[], max: number): T[] {
  if (items.length <= max) return items;

  const step = items.length / max;
  const kept: T[] = [];
  for (let index = 0; index < max; index++) kept.push(items[Math.floor(index * step)] as T);
  kept[max - 1] = items[items.length - 1] as T;
  return kept;
}

/** A fixed-capacity ring: pushing past the capacity drops the oldest item. */
export class Ring<T> {
  readonly capacity: number;
  readonly #items: (T | undefined)[];
  /** Index of the oldest item. */
  #start = 0;
  #size = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.#items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.#size;
  }

  push(item: T): void {
    const index = (this.#start + this.#size) % this.capacity;
    this.#items[index] = item;
    if (this.#size < this.capacity) this.#size++;
    else this.#start = (this.#start + 1) % this.capacity;
  }

  /** Returns the items from oldest to newest. */
  toArray(): T[] {
    const result: T[] = [];
    for (let offset = 0; offset < this.#size; offset++) result.push(this.#items[(this.#start + offset) % this.capacity] as T);
    return result;
  }

  /** Returns the items for which `keep` is true, oldest first, scanning from the newest and stopping at the first false. */
  newestWhile(keep: (item: T) => boolean): T[] {
    const result: T[] = [];
    for (let offset = this.#size - 1; offset >= 0; offset--) {
      const item = this.#items[(this.#start + offset) % this.capacity] as T;
      if (!keep(item)) break;
      result.push(item);
    }
    return result.reverse();
  }
}

export function toHistoryPoint(sample: Sample): HistoryPoint {
  return {
    time: sample.time,
    intervalMs: sample.intervalMs,
    level: sample.level,
    usageRatio: Math.max(sample.heapUsageRatio, sample.processUsageRatio ?? 0),
    heapUsedBytes: sample.heapUsedBytes,
    liveBytes: sample.liveBytes,
    heapBudgetBytes: sample.heapBudgetBytes,
    externalBytes: sample.externalBytes,
    rssBytes: sample.rssBytes,
    limitBytes: sample.limitBytes,
    gcCount: sample.gc.count,
    gcPauseMs: sample.gc.pauseMs,
    majorGcPauseMs: sample.gc.byKind.major.pauseMs,
    eventLoopUtilization: sample.eventLoop.utilization,
    eventLoopDelayP99Ms: sample.eventLoop.delayP99Ms,
  };
}

/** Returns min, mean, max and the 95th percentile (nearest rank), or null for no values. */
export function distribution(values: number[]): Distribution | null {
  if (values.length === 0) return null;

  const sorted = [...values].sort((a, b) => a - b);
  let sum = 0;
  for (const value of sorted) sum += value;
  const rank = Math.max(1, Math.ceil(0.95 * sorted.length));

  return {
    min: sorted[0] as number,
    mean: sum / sorted.length,
    max: sorted[sorted.length - 1] as number,
    p95: sorted[rank - 1] as number,
  };
}

/** Returns an action event's name: its `action` field, else its `name`, else `unknown`. */
export function actionName(payload: unknown): string {
  const event = payload as { action?: unknown; name?: unknown } | null;
  if (typeof event?.action === 'string') return event.action;
  if (typeof event?.name === 'string') return event.name;
  return 'unknown';
}

function numberField(payload: unknown, field: string): number {
  const value = (payload as Record<string, unknown> | null)?.[field];
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/**
 * Keeps the latest samples (as `HistoryPoint`s) and events in two bounded
 * rings, and summarizes a window of them for GET /analytics.
 */
export class SampleHistory {
  readonly #points: Ring<HistoryPoint>;
  readonly #events: Ring<HistoryEvent>;

  constructor(maxSamples: number, maxEvents: number) {
    this.#points = new Ring(maxSamples);
    this.#events = new Ring(maxEvents);
  }

  get samples(): number {
    return this.#points.size;
  }

  recordSample(sample: Sample): void {
    this.#points.push(toHistoryPoint(sample));
  }

  recordEvent(name: string, payload: unknown, fallbackTime: number): void {
    const time = numberField(payload, 'time') || fallbackTime;
    this.#events.push({ name, time, payload });
  }

  /** Summarizes the samples and events of the last `windowMs` before `nowEpochMs`. */
  summarize(windowMs: number, nowEpochMs: number): AnalyticsSummary {
    const startMs = nowEpochMs - windowMs;
    const points = this.#points.newestWhile((point) => point.time >= startMs);
    const events = this.#events.newestWhile((event) => event.time >= startMs);
    const oldest = this.#points.toArray()[0];

    const timeAtLevelMs = Object.fromEntries(PRESSURE_LEVELS.map((level) => [level, 0])) as Record<PressureLevel, number>;
    const gc = { count: 0, pauseMs: 0, majorPauseMs: 0 };
    for (const point of points) {
      timeAtLevelMs[point.level] += point.intervalMs;
      gc.count += point.gcCount;
      gc.pauseMs += point.gcPauseMs;
      gc.majorPauseMs += point.majorGcPauseMs;
    }

    return {
      windowMs,
      from: points[0]?.time ?? null,
      to: points[points.length - 1]?.time ?? null,
      samples: points.length,
      usageRatio: distribution(points.map((point) => point.usageRatio)),
      heapUsedBytes: distribution(points.map((point) => point.heapUsedBytes)),
      rssBytes: distribution(points.map((point) => point.rssBytes)),
      timeAtLevelMs,
      gc,
      eventLoop: {
        utilization: distribution(points.map((point) => point.eventLoopUtilization)),
        delayP99Ms: distribution(points.map((point) => point.eventLoopDelayP99Ms)),
      },
      pressureChanges: events.filter((event) => event.name === 'pressure').length,
      actions: summarizeActions(events),
      leaks: events.filter((event) => event.name === 'leak' || event.name === 'leak-cleared').map((event) => event.payload),
      truncated: oldest !== undefined && oldest.time > startMs && this.#points.size === this.#points.capacity,
      points: thin(points, MAX_SUMMARY_POINTS),
      events: events.slice(-MAX_SUMMARY_EVENTS),
    };
  }
}

function summarizeActions(events: HistoryEvent[]): AnalyticsSummary['actions'] {
  const byAction: Record<string, ActionTotals> = {};
  let count = 0;
  let reclaimedBytes = 0;

  for (const event of events) {
    if (event.name !== 'action') continue;

    const name = actionName(event.payload);
    const totals = (byAction[name] ??= { count: 0, reclaimedBytes: 0, durationMs: 0 });
    const reclaimed = numberField(event.payload, 'reclaimedBytes');
    totals.count++;
    totals.reclaimedBytes += reclaimed;
    totals.durationMs += numberField(event.payload, 'durationMs');
    count++;
    reclaimedBytes += reclaimed;
  }

  return { count, reclaimedBytes, byAction };
}
