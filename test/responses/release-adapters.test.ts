import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { callbackReleaser, lruCacheReleaser, mapReleaser } from '../../src/responses/release-adapters.js';
import { createReleaserRegistry } from '../../src/responses/releasers.js';
import { silentLogger } from '../../src/util/logger.js';

/** A tiny LRU with lru-cache's shape: `get()` marks an entry as recently used, `pop()` evicts the least recently used. */
class FakeLru<V> {
  readonly max: number;
  readonly #entries = new Map<string, V>();
  clears = 0;
  pops = 0;

  constructor(max: number) {
    this.max = max;
  }

  get size(): number {
    return this.#entries.size;
  }

  set(key: string, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
  }

  get(key: string): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) this.set(key, value);
    return value;
  }

  pop(): V | undefined {
    this.pops++;
    const oldest = this.#entries.keys().next();
    if (oldest.done) return undefined;

    const value = this.#entries.get(oldest.value);
    this.#entries.delete(oldest.value);
    return value;
  }

  clear(): void {
    this.clears++;
    this.#entries.clear();
  }

  keys(): string[] {
    return [...this.#entries.keys()];
  }
}

const signal = new AbortController().signal;

function filledLru(count: number): FakeLru<number> {
  const cache = new FakeLru<number>(100);
  for (let i = 0; i < count; i++) cache.set(`k${i}`, i);
  return cache;
}

describe('lruCacheReleaser', () => {
  test('moderate keeps the recent half', () => {
    const cache = filledLru(8);
    cache.get('k0');
    cache.get('k1');
    const releaser = lruCacheReleaser(cache, { name: 'users' });

    releaser.release('moderate', signal);

    assert.equal(cache.size, 4);
    assert.deepEqual(cache.keys(), ['k6', 'k7', 'k0', 'k1']);
    assert.equal(cache.clears, 0);
  });

  test('keeps a quarter at high by default', () => {
    const cache = filledLru(8);
    const releaser = lruCacheReleaser(cache, { name: 'users' });

    releaser.release('high', signal);

    assert.deepEqual(cache.keys(), ['k6', 'k7']);
  });

  test('clears at critical', () => {
    const cache = filledLru(8);
    const releaser = lruCacheReleaser(cache, { name: 'users' });

    releaser.release('critical', signal);

    assert.equal(cache.size, 0);
    assert.equal(cache.clears, 1);
    assert.equal(cache.pops, 0);
  });

  test('custom keepRatio per level', () => {
    const cache = filledLru(10);
    const releaser = lruCacheReleaser(cache, { name: 'users', keepRatio: { moderate: 0.9, high: 0.5, critical: 0.2 } });

    releaser.release('moderate', signal);
    assert.equal(cache.size, 9);

    releaser.release('critical', signal);
    assert.equal(cache.size, 1);
    assert.deepEqual(cache.keys(), ['k9']);
    assert.equal(cache.clears, 0);
  });

  test('leaves the cache alone at normal', () => {
    const cache = filledLru(4);
    const releaser = lruCacheReleaser(cache, { name: 'users' });

    releaser.release('normal', signal);

    assert.equal(cache.size, 4);
    assert.equal(cache.pops, 0);
  });

  test('stops when pop does not shrink the cache', () => {
    const stuck = { size: 10, pops: 0, pop() { this.pops++; return undefined; }, clear() {} };
    const releaser = lruCacheReleaser(stuck, { name: 'stuck' });

    releaser.release('moderate', signal);

    assert.equal(stuck.pops, 1);
  });

  test('carries name, priority and minLevel', () => {
    const releaser = lruCacheReleaser(filledLru(1), { name: 'users', priority: 7, minLevel: 'high' });

    assert.equal(releaser.name, 'users');
    assert.equal(releaser.priority, 7);
    assert.equal(releaser.minLevel, 'high');
  });

  test('rejects a cache without pop', () => {
    assert.throws(() => lruCacheReleaser({ size: 1, clear() {} } as never, { name: 'x' }), { name: 'TypeError', message: /`cache`.*pop\(\)/ });
  });

  test('rejects keepRatio that rises with the level', () => {
    assert.throws(() => lruCacheReleaser(filledLru(1), { name: 'x', keepRatio: { moderate: 0.2, high: 0.5 } }), {
      name: 'RangeError',
      message: /`keepRatio`.*moderate >= high >= critical.*"0\.2 >= 0\.5 >= 0"/,
    });
  });

  test('rejects a keepRatio above 1', () => {
    assert.throws(() => lruCacheReleaser(filledLru(1), { name: 'x', keepRatio: { high: 1.5 } }), {
      name: 'RangeError',
      message: /`keepRatio\.high`.*from 0 to 1.*1\.5 \(number\)/,
    });
  });

  test('rejects a missing name', () => {
    assert.throws(() => lruCacheReleaser(filledLru(1), {} as never), { name: 'TypeError', message: /`name`/ });
  });
});

describe('mapReleaser', () => {
  test('deletes the oldest map entries first', () => {
    const map = new Map<string, number>();
    for (let i = 0; i < 8; i++) map.set(`k${i}`, i);
    const releaser = mapReleaser(map, { name: 'sessions' });

    releaser.release('moderate', signal);

    assert.deepEqual([...map.keys()], ['k4', 'k5', 'k6', 'k7']);
  });

  test('trims a set by insertion order', () => {
    const set = new Set([1, 2, 3, 4, 5, 6, 7, 8]);
    const releaser = mapReleaser(set, { name: 'seen-ids' });

    releaser.release('high', signal);

    assert.deepEqual([...set], [7, 8]);
  });

  test('clears at critical', () => {
    const map = new Map([['a', 1]]);
    const releaser = mapReleaser(map, { name: 'sessions' });

    releaser.release('critical', signal);

    assert.equal(map.size, 0);
  });

  test('rejects a WeakMap', () => {
    assert.throws(() => mapReleaser(new WeakMap() as never, { name: 'x' }), { name: 'TypeError', message: /`collection`/ });
  });
});

describe('callbackReleaser', () => {
  test('runs the callback through a registry', async () => {
    const registry = createReleaserRegistry({ logger: silentLogger });
    const levels: string[] = [];
    registry.register(callbackReleaser('buffers', (level) => {
      levels.push(level);
      return 2048;
    }, { minLevel: 'high', priority: 3 }));

    const atModerate = await registry.run('moderate', 'test');
    const atHigh = await registry.run('high', 'test');

    assert.deepEqual(atModerate, []);
    assert.equal(atHigh[0]?.reportedBytes, 2048);
    assert.deepEqual(levels, ['high']);
    assert.equal(registry.stats()[0]?.priority, 3);
  });

  test('rejects a non-function and unknown options', () => {
    assert.throws(() => callbackReleaser('x', 'free' as never), { name: 'TypeError', message: /`fn`.*"free" \(string\)/ });
    assert.throws(() => callbackReleaser('x', () => {}, { level: 'high' } as never), { name: 'TypeError', message: /`options\.level`/ });
    assert.throws(() => callbackReleaser('x', () => {}, { minLevel: 'low' as never }), { name: 'RangeError', message: /`minLevel`/ });
  });
});
