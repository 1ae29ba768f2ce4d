import type { PressureLevel } from '../analysis/levels.js';
import { functionOption, nameOption, objectOption, pressureLevelArgument, rejectUnknownOptions } from '../responses/response-options.js';
import { itemsToTrim, type TrimResult } from '../util/trim.js';
import { invalidOption, numberOption } from '../util/validate.js';
import { PoolError } from './pool-error.js';

export interface ObjectPoolOptions<T extends object> {
  /** Makes a new object when no idle one is left. */
  create: () => T;
  /** Clears an object when it is released, so the next user gets it clean. Skipped when the object is discarded. */
  reset?: (object: T) => void;
  /** Released objects kept for reuse; past it a released object is left to the garbage collector. Default 64. */
  maxIdle?: number;
  /** Estimated bytes one idle object retains, used only for the `bytes` that `trim()` reports. Default null (unknown). */
  objectSizeBytes?: number | null;
  /** The name in error messages and figures. Default `'object pool'`. */
  name?: string;
}

export interface ObjectPoolStats {
  name: string;
  /** Objects made by `create()`. */
  created: number;
  /** Acquisitions served by an idle object. */
  reused: number;
  acquired: number;
  released: number;
  /** `reused / acquired`, from 0 to 1; 0 before the first acquisition. */
  hitRatio: number;
  idle: number;
  /** Objects acquired and not yet released. */
  inUse: number;
  maxIdle: number;
  /** Released objects left to the garbage collector because `maxIdle` were idle already. */
  discarded: number;
  /** Idle objects dropped by `trim()` or `clear()`. */
  trimmed: number;
}

/** The state of an object the pool created. `dropped` objects were discarded or trimmed; releasing one again is a double release. */
type ObjectState = 'idle' | 'in-use' | 'dropped';

export const DEFAULT_MAX_IDLE = 64;
const KNOWN_OPTIONS = ['create', 'reset', 'maxIdle', 'objectSizeBytes', 'name'] as const;

/**
 * Keeps released objects for reuse, up to `maxIdle`. Pooling pays only for
 * objects that are expensive to make or large (such as buffers of tens of
 * KiB). For small plain objects V8's young-generation allocation is nearly
 * free, and idle pooled objects grow the live set that every major GC walks.
 */
export class ObjectPool<T extends object> {
  readonly name: string;
  readonly maxIdle: number;
  readonly #create: () => T;
  readonly #reset: ((object: T) => void) | null;
  readonly #objectSizeBytes: number | null;
  /** A stack, so the most recently released object, likely still in CPU cache, goes out first. */
  readonly #idle: T[] = [];
  /** Every object the pool made, weakly, so a forgotten object can still be collected. */
  readonly #states = new WeakMap<T, ObjectState>();
  #inUse = 0;
  readonly #counts = { created: 0, reused: 0, acquired: 0, released: 0, discarded: 0, trimmed: 0 };

  constructor(options: ObjectPoolOptions<T>) {
    const given = objectOption('options', options);
    rejectUnknownOptions('options', given, KNOWN_OPTIONS);
    if (typeof given.create !== 'function') throw invalidOption('create', 'a function that returns a new object', given.create, 'type');

    this.#create = given.create;
    this.#reset = given.reset === undefined ? null : functionOption<(object: T) => void>('reset', given.reset, () => {});
    this.maxIdle = numberOption('maxIdle', given.maxIdle, DEFAULT_MAX_IDLE, 0, 10_000_000, true);
    this.#objectSizeBytes = given.objectSizeBytes === null || given.objectSizeBytes === undefined ? null : numberOption('objectSizeBytes', given.objectSizeBytes, 0, 0, 2 ** 40, true);
    this.name = given.name === undefined ? 'object pool' : nameOption('name', given.name);
  }

  /** Returns an idle object, or a new one from `create()`. Throws when `create()` returns something other than an object. */
  acquire(): T {
    this.#counts.acquired++;

    let object = this.#idle.pop();
    if (object === undefined) {
      object = this.#make();
    } else {
      this.#counts.reused++;
    }

    this.#states.set(object, 'in-use');
    this.#inUse++;
    return object;
  }

  /**
   * Gives an object back: it is reset and kept idle, or discarded when
   * `maxIdle` are idle already. Throws a `PoolError` for an object this pool
   * did not make or one already released. If `reset` throws, the object is
   * discarded and the error propagates.
   */
  release(object: T): void {
    const state = this.#states.get(object);
    if (state === undefined) {
      throw new PoolError(
        'HEADROOM_POOL_FOREIGN_OBJECT',
        `Cannot release an object to ${this.name}: this pool did not create it (${this.#inUse} in use, ${this.#idle.length} idle). Release each object to the pool that handed it out.`,
      );
    }
    if (state !== 'in-use') {
      throw new PoolError(
        'HEADROOM_POOL_DOUBLE_RELEASE',
        `Cannot release an object to ${this.name}: it was already released (${this.#inUse} in use, ${this.#idle.length} idle). Drop every reference to an object once it is released.`,
      );
    }

    this.#inUse--;
    this.#counts.released++;

    if (this.#idle.length >= this.maxIdle) {
      this.#states.set(object, 'dropped');
      this.#counts.discarded++;
      return;
    }

    try {
      this.#reset?.(object);
    } catch (err) {
      this.#states.set(object, 'dropped');
      this.#counts.discarded++;
      throw err;
    }

    this.#states.set(object, 'idle');
    this.#idle.push(object);
  }

  stats(): ObjectPoolStats {
    const { created, reused, acquired, released, discarded, trimmed } = this.#counts;
    return {
      name: this.name,
      created,
      reused,
      acquired,
      released,
      hitRatio: acquired === 0 ? 0 : reused / acquired,
      idle: this.#idle.length,
      inUse: this.#inUse,
      maxIdle: this.maxIdle,
      discarded,
      trimmed,
    };
  }

  /**
   * Drops idle objects under pressure: half at moderate, all at high and
   * critical. Objects in use are untouched. `bytes` is `objectSizeBytes` times
   * the objects dropped, or null without that estimate.
   */
  trim(level: PressureLevel): TrimResult {
    pressureLevelArgument('level', level);
    // NOTE: the pool does not track the level, so objects released after a trim are kept idle again up to maxIdle.
    const dropped = this.#drop(itemsToTrim(level, this.#idle.length));
    return { items: dropped, bytes: this.#objectSizeBytes === null ? null : dropped * this.#objectSizeBytes };
  }

  /** Drops every idle object and returns how many it dropped. */
  clear(): number {
    return this.#drop(this.#idle.length);
  }

  #drop(count: number): number {
    // The oldest idle objects sit at the bottom of the stack and are the least likely to be in cache.
    const dropped = this.#idle.splice(0, count);
    for (const object of dropped) this.#states.set(object, 'dropped');
    this.#counts.trimmed += dropped.length;
    return dropped.length;
  }

  #make(): T {
    const object = this.#create();
    if ((typeof object !== 'object' && typeof object !== 'function') || object === null) {
      throw new TypeError(`${this.name}: create() must return an object, got ${object === null ? 'null' : typeof object}`);
    }

    this.#counts.created++;
    return object;
  }
}

/** Creates an object pool. Throws on an invalid option. */
export function createObjectPool<T extends object>(options: ObjectPoolOptions<T>): ObjectPool<T> {
  return new ObjectPool(options);
}
