import { performance } from 'node:perf_hooks';
import type { EventLoopReading } from './sample.js';

/** The maximum number of lateness readings kept between two reads; the oldest are dropped first. */
const MAX_READINGS = 4096;

/**
 * The utilisation below which the delay timer pauses, until a read finds the
 * loop busier. At 1 % of a 1 s interval no callback ran for more than 10 ms.
 */
export const IDLE_UTILIZATION = 0.01;

/**
 * Measures event-loop delay as the lateness of a timer that fires every
 * `resolutionMs`, and utilisation per interval, both reset at each read.
 *
 * A JS timer is used instead of `monitorEventLoopDelay()` because the cost is
 * in the wake-ups, not the callback. At a 10 ms resolution the native
 * histogram alone took about 0.6 % of a core here, and reading its
 * percentiles cost about 60 µs. At the default 200 ms this timer wakes the
 * process 5 times a second and a read sorts a few values. A stall shorter
 * than the resolution shows only when it overlaps a tick.
 *
 * An idle loop has no delay to measure, and the timer's wake-ups would be most
 * of headroom's cost there. So when a read finds the utilisation below
 * IDLE_UTILIZATION, the timer pauses, and the next read that finds more starts
 * it again. A read over a paused interval reports a p50 of 0 and, as p99, the
 * loop's busy time in the interval: no timer could have waited longer than that.
 */
/** Milliseconds the loop spent idle and active since the process started, as `performance.eventLoopUtilization()` gives them. */
export interface LoopTime {
  idle: number;
  active: number;
}

export class EventLoopMonitor {
  readonly #resolutionMs: number;
  readonly #loopTime: () => LoopTime;
  #started = false;
  /** Null while stopped or paused for an idle loop. */
  #timer: NodeJS.Timeout | null = null;
  #lastTickMs = 0;
  #delaysMs: number[] = [];
  #lastLoopTime: LoopTime | null = null;

  /** `loopTime` is replaceable so tests can script an idle or busy loop. */
  constructor(resolutionMs: number, loopTime: () => LoopTime = () => performance.eventLoopUtilization()) {
    this.#resolutionMs = resolutionMs;
    this.#loopTime = loopTime;
  }

  /** True while the delay timer runs: started, and the loop was not idle at the latest read. */
  get timing(): boolean {
    return this.#timer !== null;
  }

  start(): void {
    if (this.#started) return;

    this.#started = true;
    this.#lastLoopTime = this.#loopTime();
    this.#startTimer();
  }

  stop(): void {
    this.#stopTimer();
    this.#started = false;
    this.#delaysMs = [];
    this.#lastLoopTime = null;
  }

  /** Returns delay percentiles and utilisation since the previous read (or since start), and pauses or resumes the timer. */
  read(): EventLoopReading {
    if (!this.#started || !this.#lastLoopTime) return { delayP50Ms: 0, delayP99Ms: 0, utilization: 0 };

    const timed = this.#timer !== null;
    const delays = this.#delaysMs;
    this.#delaysMs = [];
    delays.sort((a, b) => a - b);

    const now = this.#loopTime();
    const activeMs = now.active - this.#lastLoopTime.active;
    const elapsedMs = activeMs + now.idle - this.#lastLoopTime.idle;
    // Clamped, because the idle and active sums are floats whose differences can put the ratio a rounding error past 0 or 1.
    const utilization = elapsedMs > 0 ? Math.min(1, Math.max(0, activeMs / elapsedMs)) : 0;
    this.#lastLoopTime = now;

    if (utilization < IDLE_UTILIZATION) {
      this.#stopTimer();
    } else {
      this.#startTimer();
    }

    if (!timed) return { delayP50Ms: 0, delayP99Ms: activeMs, utilization };
    return { delayP50Ms: percentile(delays, 0.5), delayP99Ms: percentile(delays, 0.99), utilization };
  }

  #startTimer(): void {
    if (this.#timer) return;

    this.#lastTickMs = performance.now();
    this.#timer = setInterval(() => this.#tick(), this.#resolutionMs);
    this.#timer.unref();
  }

  #stopTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  #tick(): void {
    const now = performance.now();
    const delayMs = Math.max(0, now - this.#lastTickMs - this.#resolutionMs);
    this.#lastTickMs = now;

    if (this.#delaysMs.length >= MAX_READINGS) this.#delaysMs.shift();
    this.#delaysMs.push(delayMs);
  }
}

/** Nearest-rank percentile of sorted values; 0 when there are none. */
function percentile(sorted: number[], share: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1);
  return sorted[Math.max(0, index)] as number;
}
