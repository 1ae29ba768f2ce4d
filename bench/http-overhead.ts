/**
 * Compares the throughput of a bare app with the same app running headroom's
 * shedding middleware and routes, for Express, Fastify and plain node:http,
 * and with @fastify/under-pressure, in one run with alternating rounds. It
 * also reports the server's CPU time per request, which other load on the
 * machine disturbs less than throughput does.
 *
 * Run with `npm run build && node dist/bench/http-overhead.js`. Options:
 *   --rounds N       (HEADROOM_BENCH_ROUNDS)       rounds, default 5
 *   --seconds N      (HEADROOM_BENCH_SECONDS)      load per variant per round, default 5
 *   --connections N  (HEADROOM_BENCH_CONNECTIONS)  autocannon connections, default 10
 *   --variants LIST  comma-separated subset of the variants in bench/http-server.ts
 * Every round starts a new child process per variant on 127.0.0.1, warms it
 * up, loads it and stops it. A round is then one independent draw of a server
 * process, which matters because the same server code can settle at speeds
 * 10 to 30 % apart from one process to the next. A child also exits when this script ends (its
 * stdin closes) or after a time limit. Results go to stdout as
 * markdown and progress to stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus, loadavg, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { VARIANTS, type Variant } from './http-server.js';

const SERVER_PATH = fileURLToPath(new URL('./http-server.js', import.meta.url));
const WARM_UP_SECONDS = 2;
const TARGET_RATIO = 0.99;

/** The bare app each variant is compared with. */
const BASELINE: Record<Variant, Variant> = {
  'express-bare': 'express-bare',
  'express-headroom': 'express-bare',
  'fastify-bare': 'fastify-bare',
  'fastify-headroom': 'fastify-bare',
  'fastify-under-pressure': 'fastify-bare',
  'fastify-empty-hook': 'fastify-bare',
  'http-bare': 'http-bare',
  'http-headroom': 'http-bare',
};

interface Run {
  variant: Variant;
  round: number;
  requestsPerSecond: number;
  /** Server CPU time (user + system) per completed request. */
  cpuMicrosPerRequest: number;
  latencyP99Ms: number;
  errors: number;
  non2xx: number;
}

interface Server {
  variant: Variant;
  port: number;
  child: ChildProcess;
  /** Asks the child for its CPU time so far, in microseconds. */
  cpuMicros(): Promise<number>;
}

function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`Invalid ${name}: expected a positive integer, got ${JSON.stringify(text)}`);
  return value;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function progress(message: string): void {
  process.stderr.write(`[http-overhead] ${message}\n`);
}

/** Starts one server child and waits for its port, for at most 15 s. It lives at most `maxSeconds`. */
function startServer(variant: Variant, maxSeconds: number): Promise<Server> {
  // --expose-gc lets every server collect once before listening (see bench/http-server.ts).
  const child = spawn(process.execPath, ['--expose-gc', SERVER_PATH, variant, '--max-seconds', String(maxSeconds)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const waiting: Array<(line: string) => void> = [];
  lines.on('line', (line) => waiting.shift()?.(line));

  const nextLine = (timeoutMs: number, what: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${variant} did not print ${what} within ${timeoutMs} ms`)), timeoutMs);
      waiting.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });

  const cpuMicros = async (): Promise<number> => {
    const reply = nextLine(5000, 'its CPU time');
    child.stdin?.write('cpu\n');
    return (JSON.parse(await reply) as { cpuMicros: number }).cpuMicros;
  };

  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${variant} exited with code ${code} before listening`)));
    nextLine(15_000, 'its port').then(
      (line) => resolve({ variant, port: (JSON.parse(line) as { port: number }).port, child, cpuMicros }),
      (err: Error) => {
        child.kill('SIGKILL');
        reject(err);
      },
    );
  });
}

/** Closes the server's stdin and waits until it has exited, killing it after 10 s. */
function stopServer(server: Server): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.child.kill('SIGKILL'), 10_000);
    server.child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    server.child.stdin?.end();
  });
}

async function load(server: Server, seconds: number, connections: number, round: number): Promise<Run> {
  const cpuBefore = await server.cpuMicros();
  const result = await autocannon({ url: `http://127.0.0.1:${server.port}/`, connections, duration: seconds, timeout: 10 });
  const cpuAfter = await server.cpuMicros();

  return {
    variant: server.variant,
    round,
    requestsPerSecond: result.requests.average,
    cpuMicrosPerRequest: result.requests.total > 0 ? (cpuAfter - cpuBefore) / result.requests.total : Number.NaN,
    latencyP99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

function printMachine(): void {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`- Machine: ${cpus().length} cores (${cpu}), Node ${process.version}, Linux ${release()}, load average ${loadavg().map((value) => value.toFixed(1)).join(' ')} at start.`);
}

/** Returns, per round, `figure` of `variant` over `figure` of its baseline. */
function roundRatios(runs: Run[], variant: Variant, rounds: number, figure: (run: Run) => number): number[] {
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const mine = runs.find((run) => run.variant === variant && run.round === round);
    const bare = runs.find((run) => run.variant === BASELINE[variant] && run.round === round);
    if (mine && bare && figure(bare) > 0) ratios.push(figure(mine) / figure(bare));
  }
  return ratios;
}

function percent(value: number): string {
  return `${(value * 100).toFixed(1)} %`;
}

/**
 * Returns a distribution-free 95 % confidence interval for the median of
 * `values`: the order statistics of ranks k and n + 1 - k, where k is the
 * largest rank with P(X < k) <= 2.5 % for X ~ Binomial(n, 1/2). With 16
 * values that is the 4th and 13th. Null with fewer than 6 values, which
 * admit no such interval.
 */
function medianInterval(values: number[]): [number, number] | null {
  const n = values.length;
  const sorted = [...values].sort((a, b) => a - b);

  let below = 0;
  let coefficient = 1;
  let k = 0;
  for (let rank = 0; rank < n; rank++) {
    below += coefficient / 2 ** n;
    if (below > 0.025) break;
    k = rank + 1;
    coefficient = (coefficient * (n - rank)) / (rank + 1);
  }
  if (k < 1) return null;
  return [sorted[k - 1] as number, sorted[n - k] as number];
}

function formatInterval(interval: [number, number] | null): string {
  return interval === null ? 'too few rounds' : `${percent(interval[0])} to ${percent(interval[1])}`;
}

/**
 * Returns the verdict on a variant's ratios to bare. It is met when the median
 * reaches the target and the interval does not lie wholly below it, and
 * missed when the interval does. A lower bound under 99 % with a met median
 * shows the run's precision, not a miss.
 */
function ratioVerdict(medianRatio: number, interval: [number, number] | null): string {
  if (interval === null) return 'not resolved: too few rounds';
  if (interval[1] < TARGET_RATIO) return 'missed';
  if (medianRatio >= TARGET_RATIO) return 'met';
  return 'not resolved: the median is below 99 %, the interval is not';
}

function printResults(variants: Variant[], runs: Run[], rounds: number): void {
  console.log('');
  // Each column here is a median over the variant's own rounds, while the ratios pair every round with the bare app of that round.
  console.log('| variant | median req/s | req/s to bare, median (min) | server CPU per request | p99 latency | errors, non-2xx |');
  console.log('|---|---:|---:|---:|---:|---:|');

  for (const variant of variants) {
    const own = runs.filter((run) => run.variant === variant);
    const isBare = BASELINE[variant] === variant;
    const throughputRatios = roundRatios(runs, variant, rounds, (run) => run.requestsPerSecond);

    const throughput = isBare || throughputRatios.length === 0 ? '-' : `${percent(median(throughputRatios))} (${percent(Math.min(...throughputRatios))})`;
    const failures = own.reduce((sum, run) => sum + run.errors, 0);
    const non2xx = own.reduce((sum, run) => sum + run.non2xx, 0);
    const cpuPerRequest = median(own.map((run) => run.cpuMicrosPerRequest));
    console.log(
      `| ${variant} | ${Math.round(median(own.map((run) => run.requestsPerSecond)))} | ${throughput} | ${cpuPerRequest.toFixed(1)} µs | ${median(own.map((run) => run.latencyP99Ms)).toFixed(1)} ms | ${failures}, ${non2xx} |`,
    );
  }

  console.log('');
  console.log('Per round, req/s:');
  console.log('');
  console.log(`| variant | ${Array.from({ length: rounds }, (_, round) => `round ${round + 1}`).join(' | ')} |`);
  console.log(`|---|${'---:|'.repeat(rounds)}`);
  for (const variant of variants) {
    const cells = Array.from({ length: rounds }, (_, round) => Math.round(runs.find((run) => run.variant === variant && run.round === round)?.requestsPerSecond ?? 0));
    console.log(`| ${variant} | ${cells.join(' | ')} |`);
  }
  console.log('');
  console.log(`Target: at least ${TARGET_RATIO * 100} % of bare throughput, that is at most ${((1 / TARGET_RATIO - 1) * 100).toFixed(1)} % more server CPU per request.`);
  console.log('Per-round ratios to bare, with a distribution-free 95 % confidence interval of their median (order statistics):');
  console.log('');
  console.log('| variant | req/s to bare, median | 95 % interval | bare CPU to its CPU per request, median | 95 % interval | verdict on req/s |');
  console.log('|---|---:|---:|---:|---:|---|');
  for (const variant of variants) {
    if (BASELINE[variant] === variant) continue;

    const throughputRatios = roundRatios(runs, variant, rounds, (run) => run.requestsPerSecond);
    // Inverted, so that both columns read as "share of bare speed": 99 % means 1 % more CPU per request.
    const cpuSpeedRatios = roundRatios(runs, variant, rounds, (run) => run.cpuMicrosPerRequest).map((ratio) => 1 / ratio);
    const throughputInterval = medianInterval(throughputRatios);
    console.log(
      `| ${variant} | ${percent(median(throughputRatios))} | ${formatInterval(throughputInterval)} | ${percent(median(cpuSpeedRatios))} | ${formatInterval(medianInterval(cpuSpeedRatios))} | ${ratioVerdict(median(throughputRatios), throughputInterval)} |`,
    );
  }
}

async function main(): Promise<void> {
  const args = parseArgs({
    options: { rounds: { type: 'string' }, seconds: { type: 'string' }, connections: { type: 'string' }, variants: { type: 'string' } },
  });
  const rounds = positiveInteger('--rounds', args.values.rounds ?? process.env.HEADROOM_BENCH_ROUNDS ?? '5');
  const seconds = positiveInteger('--seconds', args.values.seconds ?? process.env.HEADROOM_BENCH_SECONDS ?? '5');
  const connections = positiveInteger('--connections', args.values.connections ?? process.env.HEADROOM_BENCH_CONNECTIONS ?? '10');
  const variants = (args.values.variants?.split(',') ?? [...VARIANTS]) as Variant[];
  for (const variant of variants) {
    if (!VARIANTS.includes(variant)) throw new RangeError(`Invalid variant ${JSON.stringify(variant)}: expected some of ${VARIANTS.join(', ')}`);
    if (!variants.includes(BASELINE[variant])) throw new RangeError(`Variant ${variant} needs its baseline ${BASELINE[variant]} in --variants`);
  }

  // Every server is killed by its own timer if this script dies without closing its stdin.
  const maxSeconds = WARM_UP_SECONDS + seconds + 120;
  const runs: Run[] = [];
  let current: Server | null = null;
  try {
    for (let round = 0; round < rounds; round++) {
      // Each round starts one variant later, so no variant always runs first or last.
      const order = variants.map((_, index) => variants[(index + round) % variants.length] as Variant);
      for (const variant of order) {
        current = await startServer(variant, maxSeconds);
        await load(current, WARM_UP_SECONDS, connections, -1);
        const run = await load(current, seconds, connections, round);
        await stopServer(current);
        current = null;
        progress(`round ${round + 1}/${rounds} ${variant}: ${Math.round(run.requestsPerSecond)} req/s, ${run.cpuMicrosPerRequest.toFixed(1)} µs CPU per request`);
        runs.push(run);
      }
    }

    const variantsOption = args.values.variants === undefined ? '' : ` --variants ${variants.join(',')}`;
    console.log(`- Command: \`node dist/bench/http-overhead.js --rounds ${rounds} --seconds ${seconds} --connections ${connections}${variantsOption}\``);
    printMachine();
    printResults(variants, runs, rounds);
  } finally {
    if (current) await stopServer(current);
  }
}

await main();
