import { clockOption, functionOption, loggerOption, objectOption, rejectUnknownOptions } from '../responses/response-options.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { durationOption, invalidOption, numberOption } from '../util/validate.js';
import { QUOTA_WINDOWS, timeZoneOption, type QuotaWindow } from './daily-quota.js';
import type { JobDefinition } from './job-record.js';
import { pressureSourceOption, type PressureSource } from './pressure-source.js';
import { defaultActiveAtModerate, type ActiveWindow } from './window.js';

/** Returns the next job to run, or null (or undefined) when there is nothing to do now. */
export type JobFactory = () => JobDefinition | null | undefined;

export interface WorkloadGovernorOptions {
  /** Called whenever a slot is free and the queue is empty. Without it, jobs come only from `submit()`. */
  factory?: JobFactory;
  /** A `MemoryManager`, or any object with `level` and `pressure` events. Without it the level stays normal. */
  pressure?: PressureSource | null;
  /** Jobs that may run at high pressure. Default 2. */
  minActive?: number;
  /** Jobs that may run at normal pressure. Default 5. */
  maxActive?: number;
  /** Jobs that may run at moderate pressure. Default: halfway between `minActive` and `maxActive`, rounded down (3). */
  activeAtModerate?: number;
  /** Running jobs kept at critical, where the rest are cancelled lowest priority first. Default 1, at most `minActive`. */
  keepAtCritical?: number;
  /** Time between health checks, which re-read the level and start what may start. Default 90 s. */
  healthCheckMs?: number | string;
  /** Job starts allowed per day, or `false` for no limit. Default 500. */
  dailyLimit?: number | false;
  /** `'calendar-day'` (default) resets at midnight in `quotaTimeZone`; `'rolling-24h'` counts the last 24 hours. */
  quotaWindow?: QuotaWindow;
  /** The IANA time zone whose midnight starts a calendar day. Default `'UTC'`. */
  quotaTimeZone?: string;
  /** The maximum number of queued jobs; `submit()` throws past it. Default 1000. */
  maxQueued?: number;
  /** Finished records kept in memory, newest first. Default 1000. */
  maxFinishedRecords?: number;
  /** Time source for records, the quota and health-check stamps; tests pass a scripted one. */
  clock?: Clock;
  /** A pino-compatible logger. Default: warnings and errors as JSON lines on stderr. */
  logger?: Logger;
}

export interface ResolvedGovernorOptions {
  factory: JobFactory | null;
  pressure: PressureSource | null;
  window: ActiveWindow;
  healthCheckMs: number;
  dailyLimit: number | null;
  quotaWindow: QuotaWindow;
  quotaTimeZone: string;
  maxQueued: number;
  maxFinishedRecords: number;
  clock: Clock;
  logger: Logger;
}

export const GOVERNOR_DEFAULTS = {
  minActive: 2,
  maxActive: 5,
  keepAtCritical: 1,
  healthCheckMs: 90_000,
  dailyLimit: 500,
  quotaWindow: 'calendar-day',
  quotaTimeZone: 'UTC',
  maxQueued: 1000,
  maxFinishedRecords: 1000,
} as const;

const KNOWN_OPTIONS = [
  'factory',
  'pressure',
  'minActive',
  'maxActive',
  'activeAtModerate',
  'keepAtCritical',
  'healthCheckMs',
  'dailyLimit',
  'quotaWindow',
  'quotaTimeZone',
  'maxQueued',
  'maxFinishedRecords',
  'clock',
  'logger',
] as const;

const MAX_JOBS = 100_000;
const DAY_MS = 86_400_000;

/** Validates every option; the error names the option, the rule and the value received. */
export function resolveGovernorOptions(options: WorkloadGovernorOptions | undefined): ResolvedGovernorOptions {
  const given = objectOption('options', options);
  rejectUnknownOptions('options', given, KNOWN_OPTIONS);

  return {
    factory: given.factory === undefined ? null : functionOption<JobFactory>('factory', given.factory, () => null),
    pressure: pressureSourceOption('pressure', given.pressure),
    window: resolveWindow(given),
    healthCheckMs: durationOption('healthCheckMs', given.healthCheckMs, GOVERNOR_DEFAULTS.healthCheckMs, 10, DAY_MS),
    dailyLimit: resolveDailyLimit(given.dailyLimit),
    quotaWindow: resolveQuotaWindow(given.quotaWindow),
    quotaTimeZone: timeZoneOption('quotaTimeZone', given.quotaTimeZone, GOVERNOR_DEFAULTS.quotaTimeZone),
    maxQueued: numberOption('maxQueued', given.maxQueued, GOVERNOR_DEFAULTS.maxQueued, 0, 10_000_000, true),
    maxFinishedRecords: numberOption('maxFinishedRecords', given.maxFinishedRecords, GOVERNOR_DEFAULTS.maxFinishedRecords, 0, 10_000_000, true),
    clock: clockOption(given.clock),
    logger: loggerOption(given.logger),
  };
}

function resolveWindow(given: Partial<WorkloadGovernorOptions>): ActiveWindow {
  const maxActive = numberOption('maxActive', given.maxActive, GOVERNOR_DEFAULTS.maxActive, 1, MAX_JOBS, true);
  const minActive = numberOption('minActive', given.minActive, Math.min(GOVERNOR_DEFAULTS.minActive, maxActive), 0, maxActive, true);
  const activeAtModerate = numberOption(
    'activeAtModerate',
    given.activeAtModerate,
    defaultActiveAtModerate(minActive, maxActive),
    minActive,
    maxActive,
    true,
  );
  const keepAtCritical = numberOption('keepAtCritical', given.keepAtCritical, Math.min(GOVERNOR_DEFAULTS.keepAtCritical, minActive), 0, minActive, true);

  return { maxActive, activeAtModerate, minActive, keepAtCritical };
}

function resolveDailyLimit(value: unknown): number | null {
  if (value === false) return null;
  return numberOption('dailyLimit', value, GOVERNOR_DEFAULTS.dailyLimit, 1, 1_000_000, true);
}

function resolveQuotaWindow(value: unknown): QuotaWindow {
  if (value === undefined) return GOVERNOR_DEFAULTS.quotaWindow;
  if (typeof value === 'string' && (QUOTA_WINDOWS as readonly string[]).includes(value)) return value as QuotaWindow;

  const rule = `one of ${QUOTA_WINDOWS.map((window) => `"${window}"`).join(', ')}`;
  throw invalidOption('quotaWindow', rule, value, typeof value === 'string' ? 'range' : 'type');
}

/** Validates a job definition passed to `submit()` or returned by the factory. */
export function validateJobDefinition(name: string, value: unknown): Required<JobDefinition> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidOption(name, 'an object with a run(signal) function', value, 'type');
  }

  const definition = value as Partial<JobDefinition>;
  if (typeof definition.run !== 'function') throw invalidOption(`${name}.run`, 'a function (signal) => unknown', definition.run, 'type');

  const kind = definition.kind ?? 'job';
  if (typeof kind !== 'string' || kind.length === 0 || kind.length > 200) {
    throw invalidOption(`${name}.kind`, 'a non-empty string of at most 200 characters', kind, typeof kind === 'string' ? 'range' : 'type');
  }

  const priority = numberOption(`${name}.priority`, definition.priority, 0, -1_000_000, 1_000_000);
  return { kind, priority, run: definition.run };
}

/** Builds the error `submit()` throws when the queue is full, with the figures that explain it. */
export function queueFullError(maxQueued: number, running: number, kind: string): RangeError {
  return new RangeError(
    `Cannot queue a job of kind ${JSON.stringify(kind)}: the queue is full (${maxQueued} queued, ${running} running). Raise maxQueued or submit later.`,
  );
}
