/**
 * Measures how many finished operation records per second the operation store
 * writes to a SQLite file: batched inserts, one transaction per batch, in WAL
 * mode, with `synchronous = NORMAL` (the default) and `FULL`.
 *
 * Run with `npm run build && node dist/bench/store-inserts.js` (under a
 * minute). `--records N` (default 200000) sets the records per run and
 * `--rounds N` (default 3) the runs per case; the median is reported. Files
 * go to a temporary directory that is removed at the end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/store/open.js';
import { createOperationStore } from '../src/store/operation-store.js';
import { silentLogger } from '../src/util/logger.js';
import { median } from './capped-child.js';

const args = parseArgs({ options: { records: { type: 'string' }, rounds: { type: 'string' } } });
const records = integerArgument('--records', args.values.records ?? '200000', 1000, 10_000_000);
const rounds = integerArgument('--rounds', args.values.rounds ?? '3', 1, 20);

const cases = [
  { label: 'batch 500, synchronous NORMAL (default)', batchSize: 500, fsyncEachCommit: false },
  { label: 'batch 50, synchronous NORMAL', batchSize: 50, fsyncEachCommit: false },
  { label: 'batch 500, synchronous FULL', batchSize: 500, fsyncEachCommit: true },
];

const directory = mkdtempSync(join(tmpdir(), 'headroom-bench-store-'));
try {
  console.log(`Node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${records.toLocaleString('en-US')} records per run, ${rounds} runs, medians\n`);
  console.log('| case | records per second | ms per 1000 records |');
  console.log('|---|---|---|');

  let fileNumber = 0;
  for (const { label, batchSize, fsyncEachCommit } of cases) {
    const rates: number[] = [];
    for (let round = 0; round < rounds; round++) rates.push(measure(join(directory, `run-${fileNumber++}.db`), batchSize, fsyncEachCommit));

    const rate = median(rates);
    console.log(`| ${label} | ${Math.round(rate).toLocaleString('en-US')} | ${(1e6 / rate).toFixed(1)} |`);
  }
} finally {
  rmSync(directory, { recursive: true, force: true });
}

/** Returns records written per second, from the first add() to the last flush(). */
function measure(path: string, batchSize: number, fsyncEachCommit: boolean): number {
  const database = openDatabase({ path, fsyncEachCommit });
  const store = createOperationStore({ database, batchSize, maxRecent: 100, maxRows: 1_000_000_000, pruneIntervalMs: '24h', logger: silentLogger });
  const result = 'rows=120 bytes=48213';

  const startMs = performance.now();
  for (let index = 0; index < records; index++) {
    const now = Date.now();
    store.add({ id: `op-${index}`, kind: 'export', status: 'done', startedAt: now - 40, finishedAt: now, result });
  }
  store.flush();
  const elapsedMs = performance.now() - startMs;

  store.close();
  database.close();
  return (records / elapsedMs) * 1000;
}

function integerArgument(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`Invalid ${name} ${text}: expected an integer from ${min} to ${max}`);
  return value;
}
