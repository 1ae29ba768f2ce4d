import { describeValue, invalidOption } from './validate.js';

/** Throws a TypeError naming the first key of `options` that is not in `known`. */
export function rejectUnknownOptions(name: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw invalidOption(`${name}.${key}`, `one of the known options (${known.join(', ')})`, (options as Record<string, unknown>)[key], 'type');
    }
  }
}

/** Reads an options object that may be omitted. Anything but an object or undefined is a TypeError stating `rule`. */
export function objectOption<T extends object>(name: string, value: T | undefined, rule = 'an object'): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidOption(name, rule, value, 'type');
  return value;
}

export function booleanOption(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidOption(name, 'true or false', value, 'type');
  return value;
}

/** Returns an error's message, or a description of a thrown value that is not an Error. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : `a non-Error value was thrown: ${describeValue(error)}`;
}
