/**
 * Records one million operations (begin, then finish) through the operation
 * store backed by a SQLite file, and reports RSS and heap used every 100,000
 * operations. The in-memory part is bounded (running operations, pending
 * writes, recent records), so memory should stay flat.
 *
 * Run with `npm run build && node dist/bench/operations-memory.js` (under a
 * minute). The recording runs in a child under `--max-old-space-size=128`
 * and `--expose-gc`, killed after 3 minutes. The child collects garbage
 * before each reading, so the figures are what stays live.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/store/open.js';
import { createOperationStore } from '../src/store/operation-store.js';
import { formatBytes } from '../src/util/size.js';
import { silentLogger } from '../src/util/logger.js';
import { runCappedChild } from './capped-child.js';

const OPERATIONS = 1_000_000;
const READ_EVERY = 100_000;
/** Operations running at once: each finishes this many operations after it began. */
const CONCURRENT = 100;

interface Reading {
  operations: number;
  rssBytes: number;
  heapUsedBytes: number;
}

interface ChildOutput {
  readings: Reading[];
  elapsedMs: number;
  fileBytes: number;
  rowsOnDisk: number;
  stats: Record<string, unknown>;
}

const args = parseArgs({ options: { child: { type: 'string' } } });

if (args.values.child !== undefined) {
  process.stdout.write(JSON.stringify(record(args.values.child)));
} else {
  const directory = mkdtempSync(join(tmpdir(), 'headroom-bench-memory-'));
  try {
    const stdout = await runCappedChild({ file: fileURLToPath(import.meta.url), args: ['--child', join(directory, 'operations.db')], maxOldSpaceMiB: 128, exposeGc: true, timeoutMs: 180_000 });
    print(JSON.parse(stdout) as ChildOutput);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

function record(path: string): ChildOutput {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('operations-memory: the child needs --expose-gc');

  const database = openDatabase({ path });
  // maxRows above one million, so retention deletes nothing and the file contains every record.
  const store = createOperationStore({ database, maxRows: 2_000_000, logger: silentLogger });
  const readings: Reading[] = [];
  const read = (operations: number) => {
    collect();
    const usage = process.memoryUsage();
    readings.push({ operations, rssBytes: usage.rss, heapUsedBytes: usage.heapUsed });
  };

  read(0);
  const startMs = performance.now();
  for (let index = 0; index < OPERATIONS; index++) {
    store.begin('import', `op-${index}`);
    if (index >= CONCURRENT) store.finish(`op-${index - CONCURRENT}`, index % 50 === 0 ? 'failed' : 'done', 'rows=120');
    if ((index + 1) % READ_EVERY === 0) read(index + 1);
  }
  for (let index = OPERATIONS - CONCURRENT; index < OPERATIONS; index++) store.finish(`op-${index}`, 'done', 'rows=120');
  store.flush();
  const elapsedMs = performance.now() - startMs;

  const rowsOnDisk = (database.connection.prepare('SELECT count(*) AS rows FROM operations').get() as { rows: number }).rows;
  const stats = { ...store.stats() };
  store.close();
  database.close();
  return { readings, elapsedMs, fileBytes: statSync(path).size, rowsOnDisk, stats };
}

function print(output: ChildOutput): void {
  console.log(`Node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), --max-old-space-size=128, gc() before each reading\n`);
  console.log('| operations recorded | RSS | heap used |');
  console.log('|---|---|---|');
  for (const reading of output.readings) {
    console.log(`| ${reading.operations.toLocaleString('en-US')} | ${formatBytes(reading.rssBytes)} | ${formatBytes(reading.heapUsedBytes)} |`);
  }

  const heaps = output.readings.slice(1).map((reading) => reading.heapUsedBytes);
  const rssValues = output.readings.slice(1).map((reading) => reading.rssBytes);
  console.log(`\n${OPERATIONS.toLocaleString('en-US')} operations in ${(output.elapsedMs / 1000).toFixed(1)} s (${Math.round((OPERATIONS / output.elapsedMs) * 1000).toLocaleString('en-US')} per second, begin and finish).`);
  console.log(`Heap used from 100,000 on: ${formatBytes(Math.min(...heaps))} to ${formatBytes(Math.max(...heaps))}; RSS ${formatBytes(Math.min(...rssValues))} to ${formatBytes(Math.max(...rssValues))}.`);
  console.log(`Rows on disk: ${output.rowsOnDisk.toLocaleString('en-US')}, file ${formatBytes(output.fileBytes)} (the WAL file not counted). Store figures: ${JSON.stringify(output.stats)}`);
}
