/**
 * The survival benchmark behind docs/qdt.md: the leaky Express service of
 * bench/qdt-survival-server.ts, in each variant, under a bounded autocannon
 * load on 127.0.0.1, with a 128 MiB old space. It reports when (and how) the
 * service died, the share of the offered requests it served with 2xx, the
 * share it shed with 503, and the p99 latency of the responses.
 *
 * Run with `npm run build && node dist/bench/qdt-survival.js`. Options:
 *   --seconds N      load per variant, default 180
 *   --rate N         requests per second offered, default 200
 *   --connections N  autocannon connections, default 10
 *   --variants LIST  comma-separated subset of unguarded, shedding, headroom
 * Each child is killed with SIGKILL when its RSS passes 1 GiB or 15 s after
 * the load ends. Results go to stdout as markdown and progress to stderr.
 */
import { spawn } from 'node:child_process';
import { cpus, release } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { RssWatchdog } from '../src/cli/rss-watchdog.js';
import { SURVIVAL_VARIANTS, type SurvivalVariant } from './qdt-survival-server.js';

const SERVER_PATH = fileURLToPath(new URL('./qdt-survival-server.js', import.meta.url));
const RSS_LIMIT_BYTES = 1024 * 2 ** 20;
const MAX_OLD_SPACE_MIB = 128;

interface SurvivalResult {
  variant: SurvivalVariant;
  /** Seconds from the start of the load to the child's death, or null when it lived to the end. */
  crashedAfterSeconds: number | null;
  ending: string;
  offered: number;
  served: number;
  shed: number;
  errors: number;
  latencyP99Ms: number;
  peakRssBytes: number;
}

function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`Invalid --${name}: expected a positive integer, got ${JSON.stringify(text)}`);
  return value;
}

function progress(message: string): void {
  process.stderr.write(`[qdt-survival] ${message}\n`);
}

async function runVariant(variant: SurvivalVariant, seconds: number, rate: number, connections: number): Promise<SurvivalResult> {
  const child = spawn(process.execPath, [`--max-old-space-size=${MAX_OLD_SPACE_MIB}`, SERVER_PATH, variant, '--max-seconds', String(seconds + 30)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    // Only the tail matters, because V8's fatal message is at the end.
    stderr = (stderr + chunk.toString()).slice(-4000);
  });

  let peakRssBytes = 0;
  let killedForRss = false;
  const watchdog = new RssWatchdog(child.pid ?? 0, RSS_LIMIT_BYTES, 250, (rss) => (peakRssBytes = Math.max(peakRssBytes, rss)), () => {
    killedForRss = true;
    child.kill('SIGKILL');
  });
  const hardStop = setTimeout(() => child.kill('SIGKILL'), (seconds + 45) * 1000);

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, atMs: performance.now() }));
  });
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once('line', (line) => resolve(Number(line.split(' ')[1])));
    child.once('exit', () => reject(new Error(`The ${variant} server exited before it listened: ${stderr.slice(-500)}`)));
  });

  progress(`${variant}: load ${rate} req/s for ${seconds} s on port ${port}`);
  const loadStartMs = performance.now();
  const result = await autocannon({ url: `http://127.0.0.1:${port}/`, connections, overallRate: rate, duration: seconds, timeout: 10 });
  const aliveAtEnd = child.exitCode === null && child.signalCode === null;

  child.stdin?.end();
  const exit = await exited;
  clearTimeout(hardStop);
  watchdog.stop();

  const crashedAfterSeconds = aliveAtEnd ? null : (exit.atMs - loadStartMs) / 1000;
  let ending = 'survived';
  if (!aliveAtEnd) {
    if (killedForRss) ending = 'killed at 1 GiB RSS';
    else if (/heap out of memory|Ineffective mark-compacts/.test(stderr)) ending = 'heap out of memory';
    else ending = `exited (code ${exit.code}, signal ${exit.signal})`;
  }

  const shed = result.statusCodeStats['503']?.count ?? 0;
  return {
    variant,
    crashedAfterSeconds,
    ending,
    offered: rate * seconds,
    served: result['2xx'],
    shed,
    errors: result.errors + result.timeouts,
    latencyP99Ms: result.latency.p99,
    peakRssBytes,
  };
}

function percent(part: number, whole: number): string {
  return `${((100 * part) / whole).toFixed(1)} %`;
}

function printMarkdown(results: SurvivalResult[], seconds: number, rate: number, connections: number): void {
  const lines = [
    `Node ${process.version}, ${cpus().length} cores, Linux ${release()}; old space ${MAX_OLD_SPACE_MIB} MiB; ${rate} req/s offered over ${connections} connections for ${seconds} s.`,
    '',
    '| variant | ended | time to crash | served (2xx) | shed (503) | errors | p99 latency | peak RSS |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const result of results) {
    lines.push(
      `| ${result.variant} | ${result.ending} | ${result.crashedAfterSeconds === null ? '-' : `${result.crashedAfterSeconds.toFixed(1)} s`} | ` +
        `${result.served} (${percent(result.served, result.offered)}) | ${result.shed} (${percent(result.shed, result.offered)}) | ${result.errors} | ` +
        `${result.latencyP99Ms} ms | ${(result.peakRssBytes / 2 ** 20).toFixed(0)} MiB |`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '180' },
      rate: { type: 'string', default: '200' },
      connections: { type: 'string', default: '10' },
      variants: { type: 'string', default: SURVIVAL_VARIANTS.join(',') },
    },
  });
  const seconds = positiveInteger('seconds', values.seconds);
  const rate = positiveInteger('rate', values.rate);
  const connections = positiveInteger('connections', values.connections);
  const variants = values.variants.split(',') as SurvivalVariant[];
  for (const variant of variants) {
    if (!SURVIVAL_VARIANTS.includes(variant)) throw new RangeError(`Invalid --variants: unknown variant ${JSON.stringify(variant)} (known: ${SURVIVAL_VARIANTS.join(', ')})`);
  }

  const results: SurvivalResult[] = [];
  for (const variant of variants) {
    const result = await runVariant(variant, seconds, rate, connections);
    progress(`${variant}: ${result.ending}, served ${result.served} of ${result.offered}`);
    results.push(result);
  }
  printMarkdown(results, seconds, rate, connections);
}

await main();
