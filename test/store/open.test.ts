import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { openDatabase, openDatabaseOrNull } from '../../src/store/open.js';
import { SCHEMA_VERSION } from '../../src/store/schema.js';
import { StoreError } from '../../src/store/store-error.js';
import { RecordingLogger } from '../helpers/recording-logger.js';
import { temporaryDirectory } from './helpers.js';

const directory = temporaryDirectory('open');
after(() => directory.remove());

function assertStoreError(run: () => unknown, code: string, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof StoreError, `expected a StoreError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

describe('store open', () => {
  test('new file in WAL mode with schema', () => {
    const path = join(directory.path, 'nested', 'dir', 'headroom.db');
    const database = openDatabase({ path });

    assert.equal(existsSync(path), true, 'the parent directories are created');
    assert.equal(database.connection.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(database.connection.pragma('synchronous', { simple: true }), 1, 'NORMAL is 1');
    assert.equal(database.connection.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    const tables = database.connection.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>;
    assert.deepEqual(
      tables.map((table) => table.name),
      ['events', 'operations', 'sample_rollups', 'samples'],
    );

    database.close();
    assert.equal(database.open, false);
  });

  test('reopen keeps rows', () => {
    const path = join(directory.path, 'reopen.db');
    const first = openDatabase({ path });
    first.connection.prepare("INSERT INTO events (time, type, name, data) VALUES (1, 'pressure', 'high', '{}')").run();
    first.close();

    const second = openDatabase({ path });
    assert.equal((second.connection.prepare('SELECT count(*) AS rows FROM events').get() as { rows: number }).rows, 1);
    second.close();
  });

  test('fsyncEachCommit sets synchronous FULL', () => {
    const database = openDatabase({ path: join(directory.path, 'full.db'), fsyncEachCommit: true });
    assert.equal(database.connection.pragma('synchronous', { simple: true }), 2);
    database.close();
  });

  test('in-memory database', () => {
    const database = openDatabase({ path: ':memory:' });
    assert.equal(database.path, ':memory:');
    assert.equal(database.connection.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    database.close();
  });

  test('path under a file fails clearly', () => {
    const file = join(directory.path, 'plain-file');
    writeFileSync(file, 'x');

    assertStoreError(() => openDatabase({ path: join(file, 'headroom.db') }), 'HEADROOM_STORE_OPEN_FAILED', /its directory cannot be created \((ENOTDIR|EEXIST)/);
  });

  test('missing directory without createDirectory', () => {
    assertStoreError(
      () => openDatabase({ path: join(directory.path, 'missing', 'headroom.db'), createDirectory: false }),
      'HEADROOM_STORE_OPEN_FAILED',
      /directory does not exist\. Choose a readable, writable path/,
    );
  });

  test('corrupt file fails clearly', () => {
    const path = join(directory.path, 'corrupt.db');
    writeFileSync(path, 'this is not a database '.repeat(300));

    assertStoreError(() => openDatabase({ path }), 'HEADROOM_STORE_CORRUPT', /not a SQLite database or is damaged \(SQLITE_NOTADB.*Move it aside/);
  });

  test('locked file fails clearly', () => {
    const path = join(directory.path, 'locked.db');
    const holder = openDatabase({ path });
    holder.connection.exec('BEGIN EXCLUSIVE');

    try {
      assertStoreError(() => openDatabase({ path, busyTimeoutMs: 0 }), 'HEADROOM_STORE_LOCKED', /held a lock for more than 0 ms \(SQLITE_BUSY\)/);
    } finally {
      holder.connection.exec('COMMIT');
      holder.close();
    }
  });

  test('schema from a newer version refused', () => {
    const path = join(directory.path, 'newer.db');
    const database = openDatabase({ path });
    database.connection.pragma('user_version = 99');
    database.close();

    assertStoreError(() => openDatabase({ path }), 'HEADROOM_STORE_SCHEMA_TOO_NEW', /schema version is 99, and this headroom knows versions up to 1/);
  });

  test('openDatabaseOrNull logs and returns null', () => {
    const logger = new RecordingLogger();
    const path = join(directory.path, 'corrupt-too.db');
    writeFileSync(path, 'garbage '.repeat(1000));

    const database = openDatabaseOrNull({ path, logger });

    assert.equal(database, null);
    const [record] = logger.at('error');
    assert.equal(record?.object.code, 'HEADROOM_STORE_CORRUPT');
    assert.equal(record?.object.path, path);
    assert.ok(record?.object.err instanceof StoreError);
    assert.match(record?.message ?? '', /Continuing without persistence\.$/);
  });

  test('invalid options throw', () => {
    assert.throws(() => openDatabase({ path: '' }), /Invalid option `path`/);
    assert.throws(() => openDatabase({ busyTimeoutMs: -1 }), /Invalid option `busyTimeoutMs`/);
    assert.throws(() => openDatabase({ file: 'x' } as never), /Invalid option `options.file`/);
    assert.throws(() => openDatabaseOrNull({ path: 42 as never }), /Invalid option `path`/);
  });
});
