import { DEFAULT_THRESHOLDS, type PressureThresholds } from '../analysis/pressure.js';
import { resolveLeakDetectorOptions, type LeakDetectorOptions } from '../analysis/leak-options.js';
import type { ResponseOptions } from '../responses/responder.js';
import type { Probe } from '../sampling/probe.js';
import { systemClock, type Clock } from '../util/clock.js';
import { createDefaultLogger, type Logger } from '../util/logger.js';
import { objectOption } from '../util/options.js';
import { bytesOption, durationOption, invalidOption, nestedOptionError, numberOption } from '../util/validate.js';

export interface MemoryManagerOptions {
  /** Time between samples: milliseconds or a string such as "1s". Default 1000 ms. */
  intervalMs?: number | string;
  /** Time between samples at high and critical pressure, when shorter than `intervalMs`. Default 250 ms. */
  pressureIntervalMs?: number | string;
  /** A process limit of your own, in bytes or as "512MiB". The smallest of this, cgroup and `constrainedMemory()` applies. */
  limit?: number | string | null;
  /** Usage ratios (0 to 1) at which each level starts. Defaults: 0.7, 0.8, 0.9. */
  thresholds?: Partial<PressureThresholds>;
  /** A level is left only below its threshold minus this ratio. Default 0.05. */
  hysteresisRatio?: number;
  /** After start, levels below critical read as normal for this long. Default 5 s. */
  warmUpMs?: number | string;
  /** How often cgroup limits and `constrainedMemory()` are read again. Default 30 s. */
  limitRefreshMs?: number | string;
  /** `arrayBuffers` is read every this many samples, because reading it also reads RSS from /proc. Default 5. */
  arrayBuffersEverySamples?: number;
  /** How often the event-loop delay timer fires. Each wake-up costs CPU, so the default is 200 ms. */
  eventLoopResolutionMs?: number;
  /** A pino-compatible logger. Default: warnings and errors as JSON lines on stderr. */
  logger?: Logger;
  /** Leak detection settings, or false to turn it off. */
  leakDetection?: LeakDetectorOptions | false;
  /** Pressure responses: releaser timeout, forced GC and heap snapshot settings. */
  responses?: ResponseOptions;
  /** Time source; tests pass a scripted one. */
  clock?: Clock;
  /** Reading source; tests pass a scripted one. */
  probe?: Probe;
}

export interface ResolvedOptions {
  intervalMs: number;
  pressureIntervalMs: number;
  configuredLimitBytes: number | null;
  thresholds: PressureThresholds;
  hysteresisRatio: number;
  warmUpMs: number;
  limitRefreshMs: number;
  arrayBuffersEverySamples: number;
  eventLoopResolutionMs: number;
  logger: Logger;
  /** True when the caller passed a logger; the default one leaves warnings to `process.emitWarning`. */
  loggerInjected: boolean;
  clock: Clock;
  probe: Probe | null;
  /** Checked by the responder itself. */
  responses: ResponseOptions;
  /** Checked by the detector itself. */
  leakDetection: LeakDetectorOptions | false;
}

const HOUR_MS = 3_600_000;
const KNOWN_OPTIONS = new Set([
  'intervalMs',
  'pressureIntervalMs',
  'limit',
  'thresholds',
  'hysteresisRatio',
  'warmUpMs',
  'limitRefreshMs',
  'arrayBuffersEverySamples',
  'eventLoopResolutionMs',
  'logger',
  'responses',
  'leakDetection',
  'clock',
  'probe',
]);

/** Validates every option; the error names the option, the rule and the value received. */
export function resolveOptions(options: MemoryManagerOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options, 'type');

  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw invalidOption(key, `one of the known options (${[...KNOWN_OPTIONS].join(', ')})`, (options as Record<string, unknown>)[key], 'type');
    }
  }

  const thresholds = resolveThresholds(options.thresholds);
  const hysteresisRatio = numberOption('hysteresisRatio', options.hysteresisRatio, 0.05, 0, 0.5);
  if (hysteresisRatio >= thresholds.moderate) {
    throw invalidOption('hysteresisRatio', `a ratio below thresholds.moderate (${thresholds.moderate})`, hysteresisRatio);
  }

  return {
    intervalMs: durationOption('intervalMs', options.intervalMs, 1000, 10, HOUR_MS),
    pressureIntervalMs: durationOption('pressureIntervalMs', options.pressureIntervalMs, 250, 10, HOUR_MS),
    configuredLimitBytes: bytesOption('limit', options.limit, 1024 * 1024),
    thresholds,
    hysteresisRatio,
    warmUpMs: durationOption('warmUpMs', options.warmUpMs, 5000, 0, HOUR_MS),
    limitRefreshMs: durationOption('limitRefreshMs', options.limitRefreshMs, 30_000, 1000, 24 * HOUR_MS),
    arrayBuffersEverySamples: numberOption('arrayBuffersEverySamples', options.arrayBuffersEverySamples, 5, 1, 3600, true),
    eventLoopResolutionMs: numberOption('eventLoopResolutionMs', options.eventLoopResolutionMs, 200, 1, 1000, true),
    logger: resolveLogger(options.logger),
    loggerInjected: options.logger !== undefined,
    clock: resolveClock(options.clock),
    probe: resolveProbe(options.probe),
    responses: objectOption('responses', options.responses),
    leakDetection: leakDetectionOption(options.leakDetection),
  };
}

/** Validates the leak detection options when the manager is created, so an error names them as `leakDetection.windowMs`. */
function leakDetectionOption(value: LeakDetectorOptions | false | undefined): LeakDetectorOptions | false {
  if (value === false) return false;

  const options = objectOption('leakDetection', value, 'an object of leak detection options, or false to turn detection off');
  try {
    resolveLeakDetectorOptions(options);
  } catch (err) {
    throw nestedOptionError(err, 'leakDetection');
  }
  return options;
}

function resolveThresholds(value: Partial<PressureThresholds> | undefined): PressureThresholds {
  if (value === undefined) return { ...DEFAULT_THRESHOLDS };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidOption('thresholds', 'an object with moderate, high and critical ratios', value, 'type');
  }
  for (const key of Object.keys(value)) {
    if (!(key in DEFAULT_THRESHOLDS)) {
      throw invalidOption(`thresholds.${key}`, 'one of moderate, high, critical', (value as Record<string, unknown>)[key], 'type');
    }
  }

  const thresholds: PressureThresholds = {
    moderate: numberOption('thresholds.moderate', value.moderate, DEFAULT_THRESHOLDS.moderate, 0.01, 1),
    high: numberOption('thresholds.high', value.high, DEFAULT_THRESHOLDS.high, 0.01, 1),
    critical: numberOption('thresholds.critical', value.critical, DEFAULT_THRESHOLDS.critical, 0.01, 1),
  };
  if (!(thresholds.moderate < thresholds.high && thresholds.high < thresholds.critical)) {
    // invalidOption would describe these figures as a string the caller never passed, so the message is built here.
    const received = `moderate ${thresholds.moderate}, high ${thresholds.high}, critical ${thresholds.critical}`;
    throw new RangeError(`Invalid option \`thresholds\`: expected moderate < high < critical, got ${received}`);
  }
  return thresholds;
}

function resolveLogger(value: unknown): Logger {
  if (value === undefined) return createDefaultLogger();

  const methods = ['debug', 'info', 'warn', 'error'] as const;
  const logger = value as Record<string, unknown> | null;
  if (typeof logger !== 'object' || logger === null || methods.some((name) => typeof logger[name] !== 'function')) {
    throw invalidOption('logger', 'a pino-compatible logger with debug, info, warn and error methods', value, 'type');
  }
  return value as Logger;
}

function resolveClock(value: unknown): Clock {
  if (value === undefined) return systemClock;

  const clock = value as Partial<Clock> | null;
  if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function' || typeof clock.epochNow !== 'function') {
    throw invalidOption('clock', 'an object with now() and epochNow() methods', value, 'type');
  }
  return value as Clock;
}

function resolveProbe(value: unknown): Probe | null {
  if (value === undefined) return null;

  const methods = ['start', 'stop', 'heap', 'heapSpaces', 'rssBytes', 'arrayBuffersBytes', 'gcSinceLast', 'eventLoopSinceLast', 'limits'];
  const probe = value as Record<string, unknown> | null;
  if (typeof probe !== 'object' || probe === null || methods.some((name) => typeof probe[name] !== 'function')) {
    throw invalidOption('probe', `an object with the methods ${methods.join(', ')}`, value, 'type');
  }
  return value as Probe;
}
