/**
 * Measures the per-request cost of headroom's load shedding, with nothing
 * shed (the normal state) and with half shed. The cases are `shouldShed()`,
 * the path check, the Express middleware and router, the Fastify onRequest
 * hook, and node:http `handle()` + `shed()`, each called as an app calls it.
 *
 * Run with `npm run build && node dist/bench/shedder-micro.js [--batches N]`.
 * Each case runs `--batches` (default 31) batches of 1,000,000 calls after a
 * warm-up, and reports the median nanoseconds per call minus the median of an
 * empty call with the same shape. Target: under 100 ns per request.
 */
import { cpus, release } from 'node:os';
import { parseArgs } from 'node:util';
import type { NextFunction, Request, Response } from 'express';
import { createExpressHeadroom } from '../src/adapters/express.js';
import { headroomPlugin } from '../src/adapters/fastify.js';
import { createHeadroomHandler } from '../src/adapters/http.js';
import { LoadShedder } from '../src/http/shedder.js';
import { createSheddingCheck } from '../src/http/shedding-guard.js';
import { createMemoryManager } from '../src/manager/manager.js';
import type { Sample } from '../src/sampling/sample.js';
import { silentLogger } from '../src/util/logger.js';

const CALLS_PER_BATCH = 1_000_000;
const WARM_UP_BATCHES = 3;
const TARGET_NS = 100;

interface Case {
  name: string;
  /** Makes one call and returns 1 when the request was shed, so the result is used and the call cannot be removed. */
  call: () => number;
}

const args = parseArgs({ options: { batches: { type: 'string', default: '31' } } });
const batches = Number(args.values.batches);
if (!Number.isInteger(batches) || batches < 1) throw new RangeError(`Invalid --batches: expected a positive integer, got ${args.values.batches}`);

/** Returns a sample with the fields the shedder reads; the rest of a real sample does not change its decision. */
function sampleAt(heapUsageRatio: number, level: Sample['level']): Sample {
  const fields: Pick<Sample, 'heapUsageRatio' | 'processUsageRatio' | 'level' | 'budget' | 'eventLoop'> = {
    heapUsageRatio,
    processUsageRatio: null,
    level,
    budget: 'heap',
    eventLoop: { delayP50Ms: 10, delayP99Ms: 10, utilization: 0.1 },
  };
  return fields as Sample;
}

function nsPerCall(testCase: Case): number {
  const timings: number[] = [];
  let shed = 0;

  for (let batch = 0; batch < WARM_UP_BATCHES + batches; batch++) {
    const start = process.hrtime.bigint();
    for (let index = 0; index < CALLS_PER_BATCH; index++) shed += testCase.call();
    const elapsed = Number(process.hrtime.bigint() - start);
    if (batch >= WARM_UP_BATCHES) timings.push(elapsed / CALLS_PER_BATCH);
  }

  if (shed < 0) console.log(shed);
  timings.sort((a, b) => a - b);
  return timings[Math.floor(timings.length / 2)] as number;
}

/** Returns a request, response and next() to call the middleware with, without a server. */
function fakeExchange(url: string): { request: Request; response: Response; next: NextFunction; shed: () => number } {
  let nextCalls = 0;
  let ended = 0;
  const response = { statusCode: 200, setHeader: () => response, end: () => void ended++ } as unknown as Response;
  const request = { url, originalUrl: url } as Request;
  return {
    request,
    response,
    next: () => void nextCalls++,
    shed: () => {
      const value = ended;
      ended = 0;
      return value;
    },
  };
}

type OnRequestHook = (request: unknown, reply: unknown, done: () => void) => void;

/** Registers the Fastify plugin on a stand-in instance and returns the onRequest hook it adds. */
function captureFastifyHook(manager: ReturnType<typeof createMemoryManager>): OnRequestHook {
  let hook: OnRequestHook | null = null;
  const instance = {
    decorate: () => instance,
    register: () => instance,
    addHook: (name: string, fn: OnRequestHook) => {
      if (name === 'onRequest') hook = fn;
      return instance;
    },
  };

  headroomPlugin(instance as never, { manager, logger: silentLogger, stream: false, shedding: { warmUpMs: 0 } }, (err) => {
    if (err) throw err;
  });
  if (!hook) throw new Error('The Fastify plugin added no onRequest hook');
  return hook;
}

function main(): void {
  const manager = createMemoryManager({ intervalMs: '1h', logger: silentLogger });
  const calmShedder = new LoadShedder({ warmUpMs: 0 });
  calmShedder.update(sampleAt(0.5, 'normal'));
  const halfShedder = new LoadShedder({ warmUpMs: 0 });
  halfShedder.update(sampleAt(0.85, 'high'));

  const calmCheck = createSheddingCheck(calmShedder, ['/headroom', '/healthz']);
  const halfCheck = createSheddingCheck(halfShedder, ['/headroom', '/healthz']);

  const express = createExpressHeadroom(manager, { logger: silentLogger, shedding: { warmUpMs: 0 } });
  const http = createHeadroomHandler(manager, { logger: silentLogger, shedding: { warmUpMs: 0 } });
  const exchange = fakeExchange('/api/orders?page=2');
  const middleware = express.shedding;
  const router = express.router;
  const baselineNext = (_request: Request, _response: Response, next: NextFunction): void => next();
  const fastifyHook = captureFastifyHook(manager);
  const fastifyRequest = { url: '/api/orders?page=2', routeOptions: { config: {} } };
  let fastifyDone = 0;
  const done = (): void => void fastifyDone++;

  const cases: Case[] = [
    { name: 'empty call (baseline)', call: () => (baselineNext(exchange.request, exchange.response, exchange.next), 0) },
    { name: 'shouldShed(), nothing shed', call: () => (calmShedder.shouldShed() ? 1 : 0) },
    { name: 'shouldShed(), half shed', call: () => (halfShedder.shouldShed() ? 1 : 0) },
    { name: 'path check + shouldShed(), nothing shed', call: () => (calmCheck('/api/orders?page=2') ? 1 : 0) },
    { name: 'path check + shouldShed(), half shed', call: () => (halfCheck('/api/orders?page=2') ? 1 : 0) },
    { name: 'Express shedding middleware, nothing shed', call: () => (middleware(exchange.request, exchange.response, exchange.next), exchange.shed()) },
    { name: 'Express router, path outside the prefix', call: () => (router(exchange.request, exchange.response, exchange.next), 0) },
    { name: 'Fastify onRequest hook, nothing shed', call: () => (fastifyHook(fastifyRequest, {}, done), 0) },
    { name: 'node:http handle() + shed(), nothing shed', call: () => (http.handle({ url: '/api/orders?page=2', method: 'GET' } as never, exchange.response as never) || http.shed({ url: '/api/orders?page=2' } as never, exchange.response as never) ? 1 : 0) },
  ];

  const results = cases.map((testCase) => ({ name: testCase.name, ns: nsPerCall(testCase) }));
  const baseline = results[0]?.ns ?? 0;

  console.log(`- Command: \`node dist/bench/shedder-micro.js --batches ${batches}\``);
  console.log(`- Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, Linux ${release()}.`);
  console.log(`- Median of ${batches} batches of ${CALLS_PER_BATCH.toLocaleString('en-US')} calls, after ${WARM_UP_BATCHES} warm-up batches.`);
  console.log('');
  console.log('| case | ns per call | minus baseline | verdict |');
  console.log('|---|---:|---:|---|');
  for (const result of results) {
    const net = result.ns - baseline;
    if (result === results[0]) {
      console.log(`| ${result.name} | ${result.ns.toFixed(1)} | - | - |`);
      continue;
    }

    const verdict = net < TARGET_NS ? `under ${TARGET_NS} ns` : `OVER ${TARGET_NS} ns`;
    console.log(`| ${result.name} | ${result.ns.toFixed(1)} | ${net.toFixed(1)} | ${verdict} |`);
  }

  if (fastifyDone < 0) console.log(fastifyDone);
  void express.close();
  void http.close();
  calmShedder.close();
  halfShedder.close();
}

main();
