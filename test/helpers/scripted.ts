import type { Clock } from '../../src/util/clock.js';
import type { HeapReading, PlatformLimits, Probe } from '../../src/sampling/probe.js';
import { emptyGcReading, type EventLoopReading, type GcReading, type HeapSpaceReading } from '../../src/sampling/sample.js';

const MIB = 2 ** 20;

/** A clock that moves only when a test advances it. */
export class ScriptedClock implements Clock {
  monotonicMs = 0;
  epochStartMs = 1_700_000_000_000;

  now(): number {
    return this.monotonicMs;
  }

  epochNow(): number {
    return this.epochStartMs + this.monotonicMs;
  }

  advance(ms: number): void {
    this.monotonicMs += ms;
  }
}

/** A probe whose readings are set by the test before each sample. */
export class ScriptedProbe implements Probe {
  heapReading: HeapReading = { usedBytes: 10 * MIB, totalBytes: 16 * MIB, limitBytes: 100 * MIB, externalBytes: 1 * MIB };
  rss = 60 * MIB;
  arrayBuffers = 0;
  gc: GcReading = emptyGcReading();
  eventLoop: EventLoopReading = { delayP50Ms: 10, delayP99Ms: 12, utilization: 0.1 };
  platformLimits: PlatformLimits = { cgroupV2Bytes: null, cgroupV1Bytes: null, constrainedMemoryBytes: null };
  started = false;
  limitReads = 0;
  arrayBufferReads = 0;

  start(): void {
    this.started = true;
  }

  stop(): void {
    this.started = false;
  }

  heap(): HeapReading {
    return { ...this.heapReading };
  }

  heapSpaces(): HeapSpaceReading[] {
    return [{ name: 'old_space', sizeBytes: this.heapReading.totalBytes, usedBytes: this.heapReading.usedBytes, availableBytes: 0 }];
  }

  rssBytes(): number {
    return this.rss;
  }

  arrayBuffersBytes(): number {
    this.arrayBufferReads++;
    return this.arrayBuffers;
  }

  /**
   * When true and the test set no GC figures, each interval reports one major GC,
   * so the live-set estimate follows heap used exactly.
   */
  majorGcEverySample = true;

  gcSinceLast(): GcReading {
    const reading = this.gc;
    this.gc = emptyGcReading();
    if (this.majorGcEverySample && reading.count === 0) {
      reading.count = 1;
      reading.byKind.major.count = 1;
    }
    return reading;
  }

  eventLoopSinceLast(): EventLoopReading {
    return { ...this.eventLoop };
  }

  limits(): PlatformLimits {
    this.limitReads++;
    return { ...this.platformLimits };
  }

  /** Sets heap used as a share of the heap limit. */
  setHeapRatio(ratio: number): void {
    this.heapReading.usedBytes = Math.round(ratio * this.heapReading.limitBytes);
  }
}
