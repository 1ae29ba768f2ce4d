import type { PressureLevel } from '../analysis/levels.js';
import { invalidOption, numberOption } from '../util/validate.js';
import type { ReleaseFunction, ReleaserDefinition } from './releasers.js';
import { nameOption, objectOption, rejectUnknownOptions, responseLevelOption, type ResponseLevel } from './response-options.js';

/**
 * The part of an lru-cache v10 or v11 instance that the adapter calls.
 * `pop()` evicts the least recently used entry. Any object of this shape works,
 * so headroom does not depend on lru-cache.
 */
export interface LruCacheLike {
  readonly size: number;
  pop(): unknown;
  clear(): void;
}

/** The part of a `Map` or `Set` that the adapter calls. Its `keys()` yields entries in insertion order. */
export interface InsertionOrderedCollection {
  readonly size: number;
  keys(): Iterable<unknown>;
  delete(key: never): boolean;
  clear(): void;
}

/** The share of its current entries (0 to 1) that a collection keeps at each level, where 0 clears it. */
export interface KeepRatios {
  moderate: number;
  high: number;
  critical: number;
}

export const DEFAULT_KEEP_RATIOS: Readonly<KeepRatios> = { moderate: 0.5, high: 0.25, critical: 0 };

export interface ReleaserPlacementOptions {
  /** Releasers with a higher priority run first. Default 0. */
  priority?: number;
  /** The lowest level at which the releaser runs. Default `'moderate'`. */
  minLevel?: ResponseLevel;
}

export interface TrimReleaserOptions extends ReleaserPlacementOptions {
  name: string;
  /**
   * The share of its current entries the collection keeps at each level.
   * Defaults: moderate 0.5, high 0.25, critical 0 (cleared). Each level must
   * keep no more than the level below it.
   */
  keepRatio?: Partial<KeepRatios>;
}

const TRIM_OPTION_KEYS = ['name', 'priority', 'minLevel', 'keepRatio'] as const;
const PLACEMENT_OPTION_KEYS = ['priority', 'minLevel'] as const;

/**
 * Creates a releaser that evicts an lru-cache's least recently used entries
 * with `pop()` until the level's share of entries is left, and calls
 * `clear()` when that share is 0. Eviction through `pop()` runs the cache's
 * `dispose` callback as an ordinary eviction does.
 */
export function lruCacheReleaser(cache: LruCacheLike, options: TrimReleaserOptions): ReleaserDefinition {
  const candidate = cache as Partial<LruCacheLike> | null;
  if (typeof candidate !== 'object' || candidate === null || typeof candidate.size !== 'number' || typeof candidate.pop !== 'function' || typeof candidate.clear !== 'function') {
    throw invalidOption('cache', 'an object shaped like an lru-cache: a numeric size, pop() and clear()', cache, 'type');
  }

  const { placement, keepRatios } = resolveTrimOptions(options);
  const release: ReleaseFunction = (level) => {
    const keepRatio = keepRatioAt(keepRatios, level);
    if (keepRatio === 0) {
      cache.clear();
      return;
    }

    const target = Math.floor(cache.size * keepRatio);
    // At most one pop() per entry above the target, so a cache whose size does not shrink cannot loop forever.
    for (let excess = cache.size - target; excess > 0; excess--) {
      const sizeBefore = cache.size;
      cache.pop();
      if (cache.size >= sizeBefore) break;
    }
  };

  return { ...placement, release };
}

/**
 * Creates a releaser that deletes the oldest entries, in insertion order, of
 * a `Map` or `Set` until the level's share of entries is left, and clears it
 * when that share is 0. A map that re-inserts an entry on each read is thereby
 * trimmed least recently used first.
 */
export function mapReleaser(collection: InsertionOrderedCollection, options: TrimReleaserOptions): ReleaserDefinition {
  const candidate = collection as Partial<InsertionOrderedCollection> | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.size !== 'number' ||
    typeof candidate.keys !== 'function' ||
    typeof candidate.delete !== 'function' ||
    typeof candidate.clear !== 'function'
  ) {
    throw invalidOption('collection', 'a Map or Set (an object with size, keys(), delete() and clear())', collection, 'type');
  }

  const { placement, keepRatios } = resolveTrimOptions(options);
  const release: ReleaseFunction = (level) => {
    const keepRatio = keepRatioAt(keepRatios, level);
    if (keepRatio === 0) {
      collection.clear();
      return;
    }

    const excess = collection.size - Math.floor(collection.size * keepRatio);
    const remove = collection.delete.bind(collection) as (key: unknown) => boolean;

    // Deleting the entry just visited is safe while iterating a Map or Set.
    let removed = 0;
    for (const key of collection.keys()) {
      if (removed >= excess) break;

      remove(key);
      removed++;
    }
  };

  return { ...placement, release };
}

/** Creates a releaser definition that calls `fn` as it is. */
export function callbackReleaser(name: string, fn: ReleaseFunction, options: ReleaserPlacementOptions = {}): ReleaserDefinition {
  const resolved = objectOption('options', options);
  rejectUnknownOptions('options', resolved, PLACEMENT_OPTION_KEYS);

  if (typeof fn !== 'function') {
    throw invalidOption('fn', 'a function (level, signal) => void | number | Promise<void | number>', fn, 'type');
  }

  return {
    name: nameOption('name', name),
    priority: numberOption('priority', resolved.priority, 0, -1_000_000, 1_000_000),
    minLevel: responseLevelOption('minLevel', resolved.minLevel, 'moderate'),
    release: fn,
  };
}

interface ResolvedTrimOptions {
  placement: { name: string; priority: number; minLevel: ResponseLevel };
  keepRatios: KeepRatios;
}

function resolveTrimOptions(options: TrimReleaserOptions): ResolvedTrimOptions {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object with at least a name', options, 'type');
  rejectUnknownOptions('options', options, TRIM_OPTION_KEYS);

  const placement = {
    name: nameOption('name', options.name),
    priority: numberOption('priority', options.priority, 0, -1_000_000, 1_000_000),
    minLevel: responseLevelOption('minLevel', options.minLevel, 'moderate'),
  };

  const requestedRatios = objectOption('keepRatio', options.keepRatio);
  rejectUnknownOptions('keepRatio', requestedRatios, ['moderate', 'high', 'critical']);
  const keepRatios: KeepRatios = {
    moderate: numberOption('keepRatio.moderate', requestedRatios.moderate, DEFAULT_KEEP_RATIOS.moderate, 0, 1),
    high: numberOption('keepRatio.high', requestedRatios.high, DEFAULT_KEEP_RATIOS.high, 0, 1),
    critical: numberOption('keepRatio.critical', requestedRatios.critical, DEFAULT_KEEP_RATIOS.critical, 0, 1),
  };
  if (!(keepRatios.moderate >= keepRatios.high && keepRatios.high >= keepRatios.critical)) {
    throw invalidOption('keepRatio', 'moderate >= high >= critical', `${keepRatios.moderate} >= ${keepRatios.high} >= ${keepRatios.critical}`);
  }

  return { placement, keepRatios };
}

/** Returns the share to keep at `level`. Normal keeps everything. */
function keepRatioAt(keepRatios: KeepRatios, level: PressureLevel): number {
  return level === 'normal' ? 1 : keepRatios[level];
}
