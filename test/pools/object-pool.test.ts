import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createObjectPool, type ObjectPoolOptions } from '../../src/pools/object-pool.js';
import { PoolError } from '../../src/pools/pool-error.js';

interface Row {
  id: number;
  values: number[];
}

function rowPool(options: Partial<ObjectPoolOptions<Row>> = {}) {
  let nextId = 0;
  return createObjectPool<Row>({
    create: () => ({ id: nextId++, values: [] }),
    reset: (row) => {
      row.values.length = 0;
    },
    ...options,
  });
}

describe('object pool', () => {
  test('reuses released objects', () => {
    const pool = rowPool();
    const first = pool.acquire();
    first.values.push(1, 2, 3);
    pool.release(first);

    const second = pool.acquire();

    assert.equal(second, first);
    assert.deepEqual(second.values, [], 'reset ran on release');
  });

  test('statistics count each path', () => {
    const pool = rowPool({ maxIdle: 2 });
    const rows = [pool.acquire(), pool.acquire(), pool.acquire()];
    for (const row of rows) pool.release(row);
    pool.acquire();
    pool.acquire();

    assert.deepEqual(pool.stats(), {
      name: 'object pool',
      created: 3,
      reused: 2,
      acquired: 5,
      released: 3,
      hitRatio: 2 / 5,
      idle: 0,
      inUse: 2,
      maxIdle: 2,
      discarded: 1,
      trimmed: 0,
    });
  });

  test('hit ratio zero before use', () => {
    assert.equal(rowPool().stats().hitRatio, 0);
  });

  test('foreign object rejected', () => {
    const pool = rowPool({ name: 'row pool' });
    pool.acquire();

    assert.throws(() => pool.release({ id: 99, values: [] }), (error: unknown) => {
      assert.ok(error instanceof PoolError);
      assert.equal(error.code, 'HEADROOM_POOL_FOREIGN_OBJECT');
      assert.match(error.message, /^Cannot release an object to row pool: this pool did not create it \(1 in use, 0 idle\)/);
      return true;
    });
    assert.equal(pool.stats().inUse, 1, 'a rejected release changes nothing');
  });

  test('object from another pool rejected', () => {
    const first = rowPool();
    const second = rowPool();
    const row = first.acquire();

    assert.throws(() => second.release(row), { code: 'HEADROOM_POOL_FOREIGN_OBJECT' });
  });

  test('double release rejected', () => {
    const pool = rowPool();
    const row = pool.acquire();
    pool.release(row);

    assert.throws(() => pool.release(row), { name: 'PoolError', code: 'HEADROOM_POOL_DOUBLE_RELEASE' });
    assert.equal(pool.stats().idle, 1, 'the object is idle once, not twice');
    assert.notEqual(pool.acquire(), pool.acquire(), 'two acquisitions never share an object');
  });

  test('double release after discard rejected', () => {
    const pool = rowPool({ maxIdle: 0 });
    const row = pool.acquire();
    pool.release(row);

    assert.equal(pool.stats().discarded, 1);
    assert.throws(() => pool.release(row), { code: 'HEADROOM_POOL_DOUBLE_RELEASE' });
  });

  test('double release after trim rejected', () => {
    const pool = rowPool();
    const row = pool.acquire();
    pool.release(row);
    pool.trim('critical');

    assert.throws(() => pool.release(row), { code: 'HEADROOM_POOL_DOUBLE_RELEASE' });
  });

  test('failing reset discards the object', () => {
    const pool = createObjectPool<Row>({
      create: () => ({ id: 0, values: [] }),
      reset: () => {
        throw new Error('row is locked');
      },
    });
    const row = pool.acquire();

    assert.throws(() => pool.release(row), /row is locked/);
    assert.equal(pool.stats().idle, 0);
    assert.equal(pool.stats().inUse, 0);
    assert.equal(pool.stats().discarded, 1);
    assert.throws(() => pool.release(row), { code: 'HEADROOM_POOL_DOUBLE_RELEASE' });
  });

  test('trim by level', () => {
    const pool = rowPool({ maxIdle: 10, objectSizeBytes: 100 });
    const rows = Array.from({ length: 9 }, () => pool.acquire());
    for (const row of rows) pool.release(row);

    assert.deepEqual(pool.trim('normal'), { items: 0, bytes: 0 });
    assert.deepEqual(pool.trim('moderate'), { items: 5, bytes: 500 });
    assert.equal(pool.stats().idle, 4);
    assert.deepEqual(pool.trim('high'), { items: 4, bytes: 400 });
    assert.equal(pool.stats().idle, 0);
    assert.equal(pool.stats().trimmed, 9);
  });

  test('trim bytes unknown without size', () => {
    const pool = rowPool();
    pool.release(pool.acquire());

    assert.deepEqual(pool.trim('critical'), { items: 1, bytes: null });
  });

  test('trim keeps the most recent idle objects', () => {
    const pool = rowPool();
    const rows = [pool.acquire(), pool.acquire()];
    pool.release(rows[0] as Row);
    pool.release(rows[1] as Row);

    pool.trim('moderate');

    assert.equal(pool.acquire(), rows[1]);
  });

  test('create returning a primitive rejected', () => {
    const pool = createObjectPool({ create: () => 5 as unknown as object });
    assert.throws(() => pool.acquire(), /create\(\) must return an object, got number/);
  });

  test('invalid options name the option', () => {
    assert.throws(() => createObjectPool({} as never), /Invalid option `create`: expected a function/);
    assert.throws(() => createObjectPool({ create: () => ({}), maxIdle: -1 }), /Invalid option `maxIdle`: expected an integer from 0 to 10000000, got -1/);
    assert.throws(() => createObjectPool({ create: () => ({}), reset: 1 as never }), /Invalid option `reset`: expected a function/);
    assert.throws(() => createObjectPool({ create: () => ({}), size: 3 } as never), /Invalid option `options.size`/);
    assert.throws(() => rowPool().trim('low' as never), /Invalid option `level`/);
  });
});
