import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';
import type { EventLoopReading } from './sample.js';

const NANOSECONDS_PER_MS = 1e6;

/** Measures event-loop delay percentiles and utilisation per interval, resetting at each read. */
export class EventLoopMonitor {
  readonly #resolutionMs: number;
  #histogram: IntervalHistogram | null = null;
  #lastUtilization: EventLoopUtilization | null = null;

  constructor(resolutionMs: number) {
    this.#resolutionMs = resolutionMs;
  }

  start(): void {
    if (this.#histogram) return;

    this.#histogram = monitorEventLoopDelay({ resolution: this.#resolutionMs });
    this.#histogram.enable();
    this.#lastUtilization = performance.eventLoopUtilization();
  }

  stop(): void {
    this.#histogram?.disable();
    this.#histogram = null;
    this.#lastUtilization = null;
  }

  /** Returns delay and utilisation since the previous read (or since start). */
  read(): EventLoopReading {
    const histogram = this.#histogram;
    if (!histogram || !this.#lastUtilization) return { delayP50Ms: 0, delayP99Ms: 0, utilization: 0 };

    // The histogram has no samples until the first timer tick; its percentiles read 0 then.
    const reading: EventLoopReading = {
      delayP50Ms: histogram.count > 0 ? histogram.percentile(50) / NANOSECONDS_PER_MS : 0,
      delayP99Ms: histogram.count > 0 ? histogram.percentile(99) / NANOSECONDS_PER_MS : 0,
      utilization: 0,
    };
    histogram.reset();

    const now = performance.eventLoopUtilization();
    reading.utilization = performance.eventLoopUtilization(now, this.#lastUtilization).utilization;
    this.#lastUtilization = now;
    return reading;
  }
}
