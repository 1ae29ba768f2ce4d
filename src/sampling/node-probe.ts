import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { countResources } from '../analysis/resources.js';
import { CgroupLimitReader, type CgroupPaths } from './cgroup.js';
import { EventLoopMonitor } from './event-loop.js';
import { GcObserver } from './gc-observer.js';
import { KeptFile } from './kept-file.js';
import type { HeapReading, PlatformLimits, Probe } from './probe.js';
import type { EventLoopReading, GcReading, HeapSpaceReading } from './sample.js';

export interface NodeProbeOptions {
  /** Resolution of the event-loop delay histogram, in milliseconds. */
  eventLoopResolutionMs: number;
  cgroupPaths?: CgroupPaths;
}

/** Linux reports RSS in pages in the second field of /proc/self/statm. */
const PAGE_SIZE_BYTES = 4096;

/** Reads the running process: V8 statistics, /proc and cgroup files kept open, perf_hooks. */
export class NodeProbe implements Probe {
  readonly #gc = new GcObserver(() => this.#afterMajorGc());
  #majorGcListener: ((heapUsedBytes: number) => void) | null = null;
  readonly #eventLoop: EventLoopMonitor;
  readonly #cgroupPaths: CgroupPaths | undefined;
  #cgroup: CgroupLimitReader | null = null;
  #statm: KeptFile | null = null;
  readonly #youngGenerationBytes = youngGenerationReserveBytes(process.execArgv, process.env.NODE_OPTIONS);

  constructor(options: NodeProbeOptions) {
    this.#eventLoop = new EventLoopMonitor(options.eventLoopResolutionMs);
    this.#cgroupPaths = options.cgroupPaths;
  }

  start(): void {
    this.#gc.start();
    this.#eventLoop.start();

    // Absent outside Linux; rssBytes() then falls back to process.memoryUsage.rss().
    this.#statm ??= KeptFile.open('/proc/self/statm', 128);
    this.#cgroup ??= new CgroupLimitReader(this.#cgroupPaths);
  }

  stop(): void {
    this.#gc.stop();
    this.#eventLoop.stop();
    this.#statm?.close();
    this.#statm = null;
    this.#cgroup?.close();
    this.#cgroup = null;
  }

  heap(): HeapReading {
    const stats = getHeapStatistics();
    return {
      usedBytes: stats.used_heap_size,
      totalBytes: stats.total_heap_size,
      limitBytes: stats.heap_size_limit,
      externalBytes: stats.external_memory,
      youngGenerationBytes: this.#youngGenerationBytes,
    };
  }

  heapSpaces(): HeapSpaceReading[] {
    return getHeapSpaceStatistics().map((space) => ({
      name: space.space_name,
      sizeBytes: space.space_size,
      usedBytes: space.space_used_size,
      availableBytes: space.space_available_size,
    }));
  }

  rssBytes(): number {
    const text = this.#statm?.read();
    if (text) {
      const pages = Number(text.split(' ', 2)[1]);
      if (Number.isFinite(pages)) return pages * PAGE_SIZE_BYTES;
    }

    return safeMemoryUsage()?.rss ?? 0;
  }

  arrayBuffersBytes(): number {
    return safeMemoryUsage()?.arrayBuffers ?? 0;
  }

  gcSinceLast(): GcReading {
    return this.#gc.drain();
  }

  eventLoopSinceLast(): EventLoopReading {
    return this.#eventLoop.read();
  }

  resources(): Record<string, number> {
    return countResources(process.getActiveResourcesInfo());
  }

  onMajorGc(listener: (heapUsedBytes: number) => void): void {
    this.#majorGcListener = listener;
  }

  #afterMajorGc(): void {
    // The observer reports a collection shortly after it ends, so this is heap used
    // then, a close upper bound of what survived.
    if (this.#majorGcListener) this.#majorGcListener(getHeapStatistics().used_heap_size);
  }

  limits(): PlatformLimits {
    let constrained: number | null = null;
    try {
      // Added in Node 19.6; returns 0 or 2^64 - 1 where no limit is set.
      constrained = process.constrainedMemory?.() ?? null;
    } catch {
      constrained = null;
    }

    return {
      cgroupV2Bytes: this.#cgroup?.readV2Bytes() ?? null,
      cgroupV1Bytes: this.#cgroup?.readV1Bytes() ?? null,
      constrainedMemoryBytes: constrained,
    };
  }
}

const MIB = 2 ** 20;

/**
 * Estimates the young generation V8 reserves inside `heap_size_limit`: three
 * semi-spaces (two semi-spaces plus the new large-object space), 16 MiB each by
 * default on 64-bit Node 20, so 48 MiB. Measured here: `--max-old-space-size=N`
 * gives a heap limit of N + 48 MiB for N from 32 to 4096. `--max-semi-space-size`
 * changes it.
 */
export function youngGenerationReserveBytes(execArgv: string[], nodeOptions: string | undefined): number {
  const flags = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];
  let semiSpaceMiB = 16;
  for (const flag of flags) {
    const match = /^--max[-_]semi[-_]space[-_]size[= ](\d+)$/.exec(flag);
    if (match) semiSpaceMiB = Number(match[1]);
  }
  return 3 * semiSpaceMiB * MIB;
}

/** `process.memoryUsage()` can throw (EMFILE while reading /proc), as prom-client notes too. */
function safeMemoryUsage(): NodeJS.MemoryUsage | null {
  try {
    return process.memoryUsage();
  } catch {
    return null;
  }
}
