/**
 * The leaky Express service of the QDT survival benchmark, in one of three
 * variants, run by bench/qdt-survival.ts as a child process under
 * `--max-old-space-size=128`:
 *   unguarded   no protection
 *   shedding    503 for every request while heap used is above 100 MiB,
 *               checked once per second, as @fastify/under-pressure's
 *               `maxHeapUsedBytes` does (no releasers, no margin)
 *   headroom    the QDT middleware (manager, shedding, tunneling and
 *               funneling), releasers for both leaks, and the workload governor
 * Every request keeps about 10 KB in an unbounded Map. Up to five background
 * jobs each keep about 8 KB every 100 ms in another unbounded Map. Prints
 * `ready PORT` once listening, and exits when stdin closes or after `--max-seconds`.
 */
import type { AddressInfo } from 'node:net';
import { getHeapStatistics } from 'node:v8';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import express from 'express';
import { mapReleaser } from '../src/responses/release-adapters.js';
import { qdtMiddleware } from '../src/qdt/middleware.js';
import { QDTMemoryManager } from '../src/qdt/manager.js';
import { createWorkloadGovernor } from '../src/workload/governor.js';

export const SURVIVAL_VARIANTS = ['unguarded', 'shedding', 'headroom'] as const;
export type SurvivalVariant = (typeof SURVIVAL_VARIANTS)[number];

const MIB = 2 ** 20;
/** Numbers kept per request: a 1280-element array of small integers is about 10 KB of heap. */
const REQUEST_ITEMS = 1280;
/** Numbers a job keeps every 100 ms: about 8 KB. */
const JOB_ITEMS = 1024;
const JOB_STEPS = 50;
const JOB_STEP_MS = 100;
/** The shedding variant's threshold, as in @fastify/under-pressure runs with `maxHeapUsedBytes` 100 MiB. */
const SHED_HEAP_USED_BYTES = 100 * MIB;

const cache = new Map<number, number[]>();
const jobResults = new Map<string, number[][]>();
let requestCount = 0;
let jobCount = 0;

/** Runs one background job: five seconds of steps, each keeping about 8 KB, stopping early when its signal aborts. */
async function runJob(signal: AbortSignal | null): Promise<void> {
  const id = `job-${jobCount++}`;
  const kept: number[][] = [];
  jobResults.set(id, kept);

  for (let step = 0; step < JOB_STEPS; step++) {
    if (signal?.aborted) return;

    kept.push(new Array<number>(JOB_ITEMS).fill(step));
    await new Promise((resolve) => setTimeout(resolve, JOB_STEP_MS));
  }
}

/** Keeps five jobs running, with no governor: the unguarded and shedding variants. */
function runJobsUngoverned(): void {
  let active = 0;
  const fill = (): void => {
    while (active < 5) {
      active++;
      void runJob(null).finally(() => {
        active--;
        fill();
      });
    }
  };
  fill();
}

function addSheddingOnly(app: express.Express): void {
  let shedding = false;
  setInterval(() => (shedding = getHeapStatistics().used_heap_size > SHED_HEAP_USED_BYTES), 1000).unref();
  app.use((_request, response, next) => {
    if (!shedding) return next();
    response.status(503).json({ error: 'service_unavailable' });
  });
}

function addHeadroom(app: express.Express): void {
  const qdt = new QDTMemoryManager({ responses: { forcedGc: { enableAtRuntime: true } } }).start();
  qdt.manager.registerReleaser(mapReleaser(cache, { name: 'request-cache', priority: 10 }));
  qdt.manager.registerReleaser(mapReleaser(jobResults, { name: 'job-results', priority: 5 }));

  const governor = createWorkloadGovernor({
    pressure: qdt.manager,
    minActive: 2,
    maxActive: 5,
    dailyLimit: 500,
    factory: () => ({ kind: 'background', run: (signal: AbortSignal) => runJob(signal) }),
  }).start();
  qdtMiddleware(app, { qdt, governor });
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'max-seconds': { type: 'string', default: '600' } } });
  const variant = positionals[0] as SurvivalVariant;
  if (!SURVIVAL_VARIANTS.includes(variant)) throw new RangeError(`Unknown variant ${JSON.stringify(variant)}: expected one of ${SURVIVAL_VARIANTS.join(', ')}`);

  const app = express();
  if (variant === 'shedding') addSheddingOnly(app);
  if (variant === 'headroom') addHeadroom(app);
  else runJobsUngoverned();

  app.get('/', (_request, response) => {
    cache.set(requestCount, new Array<number>(REQUEST_ITEMS).fill(requestCount & 0xff));
    requestCount++;
    response.json({ cached: cache.size });
  });

  const server = app.listen(0, '127.0.0.1', () => process.stdout.write(`ready ${(server.address() as AddressInfo).port}\n`));
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
  setTimeout(() => process.exit(0), Number(values['max-seconds']) * 1000).unref();
}

// bench/qdt-survival.ts imports the variant names from here, so the server starts only when this file is the program.
if (process.argv[1] === fileURLToPath(import.meta.url)) main();
