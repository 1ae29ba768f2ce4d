/**
 * One server of the HTTP overhead benchmark, started by `bench/http-overhead.ts`
 * as a child process: `node dist/bench/http-server.js VARIANT`. It serves
 * `GET /` with a small JSON body on 127.0.0.1, prints `{"port":N}` once
 * listening, and exits when stdin closes or after `--max-seconds` (default 900).
 * For each `cpu` line on stdin it prints `{"cpuMicros":N}` on stdout, the
 * process's user plus system CPU time so far.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import express from 'express';
import Fastify from 'fastify';
import underPressure from '@fastify/under-pressure';
import { createExpressHeadroom } from '../src/adapters/express.js';
import { headroomPlugin } from '../src/adapters/fastify.js';
import { createHeadroomHandler } from '../src/adapters/http.js';
import { createMemoryManager } from '../src/manager/manager.js';
import { silentLogger } from '../src/util/logger.js';

export const VARIANTS = [
  'express-bare',
  'express-headroom',
  'fastify-bare',
  'fastify-headroom',
  'fastify-under-pressure',
  'fastify-empty-hook',
  'http-bare',
  'http-headroom',
] as const;

export type Variant = (typeof VARIANTS)[number];

const BODY = { hello: 'world' };

/**
 * Collects garbage once when the process runs with --expose-gc, after start-up
 * and before listening, with a process.nextTick callback still queued.
 *
 * Start-up leaves V8 partway through a full collection, which otherwise
 * lands in the idle moment before the load or in the load itself, depending
 * on how much the variant allocated. If it lands while no nextTick object is
 * alive, V8 drops the hidden classes of those objects. When nextTick already
 * has type feedback, as it has after a few plugins load, that feedback then
 * turns megamorphic for good, and every later nextTick call takes a slow path
 * in the V8 runtime. A Fastify server in that state used 10 to 30 % more CPU
 * per request. Collecting here, while a queued callback keeps those hidden
 * classes alive, puts every variant in the same state.
 */
async function collectBeforeListening(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') return;

  await new Promise<void>((resolve) => {
    process.nextTick(() => {
      process.nextTick(resolve);
      gc();
    });
  });
}

/** Returns a started manager with default options, as a service would run it. */
function startManager(): ReturnType<typeof createMemoryManager> {
  return createMemoryManager({ logger: silentLogger }).start();
}

async function startExpress(withHeadroom: boolean): Promise<Server> {
  const app = express();
  if (withHeadroom) {
    const headroom = createExpressHeadroom(startManager(), { logger: silentLogger });
    app.use(headroom.middleware);
  }
  app.get('/', (_request, response) => void response.json(BODY));

  await collectBeforeListening();
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

async function startFastify(extra: 'none' | 'headroom' | 'under-pressure' | 'empty-hook'): Promise<Server> {
  const app = Fastify();
  if (extra === 'headroom') await app.register(headroomPlugin, { manager: startManager(), logger: silentLogger });
  if (extra === 'under-pressure') {
    // Thresholds well above what this server reaches, so both sides only measure and never shed.
    await app.register(underPressure, {
      maxEventLoopDelay: 1000,
      maxEventLoopUtilization: 0.99,
      maxHeapUsedBytes: 4 * 2 ** 30,
      maxRssBytes: 8 * 2 ** 30,
      exposeStatusRoute: true,
    });
  }
  // An onRequest hook that does nothing: what Fastify's hook runner costs by itself.
  if (extra === 'empty-hook') app.addHook('onRequest', (_request, _reply, done) => done());
  app.get('/', async () => BODY);

  // Plugins run on ready(), so the collection comes after them.
  await app.ready();
  await collectBeforeListening();
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app.server;
}

async function startHttp(withHeadroom: boolean): Promise<Server> {
  const headroom = withHeadroom ? createHeadroomHandler(startManager(), { logger: silentLogger }) : null;
  const text = JSON.stringify(BODY);
  const server = createServer((request, response) => {
    if (headroom && (headroom.handle(request, response) || headroom.shed(request, response))) return;

    response.setHeader('content-type', 'application/json; charset=utf-8');
    response.end(text);
  });

  await collectBeforeListening();
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function startVariant(variant: Variant): Promise<Server> {
  switch (variant) {
    case 'express-bare':
      return startExpress(false);
    case 'express-headroom':
      return startExpress(true);
    case 'fastify-bare':
      return startFastify('none');
    case 'fastify-headroom':
      return startFastify('headroom');
    case 'fastify-under-pressure':
      return startFastify('under-pressure');
    case 'fastify-empty-hook':
      return startFastify('empty-hook');
    case 'http-bare':
      return startHttp(false);
    case 'http-headroom':
      return startHttp(true);
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const args = parseArgs({ allowPositionals: true, options: { 'max-seconds': { type: 'string', default: '900' } } });
  const variant = args.positionals[0] as Variant;
  if (!VARIANTS.includes(variant)) throw new RangeError(`Invalid variant ${JSON.stringify(variant)}: expected one of ${VARIANTS.join(', ')}`);

  const server = await startVariant(variant);
  const exit = (): never => process.exit(0);
  setTimeout(exit, Number(args.values['max-seconds']) * 1000).unref();
  process.stdin.on('end', exit);
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() !== 'cpu') return;

    const usage = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ cpuMicros: usage.user + usage.system })}\n`);
  });
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
}
