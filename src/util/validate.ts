import { parseBytes, parseDurationMs } from './size.js';

/** Describes a received value for an error message: `5 (number)`, `"abc" (string)`. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `${JSON.stringify(value)} (string)`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  return `${String(value)} (${typeof value})`;
}

/** Builds the error for an invalid option: it names the option, the rule and the value received. */
export function invalidOption(name: string, rule: string, value: unknown, kind: 'type' | 'range' = 'range'): Error {
  const message = `Invalid option \`${name}\`: expected ${rule}, got ${describeValue(value)}`;
  return kind === 'type' ? new TypeError(message) : new RangeError(message);
}

/** Names of the options a bound comes from, for bounds that depend on another option. */
export interface BoundNames {
  min?: string;
  max?: string;
}

/** Formats a bound for a rule: "8000 ms", or "minSpanMs (8000 ms)" when another option sets it. */
function boundText(value: string, optionName: string | undefined): string {
  return optionName === undefined ? value : `${optionName} (${value})`;
}

/**
 * Reads a duration option given as milliseconds or a string such as "30s",
 * within [min, max]. `bounds` names the options that set a bound, for a
 * message such as "from minSpanMs (8000 ms)".
 */
export function durationOption(name: string, value: unknown, fallbackMs: number, minMs: number, maxMs: number, bounds: BoundNames = {}): number {
  if (value === undefined) return fallbackMs;

  const rule = `a duration from ${boundText(`${minMs} ms`, bounds.min)} to ${boundText(`${maxMs} ms`, bounds.max)}, as milliseconds or a string such as "250ms" or "30s"`;
  if (typeof value !== 'number' && typeof value !== 'string') throw invalidOption(name, rule, value, 'type');

  const ms = parseDurationMs(value);
  if (ms === null || ms < minMs || ms > maxMs) throw invalidOption(name, rule, value);
  return ms;
}

/** Reads a byte-size option given as bytes or a string such as "512MiB"; `null` means none. */
export function bytesOption(name: string, value: unknown, minBytes: number): number | null {
  if (value === undefined || value === null) return null;

  const rule = `a size of at least ${minBytes} bytes, as a number of bytes or a string such as "512MiB", or null for none`;
  if (typeof value !== 'number' && typeof value !== 'string') throw invalidOption(name, rule, value, 'type');

  const bytes = parseBytes(value);
  if (bytes === null || bytes < minBytes) throw invalidOption(name, rule, value);
  return bytes;
}

/** Reads a number option within [min, max]. */
export function numberOption(name: string, value: unknown, fallback: number, min: number, max: number, integer = false, bounds: BoundNames = {}): number {
  if (value === undefined) return fallback;

  const rule = `${integer ? 'an integer' : 'a number'} from ${boundText(String(min), bounds.min)} to ${boundText(String(max), bounds.max)}`;
  if (typeof value !== 'number') throw invalidOption(name, rule, value, 'type');
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw invalidOption(name, rule, value);
  }
  return value;
}

/**
 * Returns the error of an option nested under `parent`: "`windowMs`" and
 * "`options.windowMs`" become "`leakDetection.windowMs`", and "`options`"
 * becomes "`leakDetection`". Other errors come back as they are.
 */
export function nestedOptionError(err: unknown, parent: string): unknown {
  if (!(err instanceof TypeError || err instanceof RangeError)) return err;

  const match = /^Invalid option `([^`]*)`/.exec(err.message);
  if (!match) return err;

  const name = match[1] as string;
  const nested = name === 'options' ? parent : `${parent}.${name.startsWith('options.') ? name.slice('options.'.length) : name}`;
  const renamed = `Invalid option \`${nested}\`${err.message.slice(match[0].length)}`;
  return err instanceof TypeError ? new TypeError(renamed) : new RangeError(renamed);
}
