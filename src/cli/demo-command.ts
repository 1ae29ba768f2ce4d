import { createServer } from 'node:net';
import { durationFlag, parseFlags, portFlag, sizeFlag, UsageError } from './args.js';
import { runLoad, waitForPort, type LoadResult } from './load.js';
import { checkWritable } from './run-command.js';
import { runSupervised } from './run.js';

export const DEMO_HELP = `headroom demo [flags]
  Runs a small service with a leaky cache and a background job under a small
  limit, drives it with a bounded load on 127.0.0.1, and shows the dashboard
  and the summary. The service registers its cache as a releaser, so headroom
  trims it under pressure.

  --duration TIME   how long the load runs (default 60s, at most 10m)
  --limit SIZE      the service's process limit (default 160MiB)
  --rate N          requests per second (default 250, at most 2000)
  --events FILE     write every sample and event as JSON lines
  --port N          serve the HTTP API and the dashboard on 127.0.0.1:N
  --dashboard MODE  auto, lines or off
`;

const VALUE_FLAGS = new Set(['--duration', '--limit', '--rate', '--events', '--dashboard', '--port']);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Runs the demo service under headroom with a bounded loopback load; returns the exit code. */
export async function demoCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, VALUE_FLAGS, new Set());
  if (flags.rest.length > 0) throw new UsageError(`demo takes no command, got "${flags.rest.join(' ')}"`);

  const durationMs = durationFlag(flags, '--duration', 60_000, 1000, 600_000);
  const limitBytes = sizeFlag(flags, '--limit') ?? 160 * 2 ** 20;
  const rateText = flags.values.get('--rate') ?? '250';
  const rate = Number(rateText);
  if (!Number.isInteger(rate) || rate < 1 || rate > 2000) throw new UsageError(`--rate expects a whole number from 1 to 2000, got "${String(rateText)}"`);

  const dashboard = flags.values.get('--dashboard') ?? 'auto';
  if (dashboard !== 'auto' && dashboard !== 'lines' && dashboard !== 'off') {
    throw new UsageError(`--dashboard expects auto, lines or off, got "${String(dashboard)}"`);
  }
  const eventsFile = flags.values.get('--events');
  if (typeof eventsFile === 'string') checkWritable(eventsFile);

  const port = await freePort();
  const stop = new AbortController();
  // Set from the hello callback, which TypeScript cannot follow, hence an object.
  const load: { promise: Promise<LoadResult> | null } = { promise: null };

  process.stderr.write(`headroom demo: a leaky service on 127.0.0.1:${port}, ${rate} requests/s for ${durationMs / 1000} s, limit ${Math.round(limitBytes / 2 ** 20)} MiB\n`);

  const run = runSupervised({
    command: process.execPath,
    args: [new URL('../demo/service.js', import.meta.url).pathname],
    limitBytes,
    intervalMs: 1000,
    eventsFile: typeof eventsFile === 'string' ? eventsFile : null,
    // A forced GC after the releasers turns what they dropped into measured, reclaimed bytes.
    exposeGc: true,
    dashboard,
    killAtLimit: true,
    watchdogPollMs: 50,
    extraEnv: { PORT: String(port), DEMO_MAX_LIFETIME_MS: String(durationMs + 60_000) },
    stopSignal: stop.signal,
    port: portFlag(flags),
    onHello: () => {
      load.promise = waitForPort('127.0.0.1', port, 10_000).then((open) =>
        runLoad({
          host: '127.0.0.1',
          port,
          pathFor: (index) => `/reports/${index}`,
          ratePerSecond: rate,
          concurrency: 8,
          durationMs: open ? durationMs : 0,
          maxRequests: Math.ceil((rate * durationMs) / 1000),
          signal: stop.signal,
        }),
      );
      void load.promise.finally(() => stop.abort());
    },
  });

  const result = await run;
  stop.abort();
  const served = load.promise ? await load.promise : null;
  if (served) {
    process.stderr.write(`load           ${served.completed} of ${served.sent} requests completed, ${served.failed} failed, by status ${JSON.stringify(served.byStatus)}\n`);
  }
  return result.exitCode;
}
