import { durationOption, invalidOption, numberOption } from '../util/validate.js';
import { parseBytes } from '../util/size.js';
import type { MemoryLeakKind } from './leak-events.js';

const KIB = 2 ** 10;
const MIB = 2 ** 20;
const HOUR_MS = 3_600_000;

export interface LeakDetectorOptions {
  /** Maximum history the trend is fitted over: milliseconds or a string such as "60s". Default 60 s. */
  windowMs?: number | string;
  /**
   * The rules are also applied to the last this much of the window, so that a
   * leak that began within the window is not diluted by the flat part before
   * it. From `minSpanMs` to `windowMs`. Default 30 s.
   */
  shortWindowMs?: number | string;
  /** Minimum time the history must span before a leak can be reported. Default 10 s. */
  minSpanMs?: number | string;
  /**
   * A memory leak fast enough to use up its budget within `minSpanMs` +
   * `confirmMs` at its current rate can be reported once its last `minSpanMs`
   * span this much, instead of the full `minSpanMs`: waiting would report it
   * after the crash. From 1 ms to `minSpanMs`; equal to `minSpanMs` turns the
   * early report off. Default 5 s.
   */
  urgentSpanMs?: number | string;
  /** Minimum number of points in the window before a leak can be reported, from `subWindows` to `maxPointsPerSeries`. Default 8. */
  minSamples?: number;
  /** Readings in this time after the first update are ignored, so start-up filling is not a leak. Default 5 s. */
  warmUpMs?: number | string;
  /**
   * How long every update must pass the growth rules before a leak is reported:
   * milliseconds or a string such as "5s". Default 3 s.
   */
  confirmMs?: number | string;
  /**
   * Report a heap leak only when a major GC happened within the window, because
   * between major GCs promoted garbage raises the live-set trough too. Default true.
   */
  heapRequiresMajorGc?: boolean;
  /** Number of equal time slices the window is cut into to check that growth is sustained. Default 4. */
  subWindows?: number;
  /**
   * Share (0 to 1) of the slices after the first whose median must rise above
   * the previous slice's. The last slice must rise in any case. Default 0.6,
   * which means 2 of 3 with 4 slices.
   */
  minRisingSubWindowRatio?: number;
  /** Minimum number of standard errors the slope must be above zero. Default 4. */
  minSlopeStandardErrors?: number;
  /** Minimum rise of a memory kind over the window, in bytes or as "2MiB". Default 2 MiB. */
  minRiseBytes?: number | string;
  /**
   * Minimum rise of a memory kind over the window as a share of its budget: the
   * heap budget for `heap`, the process limit for `external` and `native` when
   * there is one. The larger of this and `minRiseBytes` applies. Default 0.01.
   */
  minRiseRatio?: number;
  /** Minimum Theil-Sen slope per memory kind, in bytes per second. Defaults: heap 64 KiB/s, external 64 KiB/s, native 128 KiB/s. */
  minRateBytesPerSecond?: Partial<Record<MemoryLeakKind, number>>;
  /** Minimum rise of a resource count over the window. Default 50. */
  minRiseCount?: number;
  /** Minimum Theil-Sen slope of a resource count, per second. Default 1. */
  minResourceRatePerSecond?: number;
  /** A reported leak clears once its slope falls below this share (0 to 0.99) of the minimum rate. Default 0.5. */
  clearRateRatio?: number;
  /** Maximum points kept per series; faster readings are thinned to fit the window. Default 64. */
  maxPointsPerSeries?: number;
  /** Maximum resource types tracked; further types are ignored while the table is full. Default 32. */
  maxResourceTypes?: number;
}

export interface ResolvedLeakDetectorOptions {
  windowMs: number;
  shortWindowMs: number;
  minSpanMs: number;
  urgentSpanMs: number;
  minSamples: number;
  warmUpMs: number;
  confirmMs: number;
  heapRequiresMajorGc: boolean;
  subWindows: number;
  minRisingSubWindowRatio: number;
  minSlopeStandardErrors: number;
  minRiseBytes: number;
  minRiseRatio: number;
  minRateBytesPerSecond: Record<MemoryLeakKind, number>;
  minRiseCount: number;
  minResourceRatePerSecond: number;
  clearRateRatio: number;
  maxPointsPerSeries: number;
  maxResourceTypes: number;
}

/**
 * Defaults, sized for one sample per second (the manager's default interval)
 * and checked against the scripted leaks and noise in test/analysis and the
 * real programs in test/e2e/leaks.test.ts and bench/leak-detection.ts.
 *
 * `warmUpMs` + `minSpanMs` + `confirmMs` (18 s), counted from the first
 * update, is about the earliest a leak that starts with the process can be
 * reported. A 5 MiB/s leak under a 128 MiB old space died 20 to 25 s after
 * start in the benchmark, so the sum has to stay below 20 s. The price:
 * start-up growth that lasts past about 8 s can be reported as a leak, and
 * cleared once it stops.
 */
export const DEFAULT_LEAK_DETECTOR_OPTIONS: Readonly<ResolvedLeakDetectorOptions> = Object.freeze({
  // Three post-GC steps fit in 60 s even when major GCs come 20 s apart.
  windowMs: 60_000,
  // 20 s after a leak begins, two thirds of this span is growth, so the flat past no longer hides it.
  shortWindowMs: 30_000,
  // 10 s contains two post-GC steps when major GCs come every 5 s. A recorded 5 MiB/s leak
  // under a 128 MiB old space died 19.8 s after start: 12 s reported it too late, 10 s at 18 s.
  // The cost: in 216 scripted runs of a start-up fill seen through a sawtooth with major GCs
  // 2 to 10 s apart, a 10 s fill was reported 24 times and an 8 s fill 6 times (18 and 0 with 12 s).
  minSpanMs: 10_000,
  // A 5 MiB/s leak under a 128 MiB old space reaches the heap budget about 20 s after start. With
  // the full span it was reported about 1 s before it died; 5 s of growth leaves it about 7 s.
  urgentSpanMs: 5000,
  minSamples: 8,
  // Start-up fills caches and compiles code, so the first 5 s are ignored. A recorded
  // 0.5 MB/s leak, whose first major GCs came 8 and 21 s after start, was reported
  // 25 s after start with 5 s and 44 s after start with 6 s.
  warmUpMs: 5000,
  // Noise can pass the other rules for a few updates in a row; a leak keeps passing them.
  // The same 0.5 MB/s leak passed them for only 4 s in a row between two post-GC steps.
  confirmMs: 3000,
  heapRequiresMajorGc: true,
  subWindows: 4,
  minRisingSubWindowRatio: 0.6,
  // Rules run on every update, so a stricter bound than a single test would use keeps false reports rare.
  minSlopeStandardErrors: 4,
  minRiseBytes: 2 * MIB,
  minRiseRatio: 0.01,
  // 64 KiB/s fills 1 GiB in about 4.5 hours. RSS moves in whole pages and allocator arenas, so native gets twice that.
  minRateBytesPerSecond: Object.freeze({ heap: 64 * KIB, external: 64 * KIB, native: 128 * KIB }),
  minRiseCount: 50,
  minResourceRatePerSecond: 1,
  clearRateRatio: 0.5,
  // 60 s at one sample per second fits without thinning.
  maxPointsPerSeries: 64,
  maxResourceTypes: 32,
});

const KNOWN_OPTIONS = new Set(Object.keys(DEFAULT_LEAK_DETECTOR_OPTIONS));

/** Validates every option and fills in defaults. The error names the option, the rule and the value received. */
export function resolveLeakDetectorOptions(options: LeakDetectorOptions = {}): ResolvedLeakDetectorOptions {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options, 'type');

  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw invalidOption(key, `one of the known options (${[...KNOWN_OPTIONS].join(', ')})`, (options as Record<string, unknown>)[key], 'type');
    }
  }

  const defaults = DEFAULT_LEAK_DETECTOR_OPTIONS;
  const windowMs = durationOption('windowMs', options.windowMs, defaults.windowMs, 1000, HOUR_MS);
  const maxPointsPerSeries = numberOption('maxPointsPerSeries', options.maxPointsPerSeries, defaults.maxPointsPerSeries, 8, 1024, true);
  const subWindows = numberOption('subWindows', options.subWindows, defaults.subWindows, 2, 16, true);
  if (subWindows > maxPointsPerSeries) {
    throw invalidOption('subWindows', `at most maxPointsPerSeries (${maxPointsPerSeries}), so each slice can hold a point`, subWindows);
  }

  const minSpanMs = durationOption('minSpanMs', options.minSpanMs, Math.min(defaults.minSpanMs, windowMs), 1, windowMs, { max: 'windowMs' });

  const resolved: ResolvedLeakDetectorOptions = {
    windowMs,
    minSpanMs,
    urgentSpanMs: durationOption('urgentSpanMs', options.urgentSpanMs, Math.min(defaults.urgentSpanMs, minSpanMs), 1, minSpanMs, { max: 'minSpanMs' }),
    shortWindowMs: durationOption('shortWindowMs', options.shortWindowMs, Math.min(Math.max(defaults.shortWindowMs, minSpanMs), windowMs), minSpanMs, windowMs, {
      min: 'minSpanMs',
      max: 'windowMs',
    }),
    minSamples: numberOption('minSamples', options.minSamples, Math.max(defaults.minSamples, subWindows), subWindows, maxPointsPerSeries, true, {
      min: 'subWindows',
      max: 'maxPointsPerSeries',
    }),
    warmUpMs: durationOption('warmUpMs', options.warmUpMs, defaults.warmUpMs, 0, HOUR_MS),
    confirmMs: durationOption('confirmMs', options.confirmMs, defaults.confirmMs, 0, windowMs, { max: 'windowMs' }),
    heapRequiresMajorGc: booleanOption('heapRequiresMajorGc', options.heapRequiresMajorGc, defaults.heapRequiresMajorGc),
    subWindows,
    minRisingSubWindowRatio: numberOption('minRisingSubWindowRatio', options.minRisingSubWindowRatio, defaults.minRisingSubWindowRatio, 0, 1),
    minSlopeStandardErrors: numberOption('minSlopeStandardErrors', options.minSlopeStandardErrors, defaults.minSlopeStandardErrors, 0, 100),
    minRiseBytes: minRiseBytesOption(options.minRiseBytes),
    minRiseRatio: numberOption('minRiseRatio', options.minRiseRatio, defaults.minRiseRatio, 0, 1),
    minRateBytesPerSecond: resolveMinRates(options.minRateBytesPerSecond),
    minRiseCount: numberOption('minRiseCount', options.minRiseCount, defaults.minRiseCount, 1, Number.MAX_SAFE_INTEGER),
    minResourceRatePerSecond: numberOption('minResourceRatePerSecond', options.minResourceRatePerSecond, defaults.minResourceRatePerSecond, 0.001, 1e9),
    clearRateRatio: numberOption('clearRateRatio', options.clearRateRatio, defaults.clearRateRatio, 0, 0.99),
    maxPointsPerSeries,
    maxResourceTypes: numberOption('maxResourceTypes', options.maxResourceTypes, defaults.maxResourceTypes, 0, 1024, true),
  };

  return resolved;
}

function booleanOption(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidOption(name, 'true or false', value, 'type');
  return value;
}

function minRiseBytesOption(value: unknown): number {
  if (value === undefined) return DEFAULT_LEAK_DETECTOR_OPTIONS.minRiseBytes;

  const rule = 'a size of at least 1 byte, as a number of bytes or a string such as "2MiB"';
  if (typeof value !== 'number' && typeof value !== 'string') throw invalidOption('minRiseBytes', rule, value, 'type');

  const bytes = parseBytes(value);
  if (bytes === null || bytes < 1) throw invalidOption('minRiseBytes', rule, value);
  return bytes;
}

function resolveMinRates(value: unknown): Record<MemoryLeakKind, number> {
  const defaults = DEFAULT_LEAK_DETECTOR_OPTIONS.minRateBytesPerSecond;
  if (value === undefined) return { ...defaults };
  if (typeof value !== 'object' || value === null) {
    throw invalidOption('minRateBytesPerSecond', 'an object with heap, external and native rates in bytes per second', value, 'type');
  }

  const rates = value as Record<string, unknown>;
  for (const key of Object.keys(rates)) {
    if (!(key in defaults)) throw invalidOption(`minRateBytesPerSecond.${key}`, 'one of heap, external, native', rates[key], 'type');
  }

  // A rate of 0 would report any flat series that happens to pass the other rules, so the floor is 1 byte per second.
  return {
    heap: numberOption('minRateBytesPerSecond.heap', rates.heap, defaults.heap, 1, 2 ** 40),
    external: numberOption('minRateBytesPerSecond.external', rates.external, defaults.external, 1, 2 ** 40),
    native: numberOption('minRateBytesPerSecond.native', rates.native, defaults.native, 1, 2 ** 40),
  };
}
