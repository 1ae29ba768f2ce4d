import { PRESSURE_LEVELS, type PressureLevel } from '../analysis/levels.js';
import { systemClock, type Clock } from '../util/clock.js';
import { createDefaultLogger, type Logger } from '../util/logger.js';
import { invalidOption } from '../util/validate.js';
export { booleanOption, errorMessage, objectOption, rejectUnknownOptions } from '../util/options.js';

/** The levels at which a response can act: every level except normal. */
export type ResponseLevel = Exclude<PressureLevel, 'normal'>;

export const RESPONSE_LEVELS: readonly ResponseLevel[] = ['moderate', 'high', 'critical'];

/** Reads a level at which a response starts to act: moderate, high or critical. */
export function responseLevelOption(name: string, value: unknown, fallback: ResponseLevel): ResponseLevel {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && (RESPONSE_LEVELS as readonly string[]).includes(value)) return value as ResponseLevel;

  throw invalidOption(name, `one of ${RESPONSE_LEVELS.map((level) => `"${level}"`).join(', ')}`, value, typeof value === 'string' ? 'range' : 'type');
}

/** Reads a pressure level passed to a response at run time. */
export function pressureLevelArgument(name: string, value: unknown): PressureLevel {
  if (typeof value === 'string' && (PRESSURE_LEVELS as readonly string[]).includes(value)) return value as PressureLevel;

  throw invalidOption(name, `one of ${PRESSURE_LEVELS.map((level) => `"${level}"`).join(', ')}`, value, typeof value === 'string' ? 'range' : 'type');
}

/** Reads a required name: a non-empty string of at most `maxLength` characters. */
export function nameOption(name: string, value: unknown, maxLength = 200): string {
  const rule = `a non-empty string of at most ${maxLength} characters`;
  if (typeof value !== 'string') throw invalidOption(name, rule, value, 'type');
  if (value.length === 0 || value.length > maxLength) throw invalidOption(name, rule, value);
  return value;
}

/** Reads an optional function option, or returns `fallback` when it is missing. */
export function functionOption<F extends (...args: never[]) => unknown>(name: string, value: unknown, fallback: F): F {
  if (value === undefined) return fallback;
  if (typeof value !== 'function') throw invalidOption(name, 'a function', value, 'type');
  return value as F;
}

export function loggerOption(value: unknown): Logger {
  if (value === undefined) return createDefaultLogger();

  const methods = ['debug', 'info', 'warn', 'error'] as const;
  const logger = value as Record<string, unknown> | null;
  if (typeof logger !== 'object' || logger === null || methods.some((method) => typeof logger[method] !== 'function')) {
    throw invalidOption('logger', 'a pino-compatible logger with debug, info, warn and error methods', value, 'type');
  }
  return value as Logger;
}

export function clockOption(value: unknown): Clock {
  if (value === undefined) return systemClock;

  const clock = value as Partial<Clock> | null;
  if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function' || typeof clock.epochNow !== 'function') {
    throw invalidOption('clock', 'an object with now() and epochNow() methods', value, 'type');
  }
  return value as Clock;
}

