/**
 * Compares taking objects from headroom's pools with allocating them:
 * 64 KiB buffers from a BufferPool against `Buffer.allocUnsafe`, and small
 * objects from an ObjectPool against object literals. For each it reports the
 * time per object and the GC pause time per million objects, read from a
 * PerformanceObserver on `gc` entries.
 *
 * Run with `npm run build && node dist/bench/pool-cost.js` (about 1 minute).
 * `--rounds N` (default 5) sets the rounds per case; the median is reported.
 * The measurement runs in a child under `--max-old-space-size=128`, killed
 * after 5 minutes.
 */
import { availableParallelism, cpus } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createBufferPool } from '../src/pools/buffer-pool.js';
import { createObjectPool } from '../src/pools/object-pool.js';
import { median, runCappedChild } from './capped-child.js';

const BUFFER_BYTES = 64 * 1024;
const BUFFER_COUNT = 1_000_000;
const OBJECT_COUNT = 10_000_000;
/** Objects are kept in a ring of this many slots, so each escapes its loop iteration as real code's would. */
const RING_SLOTS = 16;

interface CaseResult {
  name: string;
  count: number;
  nsPerObject: number;
  gcMsPerMillion: number;
}

const args = parseArgs({ options: { child: { type: 'boolean' }, rounds: { type: 'string' } } });
const rounds = Number(args.values.rounds ?? '5');
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) throw new RangeError(`Invalid --rounds ${String(args.values.rounds)}: expected an integer from 1 to 50`);

async function measureAll(roundCount: number): Promise<CaseResult[]> {
  const cases: Array<{ name: string; count: number; run: () => void }> = [
    { name: `BufferPool.acquire + release, ${BUFFER_BYTES / 1024} KiB`, count: BUFFER_COUNT, run: pooledBuffers },
    { name: `Buffer.allocUnsafe(${BUFFER_BYTES})`, count: BUFFER_COUNT, run: allocatedBuffers },
    { name: 'ObjectPool.acquire + release, { x, y, z }', count: OBJECT_COUNT, run: pooledObjects },
    { name: 'object literal { x, y, z }', count: OBJECT_COUNT, run: allocatedObjects },
  ];

  const results: CaseResult[] = [];
  for (const { name, count, run } of cases) {
    run();
    const timings: Array<{ wallMs: number; gcMs: number }> = [];
    for (let round = 0; round < roundCount; round++) timings.push(await timeWithGc(run));

    results.push({
      name,
      count,
      nsPerObject: median(timings.map((timing) => (timing.wallMs * 1e6) / count)),
      gcMsPerMillion: median(timings.map((timing) => (timing.gcMs * 1e6) / count)),
    });
  }
  return results;
}

async function timeWithGc(run: () => void): Promise<{ wallMs: number; gcMs: number }> {
  let gcMs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs += entry.duration;
  });
  observer.observe({ entryTypes: ['gc'] });

  const startMs = performance.now();
  run();
  const wallMs = performance.now() - startMs;

  // GC entries are queued while the loop runs and delivered on a later turn of the event loop.
  await sleep(100);
  for (const entry of observer.takeRecords()) gcMs += entry.duration;
  observer.disconnect();
  return { wallMs, gcMs };
}

const bufferPool = createBufferPool({ sizeClasses: [BUFFER_BYTES], maxIdlePerClass: RING_SLOTS });
const bufferRing: Array<Buffer | undefined> = new Array(RING_SLOTS);

function pooledBuffers(): void {
  for (let index = 0; index < BUFFER_COUNT; index++) {
    const slot = index % RING_SLOTS;
    const previous = bufferRing[slot];
    if (previous) bufferPool.release(previous);
    const buffer = bufferPool.acquire(BUFFER_BYTES);
    buffer[0] = index & 0xff;
    bufferRing[slot] = buffer;
  }
  for (const [slot, buffer] of bufferRing.entries()) {
    if (buffer) bufferPool.release(buffer);
    bufferRing[slot] = undefined;
  }
}

function allocatedBuffers(): void {
  for (let index = 0; index < BUFFER_COUNT; index++) {
    const buffer = Buffer.allocUnsafe(BUFFER_BYTES);
    buffer[0] = index & 0xff;
    bufferRing[index % RING_SLOTS] = buffer;
  }
  bufferRing.fill(undefined);
}

interface Point {
  x: number;
  y: number;
  z: number;
}

const pointPool = createObjectPool<Point>({ create: () => ({ x: 0, y: 0, z: 0 }), maxIdle: RING_SLOTS });
const pointRing: Array<Point | undefined> = new Array(RING_SLOTS);

function pooledObjects(): void {
  for (let index = 0; index < OBJECT_COUNT; index++) {
    const slot = index % RING_SLOTS;
    const previous = pointRing[slot];
    if (previous) pointPool.release(previous);
    const point = pointPool.acquire();
    point.x = index;
    point.y = index + 1;
    point.z = index + 2;
    pointRing[slot] = point;
  }
  for (const [slot, point] of pointRing.entries()) {
    if (point) pointPool.release(point);
    pointRing[slot] = undefined;
  }
}

function allocatedObjects(): void {
  for (let index = 0; index < OBJECT_COUNT; index++) {
    pointRing[index % RING_SLOTS] = { x: index, y: index + 1, z: index + 2 };
  }
  pointRing.fill(undefined);
}

function print(results: CaseResult[]): void {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`Node ${process.version}, ${availableParallelism()} cores (${cpu}), ${rounds} rounds, medians\n`);
  console.log('| case | objects per round | ns per object | GC ms per million |');
  console.log('|---|---|---|---|');
  for (const result of results) {
    console.log(`| ${result.name} | ${result.count.toLocaleString('en-US')} | ${result.nsPerObject.toFixed(1)} | ${result.gcMsPerMillion.toFixed(1)} |`);
  }

  const byName = new Map(results.map((result) => [result.name, result]));
  const pooled = results[0];
  const allocated = results[1];
  if (pooled && allocated && byName.size === results.length) {
    console.log(`\n64 KiB buffers: the pool is ${(allocated.nsPerObject / pooled.nsPerObject).toFixed(0)}x cheaper per buffer.`);
  }
  const pooledSmall = results[2];
  const allocatedSmall = results[3];
  if (pooledSmall && allocatedSmall) {
    console.log(`Small objects: the pool saves ${(allocatedSmall.nsPerObject - pooledSmall.nsPerObject).toFixed(1)} ns per object (negative: it costs more).`);
  }
}

// Runs last, after the pools and rings above are initialized.
if (args.values.child) {
  process.stdout.write(JSON.stringify(await measureAll(rounds)));
} else {
  const stdout = await runCappedChild({ file: fileURLToPath(import.meta.url), args: ['--child', '--rounds', String(rounds)], maxOldSpaceMiB: 128, timeoutMs: 300_000 });
  print(JSON.parse(stdout) as CaseResult[]);
}
