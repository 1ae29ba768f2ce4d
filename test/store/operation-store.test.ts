import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { silentLogger } from '../../src/util/logger.js';
import { openDatabase, type StoreDatabase } from '../../src/store/open.js';
import { createOperationStore, type OperationRecord, type OperationStoreOptions } from '../../src/store/operation-store.js';
import { RecordingLogger } from '../helpers/recording-logger.js';
import { ScriptedClock } from '../helpers/scripted.js';
import { temporaryDirectory } from './helpers.js';

const DAY_MS = 86_400_000;
const directory = temporaryDirectory('operations');
const databases: StoreDatabase[] = [];
after(() => {
  for (const database of databases) database.close();
  directory.remove();
});

let fileNumber = 0;
function database(): StoreDatabase {
  const opened = openDatabase({ path: join(directory.path, `operations-${fileNumber++}.db`) });
  databases.push(opened);
  return opened;
}

function rowCount(target: StoreDatabase): number {
  return (target.connection.prepare('SELECT count(*) AS rows FROM operations').get() as { rows: number }).rows;
}

function store(options: Partial<OperationStoreOptions> = {}) {
  return createOperationStore({ database: database(), clock: new ScriptedClock(), logger: silentLogger, ...options });
}

/** The scripted clock's wall time at 0; records are stamped relative to it, so retention keeps them. */
const EPOCH_MS = new ScriptedClock().epochNow();

function finished(id: string, offsetMs: number, extra: Partial<OperationRecord> = {}): OperationRecord {
  const finishedAt = EPOCH_MS + offsetMs;
  return { id, kind: 'import', status: 'done', startedAt: finishedAt - 10, finishedAt, result: null, ...extra };
}

describe('operation store records', () => {
  test('begin, finish, get', () => {
    const clock = new ScriptedClock();
    const operations = store({ clock });
    const started = operations.begin('export', 'op-1');
    clock.advance(250);

    const done = operations.finish('op-1', 'done', 'wrote 120 rows');

    assert.equal(started.status, 'running');
    assert.equal(started.startedAt, clock.epochStartMs);
    assert.deepEqual(done, { id: 'op-1', kind: 'export', status: 'done', startedAt: clock.epochStartMs, finishedAt: clock.epochStartMs + 250, result: 'wrote 120 rows' });
    assert.deepEqual(operations.get('op-1'), done);
    assert.equal(operations.stats().active, 0);
    assert.equal(operations.stats().pending, 1);
  });

  test('generated ids are unique', () => {
    const operations = store();
    const ids = new Set(Array.from({ length: 100 }, () => operations.begin('job').id));
    assert.equal(ids.size, 100);
  });

  test('batch written when batchSize reached', () => {
    const target = database();
    const operations = createOperationStore({ database: target, clock: new ScriptedClock(), logger: silentLogger, batchSize: 3 });
    for (const id of ['a', 'b']) operations.add(finished(id, 1000));
    assert.equal(rowCount(target), 0, 'below batchSize nothing is written');

    operations.add(finished('c', 1000));

    assert.equal(rowCount(target), 3);
    assert.equal(operations.stats().written, 3);
    assert.equal(operations.stats().pending, 0);
    operations.close();
  });

  test('flush writes in batches and returns rows', () => {
    const target = database();
    const operations = createOperationStore({ database: target, clock: new ScriptedClock(), logger: silentLogger, batchSize: 1000 });
    for (let index = 0; index < 25; index++) operations.add(finished(`op-${index}`, 1000 + index));

    assert.equal(operations.flush(), 25);
    assert.equal(operations.flush(), 0);
    assert.equal(rowCount(target), 25);
  });

  test('read back from disk after memory dropped', () => {
    const operations = store({ maxRecent: 0 });
    operations.add(finished('on-disk', 5000, { status: 'failed', result: 'timeout' }));
    operations.flush();

    assert.equal(operations.stats().recent, 0);
    assert.deepEqual(operations.get('on-disk'), finished('on-disk', 5000, { status: 'failed', result: 'timeout' }));
  });

  test('list filters, newest first', () => {
    const operations = store();
    operations.add(finished('1', 1000, { kind: 'import' }));
    operations.add(finished('2', 3000, { kind: 'import', status: 'failed' }));
    operations.add(finished('3', 2000, { kind: 'export' }));
    operations.add(finished('4', 4000, { kind: 'import' }));

    const ids = (query: Parameters<typeof operations.list>[0]) => operations.list(query).map((record) => record.id);
    assert.deepEqual(ids({}), ['4', '2', '3', '1']);
    assert.deepEqual(ids({ kind: 'import' }), ['4', '2', '1']);
    assert.deepEqual(ids({ status: 'failed' }), ['2']);
    assert.deepEqual(ids({ sinceMs: EPOCH_MS + 2500 }), ['4', '2']);
    assert.deepEqual(ids({ limit: 2 }), ['4', '2']);
    assert.throws(() => operations.list({ status: 'lost' as never }), /Invalid option `query.status`/);
  });

  test('same id written twice keeps the latest', () => {
    const target = database();
    const operations = createOperationStore({ database: target, clock: new ScriptedClock(), logger: silentLogger });
    operations.add(finished('job-1', 1000, { status: 'cancelled' }));
    operations.add(finished('job-1', 2000, { status: 'done' }));
    operations.flush();

    assert.equal(rowCount(target), 1);
    assert.equal(operations.get('job-1')?.status, 'done');
  });

  test('result summary cut to maxResultChars', () => {
    const operations = store({ maxResultChars: 5 });
    operations.begin('job', 'long');
    assert.equal(operations.finish('long', 'done', 'abcdefghij').result, 'abcde');
  });

  test('invalid calls rejected', () => {
    const operations = store({ maxActive: 1 });
    operations.begin('job', 'only');

    assert.throws(() => operations.begin('job', 'only'), /an operation with this id is running/);
    assert.throws(() => operations.begin('job', 'second'), /1 operations are running, the maximum \(maxActive\)/);
    assert.throws(() => operations.finish('missing', 'done'), /no operation with this id is running/);
    assert.throws(() => operations.finish('only', 'running' as never), /Invalid option `status`: expected one of "done", "failed", "cancelled"/);
    assert.throws(() => operations.add({ ...finished('x', 10), finishedAt: 1 }), /Invalid option `record.finishedAt`/);
    assert.throws(() => operations.begin(''), /Invalid option `kind`/);
    assert.throws(() => createOperationStore({} as never), /Invalid option `database`/);
    assert.throws(() => createOperationStore({ database: null, batchSize: 0 }), /Invalid option `batchSize`/);
  });
});

describe('operation store retention', () => {
  test('maxAgeMs deletes old records', () => {
    const clock = new ScriptedClock();
    const target = database();
    const operations = createOperationStore({ database: target, clock, logger: silentLogger, maxAgeMs: '168h' });
    operations.add(finished('eight-days', -8 * DAY_MS));
    operations.add(finished('six-days', -6 * DAY_MS));
    operations.add(finished('today', 0));
    operations.flush();

    assert.equal(rowCount(target), 2, 'the first flush prunes');
    assert.equal(operations.get('six-days')?.id, 'six-days');

    clock.advance(1.5 * DAY_MS);
    assert.equal(operations.prune(), 1);
    assert.equal(operations.stats().pruned, 2);
    assert.equal(rowCount(target), 1);
  });

  test('maxRows keeps the newest', () => {
    const clock = new ScriptedClock();
    const target = database();
    const operations = createOperationStore({ database: target, clock, logger: silentLogger, maxRows: 3, pruneIntervalMs: 0 });
    for (let index = 0; index < 5; index++) operations.add(finished(`op-${index}`, -1000 + index));
    operations.flush();

    const ids = (target.connection.prepare('SELECT id FROM operations ORDER BY finished_at').all() as Array<{ id: string }>).map((row) => row.id);
    assert.deepEqual(ids, ['op-2', 'op-3', 'op-4']);
  });

  test('prune runs at most every pruneIntervalMs', () => {
    const clock = new ScriptedClock();
    const target = database();
    const operations = createOperationStore({ database: target, clock, logger: silentLogger, maxRows: 1, pruneIntervalMs: '60s' });
    operations.add(finished('a', 1));
    operations.flush();
    operations.add(finished('b', 2));
    operations.flush();
    assert.equal(rowCount(target), 2, 'the second flush is within 60 s of the first prune');

    clock.advance(60_000);
    operations.add(finished('c', 3));
    operations.flush();
    assert.equal(rowCount(target), 1);
  });
});

describe('operation store memory', () => {
  test('recent records bounded', () => {
    const operations = store({ maxRecent: 10, batchSize: 50 });
    for (let index = 0; index < 1000; index++) {
      operations.begin('job', `op-${index}`);
      operations.finish(`op-${index}`, 'done');
    }
    operations.flush();

    const stats = operations.stats();
    assert.equal(stats.recent, 10);
    assert.equal(stats.pending, 0);
    assert.equal(stats.active, 0);
    assert.equal(stats.written, 1000);
  });

  test('trim flushes and drops recent records', () => {
    const operations = store({ batchSize: 1000 });
    for (let index = 0; index < 8; index++) operations.add(finished(`op-${index}`, 1000 + index));

    assert.deepEqual(operations.trim('normal'), { items: 0, bytes: null });
    assert.equal(operations.stats().pending, 8);
    assert.deepEqual(operations.trim('moderate'), { items: 4, bytes: null });
    assert.equal(operations.stats().pending, 0, 'trim writes pending records first');
    assert.deepEqual(operations.trim('critical'), { items: 4, bytes: null });
    assert.equal(operations.stats().recent, 0);
    assert.equal(operations.get('op-0')?.id, 'op-0', 'trimmed records are still on disk');
  });

  test('write failure keeps records pending, bounded', () => {
    const logger = new RecordingLogger();
    const target = database();
    const operations = createOperationStore({ database: target, clock: new ScriptedClock(), logger, batchSize: 2, maxPending: 3 });
    target.connection.exec('DROP TABLE operations');

    for (let index = 0; index < 5; index++) operations.add(finished(`op-${index}`, 1000 + index));

    const stats = operations.stats();
    assert.equal(stats.pending, 3);
    assert.equal(stats.droppedUnwritten, 2);
    assert.ok(stats.writeErrors >= 1);
    assert.match(logger.at('error')[0]?.message ?? '', /failed to write operation records; they stay pending/);
    assert.equal(logger.at('error')[0]?.object.code, 'SQLITE_ERROR');
    operations.close();
  });

  test('without a database records stay in memory, bounded', () => {
    const operations = createOperationStore({ database: null, logger: silentLogger, maxRecent: 2 });
    for (const id of ['a', 'b', 'c']) operations.add(finished(id, 1000));

    assert.equal(operations.stats().persistent, false);
    assert.equal(operations.stats().recent, 2);
    assert.equal(operations.get('a'), undefined);
    assert.deepEqual(
      operations.list().map((record) => record.id),
      ['b', 'c'],
    );
    assert.equal(operations.flush(), 0);
  });

  test('flush timer writes, close clears it', (context) => {
    context.mock.timers.enable({ apis: ['setTimeout'] });
    const target = database();
    const operations = createOperationStore({ database: target, clock: new ScriptedClock(), logger: silentLogger, flushIntervalMs: '1s' });
    operations.add(finished('a', 1));

    context.mock.timers.tick(999);
    assert.equal(rowCount(target), 0);
    context.mock.timers.tick(1);
    assert.equal(rowCount(target), 1);

    operations.add(finished('b', 2));
    operations.close();
    assert.equal(rowCount(target), 2, 'close() writes what is pending');
    assert.throws(() => operations.add(finished('c', 3)), /operation store is closed/);
  });
});
