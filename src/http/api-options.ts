import type { Clock } from '../util/clock.js';
import { createDefaultLogger, type Logger } from '../util/logger.js';
import { durationOption, invalidOption, numberOption } from '../util/validate.js';
import {
  booleanOption,
  clockOption,
  functionOption,
  loggerOption,
  objectOption,
  pathPrefixOption,
  rejectUnknownOptions,
  stringListOption,
  triggerLevelOption,
  type TriggerLevel,
} from './options.js';
import { resolvePrometheusOptions, type PrometheusOptions, type ResolvedPrometheusOptions } from './prometheus.js';
import type { LoadShedder, LoadShedderOptions } from './shedder.js';
import type { HeadroomActions, HeadroomAnalysis, HeadroomHistory } from './types.js';

/** The POST routes, each with its own cooldown. */
export type ActionRoute = 'gc' | 'optimize' | 'snapshot';

export interface HeadroomApiOptions {
  /** Path prefix of every route, such as `/headroom` (the default) or `""` for the root. */
  prefix?: string;
  /**
   * Bearer token required by the POST routes. Default null: no token, and the
   * POST routes accept loopback clients only.
   */
  token?: string | null;
  /** Applies the token-or-loopback rule to the GET routes as well. Default false. */
  protectReads?: boolean;
  /**
   * Time a POST route waits after a call starts before it accepts the next:
   * one duration for all, or per route. Defaults: gc 10 s, optimize 10 s, snapshot 60 s.
   */
  cooldownMs?: number | string | Partial<Record<ActionRoute, number | string>>;
  /** GET /health responds 503 at this level or worse. Default `'critical'`. */
  unhealthyLevel?: TriggerLevel;
  /** The `Retry-After` of an unhealthy GET /health, in seconds. Default 10. */
  healthRetryAfterSeconds?: number;
  /** Options of the load shedder the adapters' middleware uses, a shedder already attached to a manager, or false for none. Default `{}`. */
  shedding?: LoadShedderOptions | LoadShedder | false;
  /** Options of the Prometheus registry, or false to respond 404 to GET /metrics/prometheus. Default `{}`. */
  prometheus?: PrometheusOptions | false;
  /**
   * The actions of the POST routes. A route whose action is missing responds 501.
   * Default: the manager's own `forceGc`, `relieve` and `writeSnapshot`. Null turns the routes off (501).
   */
  actions?: HeadroomActions | null;
  /** Replaces the built-in history as the source of GET /analytics. */
  history?: HeadroomHistory | null;
  /** Samples kept by the built-in history: about 100 bytes each. Default 3600 (an hour at 1 s). */
  historySize?: number;
  /** Events (pressure, leak, action) kept by the built-in history. Default 1000. */
  historyEventsSize?: number;
  /**
   * Leak detection figures for GET /metrics and Prometheus. Default: the
   * manager's own live set, forecast and active leaks. Null leaves them out.
   */
  analysis?: (() => HeadroomAnalysis | null) | null;
  /** Extra top-level sections of GET /metrics, such as `pools` or `governor`. */
  extraMetrics?: (() => Record<string, unknown>) | null;
  /**
   * More manager events to record and push to stream clients. `sample`,
   * `pressure`, `warning`, `leak`, `leak-cleared` and `action` are always followed. Default `[]`.
   */
  events?: string[];
  /** The largest request body accepted, in bytes. Default 16384. */
  maxBodyBytes?: number;
  /** A pino-compatible logger. Default: warnings and errors as JSON lines on stderr. */
  logger?: Logger;
  /** Time source of the cooldowns and the analytics window; tests pass a scripted one. */
  clock?: Clock;
}

export interface ResolvedApiOptions {
  prefix: string;
  token: string | null;
  protectReads: boolean;
  cooldownMs: Record<ActionRoute, number>;
  unhealthyLevel: TriggerLevel;
  healthRetryAfterSeconds: number;
  shedding: LoadShedderOptions | LoadShedder | false;
  prometheus: ResolvedPrometheusOptions | false;
  actions: HeadroomActions | null;
  history: HeadroomHistory | null;
  historySize: number;
  historyEventsSize: number;
  analysis: (() => HeadroomAnalysis | null) | null;
  extraMetrics: (() => Record<string, unknown>) | null;
  events: string[];
  maxBodyBytes: number;
  logger: Logger;
  clock: Clock;
}

/** Manager events the API always follows. */
export const FOLLOWED_EVENTS = ['sample', 'pressure', 'warning', 'leak', 'leak-cleared', 'action'] as const;

const DEFAULT_COOLDOWN_MS: Record<ActionRoute, number> = { gc: 10_000, optimize: 10_000, snapshot: 60_000 };
const HOUR_MS = 3_600_000;

const KNOWN_OPTIONS = [
  'prefix',
  'token',
  'protectReads',
  'cooldownMs',
  'unhealthyLevel',
  'healthRetryAfterSeconds',
  'shedding',
  'prometheus',
  'actions',
  'history',
  'historySize',
  'historyEventsSize',
  'analysis',
  'extraMetrics',
  'events',
  'maxBodyBytes',
  'logger',
  'clock',
] as const;

/** Validates every API option; the error names the option, the rule and the value received. */
export function resolveApiOptions(options: HeadroomApiOptions = {}): ResolvedApiOptions {
  const given = objectOption('options', options);
  rejectUnknownOptions('options', given, KNOWN_OPTIONS);

  return {
    prefix: pathPrefixOption('prefix', given.prefix, '/headroom'),
    token: resolveToken(given.token),
    protectReads: booleanOption('protectReads', given.protectReads, false),
    cooldownMs: resolveCooldowns(given.cooldownMs),
    unhealthyLevel: triggerLevelOption('unhealthyLevel', given.unhealthyLevel, 'critical'),
    healthRetryAfterSeconds: numberOption('healthRetryAfterSeconds', given.healthRetryAfterSeconds, 10, 1, 3600, true),
    shedding: resolveShedding(given.shedding),
    prometheus: given.prometheus === false ? false : resolvePrometheusOptions(given.prometheus),
    actions: resolveActions(given.actions),
    history: resolveHistory(given.history),
    historySize: numberOption('historySize', given.historySize, 3600, 1, 1_000_000, true),
    historyEventsSize: numberOption('historyEventsSize', given.historyEventsSize, 1000, 1, 100_000, true),
    analysis: functionOption('analysis', given.analysis),
    extraMetrics: functionOption('extraMetrics', given.extraMetrics),
    events: stringListOption('events', given.events, []),
    maxBodyBytes: numberOption('maxBodyBytes', given.maxBodyBytes, 16_384, 2, 1_048_576, true),
    logger: loggerOption('logger', given.logger, createDefaultLogger),
    clock: clockOption('clock', given.clock),
  };
}

function resolveToken(value: unknown): string | null {
  if (value === undefined || value === null) return null;

  // The messages describe the value without showing it, because it is a secret.
  const rule = 'a string of 16 or more visible ASCII characters (a header carries no others, and a short token is guessable), or null for none';
  if (typeof value !== 'string') throw new TypeError(`Invalid option \`token\`: expected ${rule}, got a value of type ${typeof value}`);
  if (!/^[\x21-\x7e]{16,}$/.test(value)) throw new RangeError(`Invalid option \`token\`: expected ${rule}, got a string of ${value.length} characters`);
  return value;
}

function resolveCooldowns(value: HeadroomApiOptions['cooldownMs']): Record<ActionRoute, number> {
  if (value === undefined) return { ...DEFAULT_COOLDOWN_MS };

  if (typeof value === 'number' || typeof value === 'string') {
    const ms = durationOption('cooldownMs', value, 0, 0, HOUR_MS);
    return { gc: ms, optimize: ms, snapshot: ms };
  }

  const perRoute = objectOption('cooldownMs', value);
  rejectUnknownOptions('cooldownMs', perRoute, ['gc', 'optimize', 'snapshot']);
  return {
    gc: durationOption('cooldownMs.gc', perRoute.gc, DEFAULT_COOLDOWN_MS.gc, 0, HOUR_MS),
    optimize: durationOption('cooldownMs.optimize', perRoute.optimize, DEFAULT_COOLDOWN_MS.optimize, 0, HOUR_MS),
    snapshot: durationOption('cooldownMs.snapshot', perRoute.snapshot, DEFAULT_COOLDOWN_MS.snapshot, 0, HOUR_MS),
  };
}

function resolveShedding(value: unknown): ResolvedApiOptions['shedding'] {
  if (value === undefined) return {};
  if (value === false) return false;
  if (typeof value !== 'object' || value === null) throw invalidOption('shedding', 'shedder options, a LoadShedder or false', value, 'type');
  return value as LoadShedderOptions | LoadShedder;
}

function resolveActions(value: unknown): HeadroomActions | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object') throw invalidOption('actions', 'an object with gc, relieve and snapshot methods, each optional', value, 'type');

  for (const method of ['gc', 'relieve', 'snapshot'] as const) {
    functionOption(`actions.${method}`, (value as Record<string, unknown>)[method]);
  }
  return value as HeadroomActions;
}

function resolveHistory(value: unknown): HeadroomHistory | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || typeof (value as Partial<HeadroomHistory>).summarize !== 'function') {
    throw invalidOption('history', 'an object with a summarize(windowMs) method', value, 'type');
  }
  return value as HeadroomHistory;
}
