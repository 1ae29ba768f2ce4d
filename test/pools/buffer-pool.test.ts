import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createBufferPool } from '../../src/pools/buffer-pool.js';
import { PoolError } from '../../src/pools/pool-error.js';

const KIB = 1024;

describe('buffer pool', () => {
  test('exact class size returns whole buffer', () => {
    const pool = createBufferPool();
    const buffer = pool.acquire(64 * KIB);
    pool.release(buffer);

    assert.equal(buffer.length, 64 * KIB);
    assert.equal(pool.acquire(64 * KIB), buffer);
  });

  test('smaller request gets a view of the next class', () => {
    const pool = createBufferPool();
    const view = pool.acquire(5000);

    assert.equal(view.length, 5000);
    assert.equal(view.buffer.byteLength, 16 * KIB);
    pool.release(view);

    const again = pool.acquire(16 * KIB);
    assert.equal(again.buffer, view.buffer, 'the released view returned its 16 KiB buffer');
  });

  test('statistics per class', () => {
    const pool = createBufferPool({ sizeClasses: [1 * KIB, 8 * KIB], maxIdlePerClass: 4 });
    const small = [pool.acquire(100), pool.acquire(1 * KIB)];
    const large = pool.acquire(8 * KIB);
    for (const buffer of [...small, large]) pool.release(buffer);
    pool.acquire(512);

    const stats = pool.stats();
    assert.equal(stats.created, 3);
    assert.equal(stats.reused, 1);
    assert.equal(stats.acquired, 4);
    assert.equal(stats.hitRatio, 0.25);
    assert.equal(stats.inUse, 1);
    assert.equal(stats.idle, 2);
    assert.equal(stats.idleBytes, 1 * KIB + 8 * KIB);
    assert.deepEqual(
      stats.classes.map((entry) => [entry.sizeBytes, entry.created, entry.reused, entry.idle, entry.inUse]),
      [
        [1 * KIB, 2, 1, 1, 1],
        [8 * KIB, 1, 0, 1, 0],
      ],
    );
  });

  test('oversize served unpooled', () => {
    const pool = createBufferPool({ sizeClasses: [1 * KIB] });
    const buffer = pool.acquire(3 * KIB);

    assert.equal(buffer.length, 3 * KIB);
    assert.equal(pool.stats().oversize, 1);
    assert.equal(pool.stats().inUse, 1);

    pool.release(buffer);
    assert.equal(pool.stats().inUse, 0);
    assert.equal(pool.stats().idle, 0, 'an oversize buffer is not kept');
    assert.throws(() => pool.release(buffer), { code: 'HEADROOM_POOL_DOUBLE_RELEASE' });
  });

  test('foreign buffers rejected', () => {
    const pool = createBufferPool({ name: 'query buffers' });
    const cases = [Buffer.allocUnsafe(64 * KIB), Buffer.alloc(100), Buffer.from('hello')];

    for (const buffer of cases) {
      assert.throws(() => pool.release(buffer), (error: unknown) => {
        assert.ok(error instanceof PoolError);
        assert.equal(error.code, 'HEADROOM_POOL_FOREIGN_OBJECT');
        assert.match(error.message, /to query buffers: this pool did not hand it out/);
        return true;
      });
    }
    assert.throws(() => pool.release(new Uint8Array(10) as Buffer), /Invalid option `buffer`: expected a Buffer/);
  });

  test('buffer from another pool rejected', () => {
    const first = createBufferPool();
    const second = createBufferPool();

    assert.throws(() => second.release(first.acquire(4 * KIB)), { code: 'HEADROOM_POOL_FOREIGN_OBJECT' });
  });

  test('double release rejected, also through a view', () => {
    const pool = createBufferPool();
    const view = pool.acquire(1000);
    pool.release(view);

    assert.throws(() => pool.release(view), { code: 'HEADROOM_POOL_DOUBLE_RELEASE' });
    assert.equal(pool.stats().idle, 1);
  });

  test('zeroFill clears reused buffers', () => {
    const pool = createBufferPool({ zeroFill: true });
    const buffer = pool.acquire(4 * KIB);
    buffer.fill(0xff);
    pool.release(buffer);

    const again = pool.acquire(4 * KIB);
    assert.equal(again, buffer);
    assert.equal(again.every((byte) => byte === 0), true);
  });

  test('trim by level reports bytes', () => {
    const pool = createBufferPool({ sizeClasses: [1 * KIB, 4 * KIB] });
    const buffers = [pool.acquire(KIB), pool.acquire(KIB), pool.acquire(KIB), pool.acquire(4 * KIB), pool.acquire(4 * KIB)];
    for (const buffer of buffers) pool.release(buffer);

    assert.deepEqual(pool.trim('normal'), { items: 0, bytes: 0 });
    assert.deepEqual(pool.trim('moderate'), { items: 3, bytes: 2 * KIB + 4 * KIB });
    assert.deepEqual(pool.trim('critical'), { items: 2, bytes: 1 * KIB + 4 * KIB });
    assert.equal(pool.stats().idleBytes, 0);
  });

  test('invalid options and sizes', () => {
    assert.throws(() => createBufferPool({ sizeClasses: [] }), /Invalid option `sizeClasses`: expected a non-empty array/);
    assert.throws(() => createBufferPool({ sizeClasses: [1024, 1024] }), /Invalid option `sizeClasses`/);
    assert.throws(() => createBufferPool({ sizeClasses: [0] }), /Invalid option `sizeClasses`/);
    assert.throws(() => createBufferPool({ maxIdlePerClass: 1.5 }), /Invalid option `maxIdlePerClass`/);
    assert.throws(() => createBufferPool({ zeroFill: 'yes' as never }), /Invalid option `zeroFill`: expected true or false/);
    assert.throws(() => createBufferPool().acquire(-1), /Invalid option `sizeBytes`: expected an integer from 0/);
    assert.throws(() => createBufferPool().acquire(Number.NaN), /Invalid option `sizeBytes`/);
  });

  test('size classes sorted', () => {
    assert.deepEqual(createBufferPool({ sizeClasses: [4096, 512, 65536] }).sizeClasses, [512, 4096, 65536]);
  });
});
