import type { LeakEvent, LeakKind } from '../analysis/leak-events.js';
import { levelRank, type PressureLevel } from '../analysis/levels.js';
import type { Sample } from '../sampling/sample.js';
import { formatBytes, formatDurationMs } from '../util/size.js';

/** Figures of a whole run, gathered from its samples. */
export interface RunSummary {
  runTimeMs: number;
  samples: number;
  peakHeapUsedBytes: number;
  /** The heap budget: V8's limit minus the young generation. */
  heapBudgetBytes: number | null;
  peakRssBytes: number;
  limitBytes: number | null;
  highestLevel: PressureLevel;
  gcCount: number;
  gcPauseMs: number;
  pressureChanges: number;
  actions: number;
  reclaimedBytes: number;
  /** Leak events reported during the run. */
  leaks: number;
  /** Kind and rate of the first leak events, at most MAX_LEAKS_LISTED of them. */
  leakRates: LeakRate[];
}

/** Kind and rate of one leak event, as the summary keeps them. */
export interface LeakRate {
  kind: LeakKind;
  /** The resource type for `resources`, null for the memory kinds. */
  resourceType: string | null;
  /** Bytes per second, or resources per second for `resources`. */
  ratePerSecond: number;
}

/** Leak events listed by kind and rate in the summary; further ones are only counted. */
export const MAX_LEAKS_LISTED = 4;

/** Adds up samples into a run summary. */
export class SummaryTracker {
  readonly #startedAtMs: number;
  #summary: RunSummary;

  constructor(startedAtMs: number) {
    this.#startedAtMs = startedAtMs;
    this.#summary = {
      runTimeMs: 0,
      samples: 0,
      peakHeapUsedBytes: 0,
      heapBudgetBytes: null,
      peakRssBytes: 0,
      limitBytes: null,
      highestLevel: 'normal',
      gcCount: 0,
      gcPauseMs: 0,
      pressureChanges: 0,
      actions: 0,
      reclaimedBytes: 0,
      leaks: 0,
      leakRates: [],
    };
  }

  addSample(sample: Sample): void {
    const summary = this.#summary;
    summary.samples++;
    summary.peakHeapUsedBytes = Math.max(summary.peakHeapUsedBytes, sample.heapUsedBytes);
    summary.heapBudgetBytes = sample.heapBudgetBytes;
    summary.peakRssBytes = Math.max(summary.peakRssBytes, sample.rssBytes);
    summary.limitBytes = sample.limitBytes;
    summary.gcCount += sample.gc.count;
    summary.gcPauseMs += sample.gc.pauseMs;
    if (levelRank(sample.level) > levelRank(summary.highestLevel)) summary.highestLevel = sample.level;
  }

  /** Counts a level change, and the level itself, which a sample may never have shown if the program died first. */
  addPressureChange(to: PressureLevel): void {
    this.#summary.pressureChanges++;
    if (levelRank(to) > levelRank(this.#summary.highestLevel)) this.#summary.highestLevel = to;
  }

  /** Counts an action (relieve, forced GC, snapshot) and what it reclaimed. */
  addAction(reclaimedBytes: number): void {
    this.#summary.actions++;
    this.#summary.reclaimedBytes += reclaimedBytes;
  }

  /** Counts a leak event and keeps its kind and rate while fewer than MAX_LEAKS_LISTED are kept. */
  addLeak(event: LeakEvent): void {
    this.#summary.leaks++;
    if (this.#summary.leakRates.length >= MAX_LEAKS_LISTED) return;

    this.#summary.leakRates.push(
      event.kind === 'resources'
        ? { kind: event.kind, resourceType: event.resourceType, ratePerSecond: event.ratePerSecond }
        : { kind: event.kind, resourceType: null, ratePerSecond: event.rateBytesPerSecond },
    );
  }

  /** Records a peak RSS seen by the parent's watchdog between samples. */
  addRss(rssBytes: number): void {
    this.#summary.peakRssBytes = Math.max(this.#summary.peakRssBytes, rssBytes);
  }

  finish(endedAtMs: number): RunSummary {
    return { ...this.#summary, leakRates: [...this.#summary.leakRates], runTimeMs: endedAtMs - this.#startedAtMs };
  }
}

function share(usedBytes: number, limitBytes: number | null): string {
  if (limitBytes === null) return `${formatBytes(usedBytes)} (no limit)`;
  return `${formatBytes(usedBytes)} of ${formatBytes(limitBytes)} (${((usedBytes / limitBytes) * 100).toFixed(0)} %)`;
}

/** Renders the leak count with the kind and rate of each listed leak: `1 (heap at 2.0 MiB/s)`. */
function describeLeaks(summary: RunSummary): string {
  if (summary.leaks === 0) return '0';

  const rates = summary.leakRates.map((leak) => {
    if (leak.kind === 'resources') return `${leak.resourceType ?? 'resources'} at ${leak.ratePerSecond.toFixed(1)}/s`;
    return `${leak.kind} at ${formatBytes(leak.ratePerSecond)}/s`;
  });
  const unlisted = summary.leaks - rates.length;
  if (unlisted > 0) rates.push(`${unlisted} more`);
  return `${summary.leaks} (${rates.join(', ')})`;
}

/** Renders the summary printed when the program ends. */
export function renderSummary(summary: RunSummary, ending: string): string[] {
  if (summary.samples === 0) {
    return [
      '── headroom summary ──',
      `run time       ${formatDurationMs(summary.runTimeMs)} (no samples: the program ended before the first one)`,
      `leaks          ${describeLeaks(summary)}`,
      `ended          ${ending}`,
    ];
  }

  return [
    '── headroom summary ──',
    `run time       ${formatDurationMs(summary.runTimeMs)} (${summary.samples} samples)`,
    `peak heap      ${summary.heapBudgetBytes === null ? formatBytes(summary.peakHeapUsedBytes) : share(summary.peakHeapUsedBytes, summary.heapBudgetBytes)}`,
    `peak RSS       ${share(summary.peakRssBytes, summary.limitBytes)}`,
    `highest level  ${summary.highestLevel} (${summary.pressureChanges} level changes)`,
    `gc             ${summary.gcCount} collections, ${summary.gcPauseMs.toFixed(0)} ms paused`,
    `actions        ${summary.actions}, ${formatBytes(summary.reclaimedBytes)} reclaimed`,
    `leaks          ${describeLeaks(summary)}`,
    `ended          ${ending}`,
  ];
}
