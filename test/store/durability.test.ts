import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { openDatabase } from '../../src/store/open.js';
import { FIXTURES } from '../helpers/cli.js';
import { temporaryDirectory } from './helpers.js';

const ROWS_PER_BATCH = 2000;
/** The child is killed as soon as it starts this batch, so earlier ones are committed and this one is in flight. */
const KILL_AT_BATCH = 25;

const directory = temporaryDirectory('durability');
after(() => directory.remove());

interface WriterRun {
  committed: number[];
  killedDuring: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the writer and SIGKILLs it when it prints `begin KILL_AT_BATCH`, or after 30 s at the latest. */
function runWriterUntilKilled(path: string): Promise<WriterRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--max-old-space-size=128', join(FIXTURES, 'store-writer.js'), path, String(ROWS_PER_BATCH)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const run: WriterRun = { committed: [], killedDuring: null, signal: null, stderr: '' };
    let buffered = '';

    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const [word, number] = line.split(' ');
        if (word === 'committed') run.committed.push(Number(number));
        if (word === 'begin' && Number(number) === KILL_AT_BATCH && run.killedDuring === null) {
          run.killedDuring = KILL_AT_BATCH;
          child.kill('SIGKILL');
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));

    const deadline = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(deadline);
      run.signal = signal;
      resolve(run);
    });
  });
}

describe('operation store durability', () => {
  test('kill -9 mid-batch loses nothing committed', { timeout: 40_000 }, async () => {
    const path = join(directory.path, 'killed.db');
    const run = await runWriterUntilKilled(path);

    assert.equal(run.signal, 'SIGKILL', `the writer should be killed, stderr: ${run.stderr}`);
    assert.equal(run.killedDuring, KILL_AT_BATCH);
    assert.ok(run.committed.length >= KILL_AT_BATCH, `the writer reported ${run.committed.length} commits`);

    const database = openDatabase({ path });
    const rows = database.connection
      .prepare("SELECT CAST(substr(id, 2, instr(id, '-') - 2) AS INTEGER) AS batch, count(*) AS count FROM operations GROUP BY batch ORDER BY batch")
      .all() as Array<{ batch: number; count: number }>;
    database.close();
    const countByBatch = new Map(rows.map((row) => [row.batch, row.count]));

    for (const batch of run.committed) {
      assert.equal(countByBatch.get(batch), ROWS_PER_BATCH, `batch ${batch} was reported committed and must be complete`);
    }
    for (const { batch, count } of rows) {
      assert.equal(count, ROWS_PER_BATCH, `batch ${batch} is partial: ${count} of ${ROWS_PER_BATCH} rows`);
    }
    assert.deepEqual(
      rows.map((row) => row.batch),
      rows.map((_, index) => index),
      'batches on disk are a prefix with no gap',
    );
  });
});
