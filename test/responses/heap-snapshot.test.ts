import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createHeapSnapshotWriter, type HeapSnapshotWriterOptions, type SnapshotMemoryReading } from '../../src/responses/heap-snapshot.js';
import { silentLogger } from '../../src/util/logger.js';
import { RecordingLogger } from '../helpers/recording-logger.js';
import { ScriptedClock } from '../helpers/scripted.js';

const MIB = 2 ** 20;

describe('heap snapshot writer', () => {
  let directory = '';
  let memory: SnapshotMemoryReading;
  let writes: string[];

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'headroom-snapshot-'));
    memory = { heapUsedBytes: 20 * MIB, heapLimitBytes: 512 * MIB, rssBytes: 100 * MIB };
    writes = [];
  });

  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  const fakeWriter = (path: string): void => {
    writes.push(path);
    writeFileSync(path, '{"snapshot":{},"nodes":[]}');
  };

  function writer(options: Partial<HeapSnapshotWriterOptions> = {}) {
    return createHeapSnapshotWriter({
      directory,
      writeSnapshot: fakeWriter,
      readMemory: () => ({ ...memory }),
      clock: new ScriptedClock(),
      logger: silentLogger,
      ...options,
    });
  }

  test('no room under process limit', () => {
    memory = { heapUsedBytes: 100 * MIB, heapLimitBytes: 4096 * MIB, rssBytes: 200 * MIB };

    const result = writer().write({ limitBytes: 512 * MIB });

    assert.equal(result.written, false);
    assert.equal(!result.written && result.reason, 'no-room');
    assert.equal(result.estimatedCostBytes, 800 * MIB);
    assert.equal(result.roomBytes, 312 * MIB);
    assert.match(!result.written ? result.message : '', /800\.0 MiB.*312\.0 MiB is free under the process limit of 512\.0 MiB/);
    assert.deepEqual(writes, []);
    assert.deepEqual(readdirSync(directory), []);
  });

  test('no heap room without limit', () => {
    memory = { heapUsedBytes: 100 * MIB, heapLimitBytes: 176 * MIB, rssBytes: 150 * MIB };

    const result = writer().write({ limitBytes: null });

    assert.equal(!result.written && result.reason, 'no-room');
    assert.equal(result.roomBytes, 76 * MIB);
    assert.match(!result.written ? result.message : '', /under the heap limit/);
  });

  test('peakGrowthFactor changes the estimate', () => {
    // 20 MiB used and 300 MiB of room: 8x fits, 20x does not.
    memory = { heapUsedBytes: 20 * MIB, heapLimitBytes: 4096 * MIB, rssBytes: 212 * MIB };

    assert.equal(writer().write({ limitBytes: 512 * MIB }).written, true);
    const strict = writer({ peakGrowthFactor: 20 }).write({ limitBytes: 512 * MIB });
    assert.equal(!strict.written && strict.reason, 'no-room');
  });

  test('skipped when growth is outside the heap', () => {
    for (const growth of ['external', 'native'] as const) {
      const result = writer().write({ limitBytes: 4096 * MIB, growth });

      assert.equal(!result.written && result.reason, 'growth-outside-heap');
      assert.match(!result.written ? result.message : '', new RegExp(`growing in ${growth} memory`));
    }
    assert.deepEqual(writes, []);
  });

  test('written via renamed partial file', () => {
    const result = writer().write({ limitBytes: 4096 * MIB, growth: 'heap' });

    assert.equal(result.written, true);
    const path = result.written ? result.path : '';
    assert.equal(writes.length, 1);
    assert.equal(writes[0], `${path}.partial`);
    assert.deepEqual(readdirSync(directory), [path.slice(directory.length + 1)]);
    assert.match(path, /headroom-.*-\d+-1\.heapsnapshot$/);
    assert.equal(result.written && result.sizeBytes, 26);
  });

  test('skipped when maxFiles snapshots exist', () => {
    const snapshots = writer({ maxFiles: 2 });
    writeFileSync(join(directory, 'other-file.txt'), 'not a snapshot');

    assert.equal(snapshots.write({ limitBytes: null }).written, true);
    assert.equal(snapshots.write({ limitBytes: null }).written, true);
    const third = snapshots.write({ limitBytes: null });

    assert.equal(!third.written && third.reason, 'max-files');
    assert.match(!third.written ? third.message : '', /already contains 2 snapshot\(s\).*maxFiles \(2\)\. Move or delete/);
    assert.equal(snapshots.listSnapshots().length, 2);
  });

  test('failed write leaves no file', () => {
    const logger = new RecordingLogger();
    const snapshots = writer({
      logger,
      writeSnapshot: (path) => {
        writeFileSync(path, '{"snapshot":');
        throw new Error('ENOSPC: no space left on device');
      },
    });

    const result = snapshots.write({ limitBytes: null });

    assert.equal(!result.written && result.reason, 'failed');
    assert.match(!result.written ? result.message : '', /ENOSPC/);
    assert.deepEqual(readdirSync(directory), []);
    assert.ok(logger.at('error')[0]?.object.err instanceof Error);
  });

  test('empty snapshot file is removed', () => {
    const snapshots = writer({ writeSnapshot: (path) => writeFileSync(path, '') });

    const result = snapshots.write({ limitBytes: null });

    assert.equal(!result.written && result.reason, 'failed');
    assert.match(!result.written ? result.message : '', /is empty/);
    assert.deepEqual(readdirSync(directory), []);
  });

  test('creates a missing directory', () => {
    const nested = join(directory, 'a', 'b');
    const result = writer({ directory: nested }).write({ limitBytes: null });

    assert.equal(result.written, true);
    assert.equal(readdirSync(nested).length, 1);
  });

  test('real snapshot of this heap parses as JSON', () => {
    const snapshots = createHeapSnapshotWriter({ directory, logger: silentLogger });

    const result = snapshots.write({ limitBytes: null });

    assert.equal(result.written, true, result.written ? '' : result.message);
    const path = result.written ? result.path : '';
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    assert.ok('snapshot' in parsed);
    assert.ok('nodes' in parsed);
    assert.deepEqual(readdirSync(directory), [path.slice(directory.length + 1)]);
    rmSync(path);
  });

  test('rejects invalid options', () => {
    assert.throws(() => createHeapSnapshotWriter({} as never), { name: 'TypeError', message: /`directory`.*undefined/ });
    assert.throws(() => writer({ maxFiles: 0 }), { name: 'RangeError', message: /`maxFiles`/ });
    assert.throws(() => writer({ peakGrowthFactor: 0.5 }), { name: 'RangeError', message: /`peakGrowthFactor`.*0\.5 \(number\)/ });
    assert.throws(() => writer({ filePrefix: '../escape' }), { name: 'RangeError', message: /`filePrefix`/ });
    assert.throws(() => writer({ dir: '/tmp' } as never), { name: 'TypeError', message: /`options\.dir`/ });
  });

  test('rejects an invalid request', () => {
    const snapshots = writer();

    assert.throws(() => snapshots.write({ limitBytes: -1 }), { name: 'RangeError', message: /`request\.limitBytes`/ });
    assert.throws(() => snapshots.write({} as never), { name: 'TypeError', message: /`request\.limitBytes`.*undefined/ });
    assert.throws(() => snapshots.write({ limitBytes: null, growth: 'disk' as never }), { name: 'RangeError', message: /`request\.growth`/ });
  });
});
