import { isPressureLevel, type PressureLevel } from '../analysis/levels.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { invalidOption } from '../util/validate.js';
export { booleanOption, errorMessage, objectOption, rejectUnknownOptions } from '../util/options.js';

/** Levels at which something can be triggered: every level but `normal`. */
export type TriggerLevel = Exclude<PressureLevel, 'normal'>;

export const TRIGGER_LEVELS: readonly TriggerLevel[] = ['moderate', 'high', 'critical'];

export function triggerLevelOption(name: string, value: unknown, fallback: TriggerLevel): TriggerLevel {
  if (value === undefined) return fallback;
  if (!isPressureLevel(value) || value === 'normal') {
    throw invalidOption(name, `one of ${TRIGGER_LEVELS.join(', ')}`, value, typeof value === 'string' ? 'range' : 'type');
  }
  return value;
}

/** Reads an optional function; `undefined` and `null` both mean none. */
export function functionOption<F extends (...args: never[]) => unknown>(name: string, value: unknown): F | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'function') throw invalidOption(name, 'a function', value, 'type');
  return value as F;
}

export function stringListOption(name: string, value: unknown, fallback: readonly string[]): string[] {
  if (value === undefined) return [...fallback];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item.length === 0)) {
    throw invalidOption(name, 'an array of non-empty strings', value, 'type');
  }
  return [...value] as string[];
}

/** Reads a URL path prefix: empty, or starting with `/` and not ending with one. */
export function pathPrefixOption(name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;

  const rule = 'an empty string or a path such as "/headroom" (starting with "/", not ending with one, without "?" or "#")';
  if (typeof value !== 'string') throw invalidOption(name, rule, value, 'type');
  if (value === '') return value;
  if (!value.startsWith('/') || value.endsWith('/') || /[?#\s]/.test(value)) throw invalidOption(name, rule, value);
  return value;
}

export function clockOption(name: string, value: unknown): Clock {
  if (value === undefined) return systemClock;

  const clock = value as Partial<Clock> | null;
  if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function' || typeof clock.epochNow !== 'function') {
    throw invalidOption(name, 'an object with now() and epochNow() methods', value, 'type');
  }
  return value as Clock;
}

export function loggerOption(name: string, value: unknown, fallback: () => Logger): Logger {
  if (value === undefined) return fallback();

  const logger = value as Record<string, unknown> | null;
  const methods = ['debug', 'info', 'warn', 'error'];
  if (typeof logger !== 'object' || logger === null || methods.some((method) => typeof logger[method] !== 'function')) {
    throw invalidOption(name, 'a pino-compatible logger with debug, info, warn and error methods', value, 'type');
  }
  return value as Logger;
}

