import type { Clock } from '../util/clock.js';
import { invalidOption } from '../util/validate.js';

/**
 * The way the daily limit counts starts. `calendar-day` resets at midnight in `timeZone`
 * (so up to twice the limit can start within an hour around midnight).
 * `rolling-24h` counts the starts of the last 24 hours, which never bursts.
 */
export type QuotaWindow = 'calendar-day' | 'rolling-24h';

export const QUOTA_WINDOWS: readonly QuotaWindow[] = ['calendar-day', 'rolling-24h'];

export interface DailyQuotaOptions {
  limit: number;
  window: QuotaWindow;
  /** An IANA time zone such as `'UTC'` or `'Europe/Paris'`; used by `calendar-day` only. */
  timeZone: string;
}

const DAY_MS = 86_400_000;
/** The maximum length of a calendar day is 25 hours, on a daylight-saving change, and one more hour is margin. */
const LONGEST_DAY_MS = 26 * 3_600_000;

/**
 * Counts operations against a daily limit, on the clock's wall time
 * (`epochNow()`), because a day is a wall-clock notion.
 */
export class DailyQuota {
  readonly limit: number;
  readonly window: QuotaWindow;
  readonly timeZone: string;
  readonly #clock: Clock;
  readonly #dayFormat: Intl.DateTimeFormat;
  /** calendar-day: the day that `#used` counts, as `YYYY-MM-DD` in the time zone. */
  #dayKey = '';
  #used = 0;
  /** rolling-24h: start times in epoch ms, oldest first; at most `limit` entries because a full window takes no more. */
  readonly #starts: number[] = [];

  constructor(options: DailyQuotaOptions, clock: Clock) {
    this.limit = options.limit;
    this.window = options.window;
    this.timeZone = options.timeZone;
    this.#clock = clock;
    this.#dayFormat = dayFormat(options.timeZone);
  }

  /** Operations that may still start now. */
  left(): number {
    return this.limit - this.used();
  }

  /** Operations counted in the current day or the last 24 hours. */
  used(): number {
    const nowMs = this.#clock.epochNow();
    if (this.window === 'rolling-24h') {
      this.#dropExpired(nowMs);
      return this.#starts.length;
    }

    const key = this.#dayFormat.format(nowMs);
    if (key !== this.#dayKey) {
      this.#dayKey = key;
      this.#used = 0;
    }
    return this.#used;
  }

  /** Counts one operation and returns true, or returns false when none is left. */
  take(): boolean {
    if (this.left() <= 0) return false;

    if (this.window === 'rolling-24h') this.#starts.push(this.#clock.epochNow());
    else this.#used++;
    return true;
  }

  /**
   * Returns when the next operation frees up, in epoch ms: the next midnight in
   * the time zone, or when the oldest counted start leaves the 24-hour window.
   * Returns null when nothing is counted.
   */
  resetsAt(): number | null {
    if (this.used() === 0) return null;

    const nowMs = this.#clock.epochNow();
    if (this.window === 'rolling-24h') return (this.#starts[0] ?? nowMs) + DAY_MS;
    return this.#nextDayStart(nowMs);
  }

  #dropExpired(nowMs: number): void {
    let expired = 0;
    while (expired < this.#starts.length && (this.#starts[expired] ?? 0) <= nowMs - DAY_MS) expired++;
    if (expired > 0) this.#starts.splice(0, expired);
  }

  /**
   * Finds the first millisecond of the next calendar day by bisection on the
   * formatted date. Bisection instead of offset arithmetic, so days of 23 or 25
   * hours around a daylight-saving change come out right.
   */
  #nextDayStart(nowMs: number): number {
    const today = this.#dayFormat.format(nowMs);
    let low = nowMs;
    let high = nowMs + LONGEST_DAY_MS;

    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (this.#dayFormat.format(middle) === today) low = middle;
      else high = middle;
    }
    return high;
  }
}

/** Returns a formatter that gives the calendar date in `timeZone` as `YYYY-MM-DD`. Throws a RangeError for an unknown zone. */
function dayFormat(timeZone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
}

/** Validates a time zone option against the IANA names that Intl supports. */
export function timeZoneOption(name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;

  const rule = 'an IANA time zone name such as "UTC" or "Europe/Paris"';
  if (typeof value !== 'string') throw invalidOption(name, rule, value, 'type');

  try {
    dayFormat(value);
  } catch {
    throw invalidOption(name, rule, value);
  }
  return value;
}
