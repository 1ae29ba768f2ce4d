import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ObjectPool } from '../../src/pools/object-pool.js';
import { createQDTEnhancedStorage, createQDTMemoryPool, QDTMemoryPool, type QDTEnhancedStorage } from '../../src/qdt/storage.js';
import { openDatabase, type StoreDatabase } from '../../src/store/open.js';

describe('QDTMemoryPool', () => {
  it('is an ObjectPool', () => {
    assert.equal(QDTMemoryPool, ObjectPool);

    const pool = createQDTMemoryPool({ create: () => ({ rows: [] as number[] }), reset: (object) => void (object.rows.length = 0) });
    const first = pool.acquire();
    first.rows.push(1);
    pool.release(first);
    const second = pool.acquire();

    assert.ok(pool instanceof ObjectPool);
    assert.equal(second, first);
    assert.deepEqual(second.rows, []);
    assert.equal(pool.stats().reused, 1);
  });
});

describe('QDTEnhancedStorage', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  });

  function storage(database: StoreDatabase | null = null): QDTEnhancedStorage {
    const created = createQDTEnhancedStorage({ database, flushIntervalMs: '1h' });
    cleanups.push(() => created.close());
    return created;
  }

  it('records operations in SQLite', () => {
    const database = openDatabase({ path: ':memory:' });
    cleanups.push(() => database.close());
    const store = storage(database);

    const { id } = store.begin('mining');
    store.finish(id, 'done', '3 blocks');
    store.operations.flush();

    const records = store.list({ kind: 'mining' });
    assert.equal(records.length, 1);
    assert.equal(records[0]?.status, 'done');
    assert.equal(records[0]?.result, '3 blocks');
    assert.equal(store.stats().operations.written, 1);
    assert.equal(store.stats().operations.persistent, true);
  });

  it('lends batch buffers from the pool', () => {
    const store = storage();

    const first = store.withBatchBuffer(10_000, (buffer) => buffer);
    const second = store.withBatchBuffer(10_000, (buffer) => buffer);
    const stats = store.poolStats().buffers;

    assert.equal(second.buffer, first.buffer, 'the same pooled memory');
    assert.equal(first.length, 10_000);
    assert.equal(first.buffer.byteLength, 16 * 1024);
    assert.equal(stats.created, 1);
    assert.equal(stats.reused, 1);
    assert.equal(stats.inUse, 0);
  });

  it('returns a buffer after a throw', () => {
    const store = storage();

    assert.throws(() => store.withBatchBuffer(1000, () => { throw new Error('batch failed'); }), /batch failed/);
    assert.equal(store.poolStats().buffers.inUse, 0);
  });

  it('returns a buffer after a promise settles', async () => {
    const store = storage();

    const pending = store.withBatchBuffer(1000, async (buffer) => buffer.length);
    assert.equal(store.poolStats().buffers.inUse, 1);
    assert.equal(await pending, 1000);
    assert.equal(store.poolStats().buffers.inUse, 0);
  });

  it('trims buffers under pressure', () => {
    const store = storage();
    store.withBatchBuffer(1000, () => undefined);
    assert.equal(store.poolStats().buffers.idle, 1);

    const result = store.trim('high');
    assert.equal(result.bytes, 4096);
    assert.equal(store.poolStats().buffers.idle, 0);
  });
});
