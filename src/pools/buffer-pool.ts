import type { PressureLevel } from '../analysis/levels.js';
import { booleanOption, nameOption, objectOption, pressureLevelArgument, rejectUnknownOptions } from '../responses/response-options.js';
import { itemsToTrim, type TrimResult } from '../util/trim.js';
import { invalidOption, numberOption } from '../util/validate.js';
import { ObjectPool, type ObjectPoolStats } from './object-pool.js';
import { PoolError } from './pool-error.js';

const KIB = 1024;

/** 4 KiB, 16 KiB, 64 KiB, 256 KiB and 1 MiB: at most 4x waste per request, and 5 classes to search. */
export const DEFAULT_SIZE_CLASSES: readonly number[] = [4 * KIB, 16 * KIB, 64 * KIB, 256 * KIB, 1024 * KIB];
export const DEFAULT_MAX_IDLE_PER_CLASS = 8;

export interface BufferPoolOptions {
  /** Buffer sizes in bytes, each a positive integer; sorted on creation. Default 4 KiB, 16 KiB, 64 KiB, 256 KiB, 1 MiB. */
  sizeClasses?: readonly number[];
  /** Idle buffers kept per size class. Default 8, so at most 8 x 1.33 MiB = 10.7 MiB idle with the default classes. */
  maxIdlePerClass?: number;
  /** Fill each acquired buffer with zeros. Default false: like `Buffer.allocUnsafe`, a buffer contains stale bytes. */
  zeroFill?: boolean;
  /** The name in error messages. Default `'buffer pool'`. */
  name?: string;
}

export interface SizeClassStats extends ObjectPoolStats {
  sizeBytes: number;
  idleBytes: number;
}

export interface BufferPoolStats {
  classes: SizeClassStats[];
  created: number;
  reused: number;
  acquired: number;
  /** `reused / acquired` over every class; oversize requests count as misses. */
  hitRatio: number;
  idle: number;
  idleBytes: number;
  inUse: number;
  /** Requests larger than the largest class, served by an unpooled buffer. */
  oversize: number;
}

interface SizeClass {
  sizeBytes: number;
  pool: ObjectPool<Buffer>;
}

const KNOWN_OPTIONS = ['sizeClasses', 'maxIdlePerClass', 'zeroFill', 'name'] as const;
const MAX_CLASS_BYTES = 2 ** 31 - 1;

/**
 * Hands out buffers from size classes and takes them back. A request gets a
 * buffer of exactly the requested length: the whole pooled buffer when the
 * length matches a class, otherwise a view (`subarray`) of the next larger
 * one. Each pooled buffer owns its `ArrayBuffer` (`Buffer.allocUnsafeSlow`),
 * which is how a released view is traced back to its pooled buffer.
 */
export class BufferPool {
  readonly name: string;
  readonly zeroFill: boolean;
  readonly #classes: SizeClass[];
  /** The class of each pooled buffer, by the Buffer object: the fast path when the whole buffer comes back. */
  readonly #classOf = new WeakMap<Buffer, SizeClass>();
  /**
   * The pooled buffer and its class for each `ArrayBuffer` the pool made, to
   * trace a view back. Reading `buffer.buffer` costs about 70 ns on Node 20,
   * so it is read only for views.
   */
  readonly #owners = new WeakMap<ArrayBufferLike, { full: Buffer; sizeClass: SizeClass }>();
  /** Oversize buffers handed out: true while out, false once released. */
  readonly #oversize = new WeakMap<ArrayBufferLike, boolean>();
  #oversizeCount = 0;
  #oversizeInUse = 0;

  constructor(options: BufferPoolOptions = {}) {
    const given = objectOption('options', options);
    rejectUnknownOptions('options', given, KNOWN_OPTIONS);

    this.name = given.name === undefined ? 'buffer pool' : nameOption('name', given.name);
    this.zeroFill = booleanOption('zeroFill', given.zeroFill, false);
    const maxIdle = numberOption('maxIdlePerClass', given.maxIdlePerClass, DEFAULT_MAX_IDLE_PER_CLASS, 0, 1_000_000, true);

    this.#classes = resolveSizeClasses(given.sizeClasses).map((sizeBytes) => {
      const sizeClass: SizeClass = {
        sizeBytes,
        pool: new ObjectPool<Buffer>({ create: () => this.#allocate(sizeClass), maxIdle, objectSizeBytes: sizeBytes, name: `${this.name} (${sizeBytes}-byte class)` }),
      };
      return sizeClass;
    });
  }

  /** The size classes in bytes, smallest first. */
  get sizeClasses(): number[] {
    return this.#classes.map((sizeClass) => sizeClass.sizeBytes);
  }

  /** Returns a buffer of `sizeBytes` bytes, from the smallest class that fits, or unpooled when no class fits. */
  acquire(sizeBytes: number): Buffer {
    if (!Number.isInteger(sizeBytes) || sizeBytes < 0 || sizeBytes > MAX_CLASS_BYTES) {
      throw invalidOption('sizeBytes', `an integer from 0 to ${MAX_CLASS_BYTES}`, sizeBytes, typeof sizeBytes === 'number' ? 'range' : 'type');
    }

    const sizeClass = this.#classFor(sizeBytes);
    if (!sizeClass) return this.#acquireOversize(sizeBytes);

    const full = sizeClass.pool.acquire();
    if (this.zeroFill) full.fill(0);

    return sizeBytes === sizeClass.sizeBytes ? full : full.subarray(0, sizeBytes);
  }

  /**
   * Gives a buffer back, the one `acquire()` returned or any view of it.
   * Throws a `PoolError` for a buffer the pool did not hand out or one already
   * released. Keep no reference to a released buffer: its bytes go to the next
   * caller.
   */
  release(buffer: Buffer): void {
    if (!Buffer.isBuffer(buffer)) throw invalidOption('buffer', 'a Buffer from acquire()', buffer, 'type');

    const sizeClass = this.#classOf.get(buffer);
    if (sizeClass) {
      sizeClass.pool.release(buffer);
      return;
    }

    const owner = this.#owners.get(buffer.buffer);
    if (owner) {
      owner.sizeClass.pool.release(owner.full);
      return;
    }

    const out = this.#oversize.get(buffer.buffer);
    if (out === undefined) {
      throw new PoolError(
        'HEADROOM_POOL_FOREIGN_OBJECT',
        `Cannot release a ${buffer.length}-byte buffer to ${this.name}: this pool did not hand it out. Release each buffer to the pool that handed it out.`,
      );
    }
    if (!out) {
      throw new PoolError('HEADROOM_POOL_DOUBLE_RELEASE', `Cannot release a ${buffer.length}-byte buffer to ${this.name}: it was already released.`);
    }

    this.#oversize.set(buffer.buffer, false);
    this.#oversizeInUse--;
  }

  stats(): BufferPoolStats {
    const classes = this.#classes.map(({ sizeBytes, pool }) => {
      const stats = pool.stats();
      return { ...stats, sizeBytes, idleBytes: stats.idle * sizeBytes };
    });

    const sum = (pick: (stats: SizeClassStats) => number) => classes.reduce((total, stats) => total + pick(stats), 0);
    const acquired = sum((stats) => stats.acquired) + this.#oversizeCount;
    const reused = sum((stats) => stats.reused);
    return {
      classes,
      created: sum((stats) => stats.created),
      reused,
      acquired,
      hitRatio: acquired === 0 ? 0 : reused / acquired,
      idle: sum((stats) => stats.idle),
      idleBytes: sum((stats) => stats.idleBytes),
      inUse: sum((stats) => stats.inUse) + this.#oversizeInUse,
      oversize: this.#oversizeCount,
    };
  }

  /** Drops idle buffers under pressure: half of each class at moderate, all at high and critical. `bytes` is exact. */
  trim(level: PressureLevel): TrimResult {
    pressureLevelArgument('level', level);

    let items = 0;
    let bytes = 0;
    for (const { pool } of this.#classes) {
      if (itemsToTrim(level, pool.stats().idle) === 0) continue;

      const result = pool.trim(level);
      items += result.items;
      bytes += result.bytes ?? 0;
    }
    return { items, bytes };
  }

  /** Makes a pooled buffer with its own `ArrayBuffer`, so a view of it leads back to it and to no other buffer. */
  #allocate(sizeClass: SizeClass): Buffer {
    const full = Buffer.allocUnsafeSlow(sizeClass.sizeBytes);
    this.#classOf.set(full, sizeClass);
    this.#owners.set(full.buffer, { full, sizeClass });
    return full;
  }

  #classFor(sizeBytes: number): SizeClass | undefined {
    return this.#classes.find((sizeClass) => sizeClass.sizeBytes >= sizeBytes);
  }

  #acquireOversize(sizeBytes: number): Buffer {
    const buffer = this.zeroFill ? Buffer.alloc(sizeBytes) : Buffer.allocUnsafeSlow(sizeBytes);
    this.#oversize.set(buffer.buffer, true);
    this.#oversizeCount++;
    this.#oversizeInUse++;
    return buffer;
  }
}

function resolveSizeClasses(value: unknown): number[] {
  if (value === undefined) return [...DEFAULT_SIZE_CLASSES];

  const rule = `a non-empty array of distinct integer sizes from 1 to ${MAX_CLASS_BYTES} bytes`;
  if (!Array.isArray(value)) throw invalidOption('sizeClasses', rule, value, 'type');

  const sizes = [...(value as unknown[])];
  const valid = sizes.length > 0 && sizes.every((size) => Number.isInteger(size) && (size as number) >= 1 && (size as number) <= MAX_CLASS_BYTES);
  if (!valid || new Set(sizes).size !== sizes.length) throw invalidOption('sizeClasses', rule, value);

  return (sizes as number[]).sort((a, b) => a - b);
}

/** Creates a buffer pool. Throws on an invalid option. */
export function createBufferPool(options: BufferPoolOptions = {}): BufferPool {
  return new BufferPool(options);
}
