import { LeakDetector, type LeakReading, type LeakUpdate } from '../../src/analysis/leak-detector.js';
import type { LeakClearedEvent, LeakEvent } from '../../src/analysis/leak-events.js';
import type { LeakDetectorOptions } from '../../src/analysis/leak-options.js';
import { LiveSetEstimator, type LiveSetEstimatorOptions } from '../../src/analysis/live-set.js';

export const KIB = 2 ** 10;
export const MIB = 2 ** 20;
export const GIB = 2 ** 30;

const EPOCH_START_MS = 1_700_000_000_000;

/** What a script sets at one moment; the rest takes defaults that keep native memory flat. */
export interface ScriptedMemory {
  heapUsedBytes: number;
  /** Major GCs in the interval that ends at this reading. Default 0. */
  majorGcs?: number;
  /** Default: heap used rounded up to the next MiB, plus 2 MiB. */
  heapTotalBytes?: number;
  /** Default 128 MiB. */
  heapBudgetBytes?: number;
  /** Where the heap forecast aims. Default: left out, so the detector uses the budget. */
  heapFailureBytes?: number;
  /** Default 1 MiB. */
  externalBytes?: number;
  /** Default: heap total + external + 30 MiB, so native memory stays flat. */
  rssBytes?: number;
  /** Default null: no process limit. */
  limitBytes?: number | null;
  resources?: Record<string, number>;
}

export interface ScriptRunOptions {
  durationMs: number;
  /** Default 1000 ms, the manager's default interval. */
  intervalMs?: number;
  detector?: LeakDetectorOptions;
  estimator?: LiveSetEstimatorOptions;
}

export interface ScriptStep {
  atMs: number;
  reading: LeakReading;
  update: LeakUpdate;
}

export interface ScriptRun {
  steps: ScriptStep[];
  events: Array<{ atMs: number; event: LeakEvent | LeakClearedEvent }>;
  detector: LeakDetector;
}

/**
 * Feeds a live-set estimator and a leak detector one reading per interval from
 * `script(seconds)`, from 0 to `durationMs` inclusive, on a scripted clock.
 */
export function runScript(script: (seconds: number) => ScriptedMemory, options: ScriptRunOptions): ScriptRun {
  const intervalMs = options.intervalMs ?? 1000;
  const estimator = new LiveSetEstimator(options.estimator);
  const detector = new LeakDetector(options.detector);
  const run: ScriptRun = { steps: [], events: [], detector };

  for (let atMs = 0; atMs <= options.durationMs; atMs += intervalMs) {
    const memory = script(atMs / 1000);
    const majorGcs = memory.majorGcs ?? 0;
    const live = estimator.update({ monotonicMs: atMs, heapUsedBytes: memory.heapUsedBytes, gc: { byKind: { major: { count: majorGcs } } } });

    const heapTotalBytes = memory.heapTotalBytes ?? Math.ceil(memory.heapUsedBytes / MIB) * MIB + 2 * MIB;
    const externalBytes = memory.externalBytes ?? 1 * MIB;
    const reading: LeakReading = {
      time: EPOCH_START_MS + atMs,
      monotonicMs: atMs,
      liveBytes: live.liveBytes,
      liveAgeMs: live.ageMs,
      majorGcCount: majorGcs,
      heapTotalBytes,
      heapBudgetBytes: memory.heapBudgetBytes ?? 128 * MIB,
      ...(memory.heapFailureBytes === undefined ? {} : { heapFailureBytes: memory.heapFailureBytes }),
      externalBytes,
      rssBytes: memory.rssBytes ?? heapTotalBytes + externalBytes + 30 * MIB,
      limitBytes: memory.limitBytes ?? null,
      ...(memory.resources ? { resources: memory.resources } : {}),
    };

    const update = detector.update(reading);
    run.steps.push({ atMs, reading, update });
    for (const event of update.events) run.events.push({ atMs, event });
  }

  return run;
}

/** Returns the first event of `type` and `kind`, with the script time it came at, or undefined. */
export function firstEvent(run: ScriptRun, type: 'leak' | 'leak-cleared', kind: string): { atMs: number; event: LeakEvent | LeakClearedEvent } | undefined {
  return run.events.find(({ event }) => event.type === type && event.kind === kind);
}

/** Returns the event times in seconds with type and kind, for assertion messages. */
export function describeEvents(run: ScriptRun): string {
  return JSON.stringify(run.events.map(({ atMs, event }) => `${atMs / 1000}s ${event.type} ${event.kind}`));
}

/**
 * Returns one reading of a heap sawtooth: garbage grows from 0 to `amplitudeBytes` over each period,
 * then a major GC drops heap used to the live set. The reading at each period
 * boundary is taken right after that GC.
 */
export function sawtooth(seconds: number, liveBytes: number, amplitudeBytes: number, periodSeconds: number): ScriptedMemory {
  const phase = (seconds % periodSeconds) / periodSeconds;
  const atTrough = phase === 0 && seconds > 0;
  return { heapUsedBytes: liveBytes + amplitudeBytes * phase, majorGcs: atTrough ? 1 : 0 };
}

/**
 * Returns a seeded generator of numbers in [0, 1), so noisy scripts repeat
 * exactly. Each output is a counter passed through the 32-bit finalizer of
 * MurmurHash3. The counter starts at the hashed seed, so nearby seeds give
 * unrelated sequences.
 */
export function seededRandom(seed: number): () => number {
  let counter = mix32(seed >>> 0);
  return () => {
    counter = (counter + 0x9e3779b9) >>> 0;
    return mix32(counter) / 2 ** 32;
  };
}

function mix32(value: number): number {
  let hash = value;
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** Returns a generator of uniform noise in [-halfWidth, halfWidth). */
export function uniformNoise(seed: number, halfWidth: number): () => number {
  const random = seededRandom(seed);
  return () => (random() * 2 - 1) * halfWidth;
}
