/**
 * The design's pool and storage names over headroom's pools and operation
 * store. `QDTEnhancedStorage` keeps operations in SQLite with retention, lends
 * batch buffers from a `BufferPool`, and reports both pools' figures.
 */
import type { PressureLevel } from '../analysis/levels.js';
import { BufferPool, createBufferPool, type BufferPoolOptions, type BufferPoolStats } from '../pools/buffer-pool.js';
import { ObjectPool, createObjectPool, type ObjectPoolOptions, type ObjectPoolStats } from '../pools/object-pool.js';
import {
  createOperationStore,
  type FinishedOperationStatus,
  type OperationQuery,
  type OperationRecord,
  type OperationStore,
  type OperationStoreOptions,
  type OperationStoreStats,
} from '../store/operation-store.js';
import type { TrimResult } from '../util/trim.js';

/** The design's `QDTMemoryPool<T>`: headroom's `ObjectPool<T>`, with its checks for foreign and double release. */
export const QDTMemoryPool = ObjectPool;
export type QDTMemoryPool<T extends object> = ObjectPool<T>;
export type QDTMemoryPoolOptions<T extends object> = ObjectPoolOptions<T>;

/** Creates a `QDTMemoryPool`, which is an `ObjectPool`. Throws on an invalid option. */
export function createQDTMemoryPool<T extends object>(options: QDTMemoryPoolOptions<T>): QDTMemoryPool<T> {
  return createObjectPool(options);
}

export interface QDTEnhancedStorageOptions extends OperationStoreOptions {
  /** Options of the pool that lends batch buffers, or a pool to share. Default: `createBufferPool()` (4 KiB to 1 MiB classes, 8 idle per class). */
  buffers?: BufferPoolOptions | BufferPool;
}

export interface QDTEnhancedStorageStats {
  operations: OperationStoreStats;
  pools: { buffers: BufferPoolStats };
}

/** The operation store with retention, pooled batch buffers, and the statistics of both. */
export class QDTEnhancedStorage {
  readonly operations: OperationStore;
  readonly buffers: BufferPool;

  constructor(options: QDTEnhancedStorageOptions) {
    const { buffers, ...storeOptions } = options ?? ({} as QDTEnhancedStorageOptions);
    this.buffers = isBufferPool(buffers) ? buffers : createBufferPool(buffers);
    this.operations = createOperationStore(storeOptions);
  }

  /** Records the start of an operation. Throws when `maxActive` operations are running. */
  begin(kind: string, id?: string): OperationRecord {
    return this.operations.begin(kind, id);
  }

  /** Ends a running operation; its record is written in the next batch. */
  finish(id: string, status: FinishedOperationStatus, result: string | null = null): OperationRecord {
    return this.operations.finish(id, status, result);
  }

  list(query?: OperationQuery): OperationRecord[] {
    return this.operations.list(query);
  }

  /**
   * Lends a buffer of `sizeBytes` bytes, a view of a pooled one, to `work` and takes
   * it back when `work` returns or its promise settles, thrown errors included.
   * `work` must not keep the buffer afterwards: the next caller gets it.
   */
  withBatchBuffer<R>(sizeBytes: number, work: (buffer: Buffer) => R): R {
    const buffer = this.buffers.acquire(sizeBytes);
    let result: R;
    try {
      result = work(buffer);
    } catch (err) {
      this.buffers.release(buffer);
      throw err;
    }

    if (result instanceof Promise) {
      return result.finally(() => this.buffers.release(buffer)) as R;
    }
    this.buffers.release(buffer);
    return result;
  }

  /** Returns the batch-buffer pool's figures, by pool name. */
  poolStats(): { buffers: BufferPoolStats } {
    return { buffers: this.buffers.stats() };
  }

  stats(): QDTEnhancedStorageStats {
    return { operations: this.operations.stats(), pools: this.poolStats() };
  }

  /**
   * Drops idle buffers and finished records kept in memory under pressure:
   * half at moderate, all at high and critical. `bytes` counts the buffers
   * only, because the store cannot size its records.
   */
  trim(level: PressureLevel): TrimResult {
    const buffers = this.buffers.trim(level);
    const records = this.operations.trim(level);
    return { items: buffers.items + records.items, bytes: (buffers.bytes ?? 0) + (records.bytes ?? 0) };
  }

  /** Writes pending records and closes the store. The database stays open: its owner closes it. */
  close(): void {
    this.operations.close();
  }
}

function isBufferPool(value: unknown): value is BufferPool {
  return value instanceof BufferPool;
}

/** Creates the storage. Throws on an invalid option, as the operation store and buffer pool do. */
export function createQDTEnhancedStorage(options: QDTEnhancedStorageOptions): QDTEnhancedStorage {
  return new QDTEnhancedStorage(options);
}

export type { ObjectPoolStats };
