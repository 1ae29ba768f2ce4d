import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { getHeapStatistics, writeHeapSnapshot } from 'node:v8';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { formatBytes } from '../util/size.js';
import { invalidOption, numberOption } from '../util/validate.js';
import { clockOption, errorMessage, functionOption, loggerOption, nameOption, objectOption, rejectUnknownOptions } from './response-options.js';

/**
 * The reason no snapshot was written:
 * - `growth-outside-heap`: memory grows in external or native memory, which a heap snapshot does not show.
 * - `max-files`: the directory already contains `maxFiles` snapshots.
 * - `no-room`: the estimated cost exceeds the free memory.
 * - `failed`: writing failed.
 */
export type SnapshotSkipReason = 'growth-outside-heap' | 'max-files' | 'no-room' | 'failed';

/** The kind of memory that grew recently: the JS heap, external memory (Buffers, ArrayBuffers), other native memory, or unknown. */
export type GrowthSource = 'heap' | 'external' | 'native' | 'unknown';

export interface HeapSnapshotRequest {
  /** The effective process limit in bytes, or null when the process has none. */
  limitBytes: number | null;
  /** Default `'unknown'`, which does not block the snapshot. */
  growth?: GrowthSource;
}

/** The memory figures that decide whether a snapshot fits. */
export interface SnapshotMemoryReading {
  heapUsedBytes: number;
  heapLimitBytes: number;
  rssBytes: number;
}

export type HeapSnapshotResult =
  | {
      written: true;
      path: string;
      sizeBytes: number;
      durationMs: number;
      estimatedCostBytes: number;
      roomBytes: number;
    }
  | {
      written: false;
      reason: SnapshotSkipReason;
      message: string;
      /** Null when the check that failed came before the estimate. */
      estimatedCostBytes: number | null;
      roomBytes: number | null;
    };

export interface HeapSnapshotWriterOptions {
  /** The directory for snapshots, created when missing. It is required, so snapshots go only where the caller chose. */
  directory: string;
  /** The maximum number of snapshot files in the directory. At that count no more are written. Default 3. */
  maxFiles?: number;
  /** Estimated peak RSS growth while writing, as a multiple of heap used. Default 8. */
  peakGrowthFactor?: number;
  /** File names are `<filePrefix>-<time>-<pid>-<n>.heapsnapshot`. Default `'headroom'`. */
  filePrefix?: string;
  /** Writes a snapshot to the given path. Default `v8.writeHeapSnapshot`. Tests pass a fake. */
  writeSnapshot?: (path: string) => void;
  /** Reads heap used, heap limit and RSS. Default: `process.memoryUsage()` and `v8.getHeapStatistics()`. */
  readMemory?: () => SnapshotMemoryReading;
  clock?: Clock;
  logger?: Logger;
}

/**
 * Peak RSS growth while writing follows the number of objects more than their
 * bytes. With Node 20.20 on a 2-core VM it measured 0.8x heap used for 50 MiB
 * of 200-element arrays, 7.9x for 50 MiB of 2 KB strings and 27-30x for 46-83
 * MiB of two-field objects. Reports give 8x for a 100 MB heap and 20x for a
 * 200 MB one.
 * NOTE: 8 underestimates heaps of many small objects. Set `peakGrowthFactor`
 * near 30 for those.
 */
const DEFAULT_PEAK_GROWTH_FACTOR = 8;

const SNAPSHOT_EXTENSION = '.heapsnapshot';
const PARTIAL_EXTENSION = '.partial';
const GROWTH_SOURCES: readonly GrowthSource[] = ['heap', 'external', 'native', 'unknown'];
const KNOWN_OPTIONS = ['directory', 'maxFiles', 'peakGrowthFactor', 'filePrefix', 'writeSnapshot', 'readMemory', 'clock', 'logger'] as const;

/**
 * Writes heap snapshots when there is room for them. Each is written to a
 * `.partial` file and renamed when complete, so a finished name always contains
 * a whole snapshot, and a failed write leaves no file.
 *
 * NOTE: a process killed while writing (exit 137) leaves its `.partial` file
 * behind. Such files are not counted against `maxFiles` and are not removed.
 */
export class HeapSnapshotWriter {
  readonly #directory: string;
  readonly #maxFiles: number;
  readonly #peakGrowthFactor: number;
  readonly #filePrefix: string;
  readonly #writeSnapshot: (path: string) => void;
  readonly #readMemory: () => SnapshotMemoryReading;
  readonly #clock: Clock;
  readonly #logger: Logger;
  #sequence = 0;

  constructor(options: HeapSnapshotWriterOptions) {
    if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object with at least a directory', options, 'type');
    const resolved = objectOption('options', options);
    rejectUnknownOptions('options', resolved, KNOWN_OPTIONS);

    this.#directory = resolve(nameOption('directory', resolved.directory, 4096));
    this.#maxFiles = numberOption('maxFiles', resolved.maxFiles, 3, 1, 1000, true);
    this.#peakGrowthFactor = numberOption('peakGrowthFactor', resolved.peakGrowthFactor, DEFAULT_PEAK_GROWTH_FACTOR, 1, 100);
    this.#filePrefix = filePrefixOption(resolved.filePrefix);
    this.#writeSnapshot = functionOption('writeSnapshot', resolved.writeSnapshot, (path: string) => void writeHeapSnapshot(path));
    this.#readMemory = functionOption('readMemory', resolved.readMemory, readSnapshotMemory);
    this.#clock = clockOption(resolved.clock);
    this.#logger = loggerOption(resolved.logger);
  }

  get directory(): string {
    return this.#directory;
  }

  /** Lists the finished snapshots of this writer's prefix in the directory, oldest name first. */
  listSnapshots(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.#directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }

    return names.filter((name) => name.startsWith(`${this.#filePrefix}-`) && name.endsWith(SNAPSHOT_EXTENSION)).sort();
  }

  /**
   * Writes a heap snapshot unless the growth is outside the heap, the
   * directory is full, or the estimated cost exceeds the free room. Returns
   * the path written or the reason for skipping.
   *
   * The room is `limitBytes - rssBytes` under a process limit, and heap limit
   * minus heap used without one. The estimated cost is `peakGrowthFactor`
   * times heap used. Writing is synchronous and blocks the event loop for
   * seconds on a large heap.
   */
  write(request: HeapSnapshotRequest): HeapSnapshotResult {
    const { limitBytes, growth } = resolveRequest(request);

    if (growth === 'external' || growth === 'native') {
      return this.#skip('growth-outside-heap', `memory is growing in ${growth} memory, which a heap snapshot does not show`, null, null);
    }

    const memory = this.#readMemory();
    const estimatedCostBytes = Math.round(memory.heapUsedBytes * this.#peakGrowthFactor);
    const roomBytes = limitBytes === null ? memory.heapLimitBytes - memory.heapUsedBytes : limitBytes - memory.rssBytes;
    if (roomBytes < estimatedCostBytes) {
      const budget = limitBytes === null ? 'under the heap limit' : `under the process limit of ${formatBytes(limitBytes)}`;
      const message =
        `a snapshot may need about ${formatBytes(estimatedCostBytes)} (${this.#peakGrowthFactor} x ${formatBytes(memory.heapUsedBytes)} of heap used) ` +
        `but only ${formatBytes(roomBytes)} is free ${budget}`;
      return this.#skip('no-room', message, estimatedCostBytes, roomBytes);
    }

    let existing: string[];
    try {
      existing = this.listSnapshots();
    } catch (error) {
      return this.#fail(error, `failed to list ${this.#directory}`, estimatedCostBytes, roomBytes);
    }
    if (existing.length >= this.#maxFiles) {
      const message = `${this.#directory} already contains ${existing.length} snapshot(s), the maximum set by maxFiles (${this.#maxFiles}). Move or delete old snapshots to allow new ones.`;
      return this.#skip('max-files', message, estimatedCostBytes, roomBytes);
    }

    return this.#writeFile(estimatedCostBytes, roomBytes);
  }

  #writeFile(estimatedCostBytes: number, roomBytes: number): HeapSnapshotResult {
    const path = join(this.#directory, this.#nextFileName());
    const partialPath = `${path}${PARTIAL_EXTENSION}`;

    this.#logger.info({ path, estimatedCostBytes, roomBytes }, 'headroom: writing a heap snapshot, which blocks the event loop until it ends');
    const startMs = this.#clock.now();

    try {
      mkdirSync(this.#directory, { recursive: true });
      this.#writeSnapshot(partialPath);

      const sizeBytes = statSync(partialPath).size;
      if (sizeBytes === 0) throw new Error(`the snapshot file ${partialPath} is empty`);

      renameSync(partialPath, path);
      const durationMs = Math.max(0, this.#clock.now() - startMs);
      this.#logger.info({ path, sizeBytes, durationMs }, `headroom: wrote a heap snapshot of ${formatBytes(sizeBytes)} to ${path}`);
      return { written: true, path, sizeBytes, durationMs, estimatedCostBytes, roomBytes };
    } catch (error) {
      rmSync(partialPath, { force: true });
      return this.#fail(error, `failed to write a heap snapshot to ${path}`, estimatedCostBytes, roomBytes);
    }
  }

  #nextFileName(): string {
    const time = new Date(this.#clock.epochNow()).toISOString().replace(/[:.]/g, '-');
    this.#sequence++;
    return `${this.#filePrefix}-${time}-${process.pid}-${this.#sequence}${SNAPSHOT_EXTENSION}`;
  }

  #skip(reason: SnapshotSkipReason, message: string, estimatedCostBytes: number | null, roomBytes: number | null): HeapSnapshotResult {
    this.#logger.info({ reason, estimatedCostBytes, roomBytes }, `headroom: heap snapshot skipped: ${message}`);
    return { written: false, reason, message, estimatedCostBytes, roomBytes };
  }

  #fail(err: unknown, context: string, estimatedCostBytes: number, roomBytes: number): HeapSnapshotResult {
    this.#logger.error({ err, directory: this.#directory }, `headroom: ${context}`);
    return { written: false, reason: 'failed', message: `${context}: ${errorMessage(err)}`, estimatedCostBytes, roomBytes };
  }
}

/** Creates a heap snapshot writer. Throws on an invalid option. */
export function createHeapSnapshotWriter(options: HeapSnapshotWriterOptions): HeapSnapshotWriter {
  return new HeapSnapshotWriter(options);
}

function resolveRequest(request: HeapSnapshotRequest): { limitBytes: number | null; growth: GrowthSource } {
  if (typeof request !== 'object' || request === null) throw invalidOption('request', 'an object with limitBytes', request, 'type');

  const limitBytes = request.limitBytes;
  if (limitBytes !== null && !(typeof limitBytes === 'number' && Number.isFinite(limitBytes) && limitBytes > 0)) {
    const kind = typeof limitBytes === 'number' ? 'range' : 'type';
    throw invalidOption('request.limitBytes', 'a positive number of bytes, or null when the process has no limit', limitBytes, kind);
  }

  const growth = request.growth ?? 'unknown';
  if (!GROWTH_SOURCES.includes(growth)) throw invalidOption('request.growth', `one of ${GROWTH_SOURCES.join(', ')}`, growth);

  return { limitBytes, growth };
}

/** Reads the file prefix: letters, digits, dots, dashes and underscores, so the file cannot land outside the directory. */
function filePrefixOption(value: unknown): string {
  if (value === undefined) return 'headroom';

  const prefix = nameOption('filePrefix', value, 100);
  if (!/^[\w.-]+$/.test(prefix) || prefix.startsWith('.')) {
    throw invalidOption('filePrefix', 'letters, digits, ".", "-" and "_", not starting with "."', value);
  }
  return prefix;
}

function readSnapshotMemory(): SnapshotMemoryReading {
  const usage = process.memoryUsage();
  return { heapUsedBytes: usage.heapUsed, heapLimitBytes: getHeapStatistics().heap_size_limit, rssBytes: usage.rss };
}
