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

/** Reads a duration option given as milliseconds or a string such as "30s", within [min, max]. */
export function durationOption(name: string, value: unknown, fallbackMs: number, minMs: number, maxMs: number): number {
  if (value === undefined) return fallbackMs;

  const rule = `a duration from ${minMs} ms to ${maxMs} ms, as milliseconds or a string such as "250ms" or "30s"`;
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
export function numberOption(name: string, value: unknown, fallback: number, min: number, max: number, integer = false): number {
  if (value === undefined) return fallback;

  const rule = `${integer ? 'an integer' : 'a number'} from ${min} to ${max}`;
  if (typeof value !== 'number') throw invalidOption(name, rule, value, 'type');
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw invalidOption(name, rule, value);
  }
  return value;
}
