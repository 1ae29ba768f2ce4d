import { parseBytes, parseDurationMs } from '../util/size.js';

/** A command-line mistake: the message names the flag, the rule and the value. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface ParsedFlags {
  values: Map<string, string | true>;
  rest: string[];
}

/**
 * Splits `--flag value`, `--flag=value` and boolean `--flag` from the command
 * that follows. Flags end at `--` or at the first word that is not a flag.
 */
export function parseFlags(argv: string[], valueFlags: Set<string>, booleanFlags: Set<string>): ParsedFlags {
  const values = new Map<string, string | true>();
  let index = 0;

  while (index < argv.length) {
    const arg = argv[index] as string;
    if (arg === '--') return { values, rest: argv.slice(index + 1) };
    if (!arg.startsWith('--')) break;

    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (booleanFlags.has(name)) {
      if (inline !== undefined) throw new UsageError(`${name} takes no value, got "${arg}"`);
      values.set(name, true);
      index++;
      continue;
    }
    if (!valueFlags.has(name)) {
      const known = [...valueFlags, ...booleanFlags].sort().join(', ');
      throw new UsageError(`unknown flag ${name} (known flags: ${known}); put the program after "--"`);
    }

    const value = inline ?? argv[index + 1];
    if (value === undefined || (inline === undefined && value.startsWith('--'))) throw new UsageError(`${name} needs a value`);
    values.set(name, value);
    index += inline === undefined ? 2 : 1;
  }

  return { values, rest: argv.slice(index) };
}

export function sizeFlag(flags: ParsedFlags, name: string): number | null {
  const value = flags.values.get(name);
  if (value === undefined) return null;

  const bytes = typeof value === 'string' ? parseBytes(value) : null;
  if (bytes === null || bytes < 16 * 2 ** 20) {
    throw new UsageError(`${name} expects a size of at least 16MiB, such as 256MiB or 1GiB, got "${String(value)}"`);
  }
  return bytes;
}

export function durationFlag(flags: ParsedFlags, name: string, fallbackMs: number, minMs: number, maxMs: number): number {
  const value = flags.values.get(name);
  if (value === undefined) return fallbackMs;

  const ms = typeof value === 'string' ? parseDurationMs(value) : null;
  if (ms === null || ms < minMs || ms > maxMs) {
    throw new UsageError(`${name} expects a duration from ${minMs} ms to ${maxMs} ms, in ms or with a unit such as 2s, got "${String(value)}"`);
  }
  return ms;
}

export function portFlag(flags: ParsedFlags): number | null {
  const value = flags.values.get('--port');
  if (value === undefined) return null;

  const port = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(port >= 0 && port <= 65_535)) throw new UsageError(`--port expects a TCP port from 0 to 65535, got "${String(value)}"`);
  return port;
}
