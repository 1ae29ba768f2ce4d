import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { EventLoopReading } from './sample.js';

/** The maximum number of lateness readings kept between two reads; the oldest are dropped first. */
const MAX_READINGS = 4096;

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
 */
export class EventLoopMonitor {
  readonly #resolutionMs: number;
  #timer: NodeJS.Timeout | null = null;
  #lastTickMs = 0;
  #delaysMs: number[] = [];
  #lastUtilization: EventLoopUtilization | null = null;

  constructor(resolutionMs: number) {
    this.#resolutionMs = resolutionMs;
  }

  start(): void {
    if (this.#timer) return;

    this.#lastTickMs = performance.now();
    this.#timer = setInterval(() => this.#tick(), this.#resolutionMs);
    this.#timer.unref();
    this.#lastUtilization = performance.eventLoopUtilization();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#delaysMs = [];
    this.#lastUtilization = null;
  }

  /** Returns delay percentiles and utilisation since the previous read (or since start). */
  read(): EventLoopReading {
    if (!this.#timer || !this.#lastUtilization) return { delayP50Ms: 0, delayP99Ms: 0, utilization: 0 };

    const delays = this.#delaysMs;
    this.#delaysMs = [];
    delays.sort((a, b) => a - b);

    const now = performance.eventLoopUtilization();
    const utilization = performance.eventLoopUtilization(now, this.#lastUtilization).utilization;
    this.#lastUtilization = now;

    return { delayP50Ms: percentile(delays, 0.5), delayP99Ms: percentile(delays, 0.99), utilization };
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
