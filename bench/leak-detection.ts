/**
 * Measures headroom's leak detection on real programs: leaking and
 * non-leaking fixtures from test/fixtures, each under `headroom run` with the
 * default detector, until they die or end by themselves. For each program it
 * reports the time from start to the first leak event and the leak events of
 * programs that do not leak (false alarms). It also compares `timeToLimitMs`
 * at detection with the time until the forecast's budget was reached, and with
 * the time until the program died.
 *
 * Run with `npm run build && node dist/bench/leak-detection.js`. Options, as
 * arguments or as environment variables:
 *   --cases a,b       (HEADROOM_BENCH_CASES)        programs to run, default all (see CASES)
 *   --runs N          (HEADROOM_BENCH_RUNS)         runs of each program, default 1
 *   --concurrency N   (HEADROOM_BENCH_CONCURRENCY)  programs run at once, default 2
 *   --events-dir DIR  (HEADROOM_BENCH_EVENTS_DIR)   keep each run's events file there, default none
 * With the defaults the whole set takes about 6 minutes on 2 cores. Results go
 * to stdout as markdown and progress goes to stderr. Every program has a heap
 * cap, runs under `--limit` (which kills it when its RSS passes the limit),
 * and ends by itself; one that overruns is killed with its process group.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const MIB = 2 ** 20;
const CLI_PATH = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));

const TARGET_DETECTION_MS = 30_000;
const TARGET_FORECAST_ERROR = 0.25;
/** Slowest leak the detection target applies to, in bytes per second. */
const TARGET_MIN_RATE_BYTES_PER_SECOND = 0.5 * MIB;
/** Time a program gets past its own end before the bench kills its process group. */
const OVERRUN_GRACE_MS = 30_000;
/** Size of each cache entry in leak-map-cache.mjs, so that a rate sets its requests per second. */
const ENTRY_BYTES = 10 * 1024;

interface BenchCase {
  name: string;
  description: string;
  /** False for the programs whose leak events count as false alarms. */
  leaking: boolean;
  /** The heap leak rate the program is built to have, in bytes per second, or null when it has none. */
  builtInBytesPerSecond: number | null;
  fixture: string;
  nodeFlags: string[];
  /** `--limit`: the process limit, and the RSS at which headroom kills the program. */
  limit: string;
  env: Record<string, string>;
  /** The program ends by itself within this long, unless it dies first. */
  runMs: number;
}

/** Returns the case of a heap leak of `mibPerSecond` in an unbounded Map, under a 128 MiB old space, run until it dies. */
function mapCacheLeak(mibPerSecond: number, runMs: number): BenchCase {
  const requestsPerSecond = (mibPerSecond * MIB) / ENTRY_BYTES;
  return {
    name: `leak-${mibPerSecond}`,
    description: `Map cache leak, ${mibPerSecond} MiB/s (${requestsPerSecond.toFixed(1)} requests/s × 10 KiB), 128 MiB old space`,
    leaking: true,
    builtInBytesPerSecond: mibPerSecond * MIB,
    fixture: 'leak-map-cache.mjs',
    nodeFlags: ['--max-old-space-size=128'],
    limit: '1GiB',
    env: { REQUESTS_PER_SECOND: String(requestsPerSecond), ENTRY_BYTES: String(ENTRY_BYTES), RUN_MS: String(runMs) },
    runMs,
  };
}

/** The programs, longest first. */
const CASES: readonly BenchCase[] = [
  mapCacheLeak(0.5, 300_000),
  mapCacheLeak(1, 180_000),
  mapCacheLeak(2, 120_000),
  mapCacheLeak(5, 90_000),
  {
    name: 'native-leak',
    description: 'zlib: 2000 deflate() calls/s, 30 streams/s left open (RSS rose about 11 MiB/s in trials), until killed at the 1 GiB limit',
    leaking: true,
    builtInBytesPerSecond: null,
    fixture: 'native-deflate.mjs',
    nodeFlags: ['--max-old-space-size=128'],
    limit: '1GiB',
    env: { CALLS_PER_SECOND: '2000', MAX_IN_FLIGHT: '200', LEFT_OPEN_PER_SECOND: '30', ISSUE_MS: '150000', RUN_MS: '150000' },
    runMs: 150_000,
  },
  {
    name: 'flat',
    description: 'Bounded Map cache: 200 requests/s × 10 KiB, 500 entries kept, 128 MiB old space',
    leaking: false,
    builtInBytesPerSecond: null,
    fixture: 'leak-map-cache.mjs',
    nodeFlags: ['--max-old-space-size=128'],
    limit: '1GiB',
    env: { REQUESTS_PER_SECOND: '200', CACHE_MAX_ENTRIES: '500', RUN_MS: '60000' },
    runMs: 60_000,
  },
  {
    name: 'sawtooth',
    description: '60 MiB filled over 10 s, then the heap sawed between 20 and 80 MiB for 50 s',
    leaking: false,
    builtInBytesPerSecond: null,
    fixture: 'warmup-sawtooth.mjs',
    nodeFlags: ['--max-old-space-size=256'],
    limit: '1GiB',
    env: { WARMUP_MS: '10000', WARMUP_MB: '60', KEEP_MB: '20', CHURN_MB: '60', SAWTOOTH_MS: '50000', LEAK_BYTES_PER_SECOND: '0' },
    runMs: 60_000,
  },
  {
    name: 'native-churn',
    description: 'zlib: 2000 deflate() calls/s with at most 200 in flight, nothing left open, for 60 s',
    leaking: false,
    builtInBytesPerSecond: null,
    fixture: 'native-deflate.mjs',
    nodeFlags: ['--max-old-space-size=128'],
    limit: '1GiB',
    env: { CALLS_PER_SECOND: '2000', MAX_IN_FLIGHT: '200', LEFT_OPEN_PER_SECOND: '0', ISSUE_MS: '60000', RUN_MS: '60000' },
    runMs: 60_000,
  },
];

type Event = Record<string, unknown>;

/** Outcome of one run of one program. Times are milliseconds since `headroom run` was spawned. */
interface RunResult {
  benchCase: BenchCase;
  run: number;
  /** Epoch milliseconds just before `headroom run` was spawned. */
  startedAtMs: number;
  leakEvents: Event[];
  firstLeak: { event: Event; atMs: number } | null;
  /** When the budget named by the first leak's forecast was first reached, or null if it never was. */
  budgetReachedAtMs: number | null;
  endedAtMs: number;
  /** The exit event's reason: `heap-out-of-memory`, `killed-at-limit`, `exited`, ... */
  ending: string;
  died: boolean;
  peakRssBytes: number;
}

const DIED = new Set(['heap-out-of-memory', 'killed-at-limit', 'killed']);

function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`Invalid ${name}: expected a positive integer, got ${JSON.stringify(text)}`);
  return value;
}

function selectCases(text: string | undefined): BenchCase[] {
  if (text === undefined || text === '') return [...CASES];

  return text.split(',').map((name) => {
    const found = CASES.find((benchCase) => benchCase.name === name.trim());
    if (!found) throw new RangeError(`Invalid --cases entry ${JSON.stringify(name)}: expected some of ${CASES.map((benchCase) => benchCase.name).join(', ')}`);
    return found;
  });
}

function progress(message: string): void {
  process.stderr.write(`[leak-detection] ${message}\n`);
}

/** Runs one program under `headroom run` to its end and reads its events file. */
async function runCase(benchCase: BenchCase, run: number, workDir: string): Promise<RunResult> {
  const eventsFile = join(workDir, `${benchCase.name}-${run}.ndjson`);
  const args = [CLI_PATH, 'run', '--limit', benchCase.limit, '--events', eventsFile, '--dashboard', 'off', '--', process.execPath, ...benchCase.nodeFlags, join(FIXTURES, benchCase.fixture)];

  const startedAtMs = Date.now();
  // A process group of its own, so an overrun kills the program under headroom too.
  const child = spawn(process.execPath, args, { env: { ...process.env, ...benchCase.env }, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderrTail = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-4000);
  });

  const overrun = setTimeout(() => {
    progress(`${benchCase.name} run ${run} overran ${benchCase.runMs + OVERRUN_GRACE_MS} ms: killing its process group`);
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  }, benchCase.runMs + OVERRUN_GRACE_MS);

  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => resolve());
  });
  clearTimeout(overrun);

  let events: Event[];
  try {
    events = readFileSync(eventsFile, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Event);
  } catch (err) {
    throw new Error(`${benchCase.name} run ${run} left no readable events file ${eventsFile}; its stderr ended with: ${stderrTail}`, { cause: err });
  }

  return summarizeRun(benchCase, run, events, startedAtMs);
}

function summarizeRun(benchCase: BenchCase, run: number, events: Event[], startedAtMs: number): RunResult {
  const exit = events.findLast((event) => event.type === 'exit');
  const ending = typeof exit?.reason === 'string' ? exit.reason : 'no exit event';
  const endedAtMs = ((exit?.time as number | undefined) ?? Date.now()) - startedAtMs;
  const samples = events.filter((event) => event.type === 'sample');

  const leakEvents = events.filter((event) => event.type === 'leak');
  const first = leakEvents[0];
  const firstLeak = first ? { event: first, atMs: (first.time as number) - startedAtMs } : null;

  return {
    benchCase,
    run,
    startedAtMs,
    leakEvents,
    firstLeak,
    budgetReachedAtMs: firstLeak ? budgetReachedAtMs(events, samples, firstLeak.event, startedAtMs) : null,
    endedAtMs,
    ending,
    died: DIED.has(ending),
    peakRssBytes: Math.max(0, ...samples.map((sample) => sample.rssBytes as number)),
  };
}

/**
 * Returns when the budget the leak's forecast names was first reached: the
 * live set at the heap budget, or RSS at the process limit (from a sample, or
 * from headroom's own limit-exceeded event between samples).
 */
function budgetReachedAtMs(events: Event[], samples: Event[], leak: Event, startedAtMs: number): number | null {
  if (leak.budget === 'heap') {
    const reached = samples.find((sample) => (sample.liveBytes as number) >= (sample.heapBudgetBytes as number));
    return reached ? (reached.time as number) - startedAtMs : null;
  }

  if (leak.budget === 'process') {
    const reached = events.find(
      (event) => event.type === 'limit-exceeded' || (event.type === 'sample' && event.limitBytes !== null && (event.rssBytes as number) >= (event.limitBytes as number)),
    );
    return reached ? (reached.time as number) - startedAtMs : null;
  }

  return null;
}

/** Runs every (case, run) pair, at most `concurrency` at once, longest programs first. */
async function runAll(cases: BenchCase[], runs: number, concurrency: number, workDir: string): Promise<RunResult[]> {
  const queue = cases.flatMap((benchCase) => Array.from({ length: runs }, (_, run) => ({ benchCase, run: run + 1 })));
  queue.sort((a, b) => b.benchCase.runMs - a.benchCase.runMs);
  const results: RunResult[] = [];

  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      progress(`starting ${next.benchCase.name} run ${next.run} (ends by itself within ${next.benchCase.runMs / 1000} s)`);
      const result = await runCase(next.benchCase, next.run, workDir);
      progress(`${next.benchCase.name} run ${next.run}: ${describeFirstLeak(result)}, ended after ${seconds(result.endedAtMs)} (${result.ending})`);
      results.push(result);
    }
  };

  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  return results.sort((a, b) => CASES.indexOf(a.benchCase) - CASES.indexOf(b.benchCase) || a.run - b.run);
}

function seconds(ms: number | null): string {
  return ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`;
}

function mibPerSecond(bytesPerSecond: number): string {
  return `${(bytesPerSecond / MIB).toFixed(2)} MiB/s`;
}

function describeFirstLeak(result: RunResult): string {
  if (!result.firstLeak) return 'no leak event';

  const event = result.firstLeak.event;
  const kind = event.kind === 'resources' ? `resources ${String(event.resourceType)}` : String(event.kind);
  return `${kind} after ${seconds(result.firstLeak.atMs)}`;
}

/**
 * Returns the relative error of the forecast at detection against the time
 * that was left until `truthAtMs`. A forecast of 0 for a budget reached before
 * detection is exact, and returns 0. Null when there is no forecast or truth.
 */
function forecastError(result: RunResult, truthAtMs: number | null): number | null {
  const forecastMs = result.firstLeak?.event.timeToLimitMs;
  if (!result.firstLeak || typeof forecastMs !== 'number' || truthAtMs === null) return null;

  const remainingMs = truthAtMs - result.firstLeak.atMs;
  if (remainingMs <= 0) return forecastMs === 0 ? 0 : null;
  return (forecastMs - remainingMs) / remainingMs;
}

function percent(ratio: number | null): string {
  return ratio === null ? '—' : `${ratio >= 0 ? '+' : ''}${(ratio * 100).toFixed(0)} %`;
}

/** Formats the error against the budget, saying so when the budget was reached before the leak was reported. */
function budgetErrorCell(result: RunResult): string {
  const error = percent(forecastError(result, result.budgetReachedAtMs));
  const reachedFirst = result.firstLeak !== null && result.budgetReachedAtMs !== null && result.budgetReachedAtMs <= result.firstLeak.atMs;
  return reachedFirst ? `${error} (reached before detection)` : error;
}

function printMachine(cases: BenchCase[], runs: number, concurrency: number): void {
  console.log(`Machine: ${availableParallelism()} cores, Node ${process.version}, Linux ${release()}, load average ${loadavg()[0]?.toFixed(1)} at start.`);
  console.log(`Runs: ${runs} of each program, ${concurrency} at a time, default detector options, one sample per second.`);
  console.log('');
  console.log('| program | what it does |');
  console.log('|---|---|');
  for (const benchCase of cases) console.log(`| ${benchCase.name} | ${benchCase.description} |`);
  console.log('');
}

function printRuns(results: RunResult[]): void {
  console.log('| program | run | leak events | first leak event | rate at detection (built in) | timeToLimitMs at detection | budget reached | ended | error vs budget | error vs end |');
  console.log('|---|---:|---:|---|---|---:|---:|---|---:|---:|');
  for (const result of results) {
    const first = result.firstLeak?.event;
    const rate = typeof first?.rateBytesPerSecond === 'number' ? mibPerSecond(first.rateBytesPerSecond) : '—';
    const builtIn = result.benchCase.builtInBytesPerSecond === null ? '' : ` (${mibPerSecond(result.benchCase.builtInBytesPerSecond)})`;
    const forecast = typeof first?.timeToLimitMs === 'number' ? `${seconds(first.timeToLimitMs)} (${String(first.budget)})` : '—';
    const endTruth = result.died ? result.endedAtMs : null;
    const cells = [
      result.benchCase.name,
      String(result.run),
      String(result.leakEvents.length),
      describeFirstLeak(result),
      `${rate}${builtIn}`,
      forecast,
      seconds(result.budgetReachedAtMs),
      `${seconds(result.endedAtMs)}, ${result.ending}`,
      budgetErrorCell(result),
      percent(forecastError(result, endTruth)),
    ];
    console.log(`| ${cells.join(' | ')} |`);
  }
  console.log('');
  console.log('Times are from the spawn of `headroom run`. "Error vs end" compares `timeToLimitMs` at detection with the time left until the program died: the target. "Error vs budget" compares it with the time left until the budget it names was reached: the live set at the heap budget (80 % of the old space, where V8 can start to give up), or RSS at `--limit`. The heap forecast aims at 90 % of the old space, the middle of where V8 was seen to give up, so it reads later than the heap budget.');
  console.log('');
}

function printVerdicts(results: RunResult[]): void {
  const quiet = results.filter((result) => !result.benchCase.leaking);
  const falseAlarms = quiet.reduce((sum, result) => sum + result.leakEvents.length, 0);
  console.log(`- No false alarm: ${falseAlarms} leak events in ${quiet.length} runs of programs that do not leak. ${quiet.length === 0 ? 'Not measured.' : falseAlarms === 0 ? 'Met.' : 'Missed.'}`);

  const heapLeaks = results.filter((result) => (result.benchCase.builtInBytesPerSecond ?? 0) >= TARGET_MIN_RATE_BYTES_PER_SECOND);
  const late = heapLeaks.filter((result) => {
    const heap = result.leakEvents.find((event) => event.kind === 'heap');
    if (!heap) return true;
    const atMs = (heap.time as number) - result.startedAtMs;
    return atMs > TARGET_DETECTION_MS || (result.died && atMs >= result.endedAtMs);
  });
  let heapVerdict = 'Met.';
  if (heapLeaks.length === 0) heapVerdict = 'Not measured.';
  else if (late.length > 0) heapVerdict = `Missed in ${late.map((result) => `${result.benchCase.name} run ${result.run}`).join(', ')}.`;
  console.log(`- Heap leak of ${TARGET_MIN_RATE_BYTES_PER_SECOND / MIB} MiB/s or faster in a 128 MiB old space reported within ${TARGET_DETECTION_MS / 1000} s of start, and before it died: ${heapLeaks.length - late.length} of ${heapLeaks.length} runs. ${heapVerdict}`);

  const leaking = results.filter((result) => result.benchCase.leaking);
  for (const [label, truth] of [
    ['the program died (the target)', (result: RunResult) => (result.died ? result.endedAtMs : null)],
    ['the budget was reached (for reference: the heap forecast aims past the heap budget)', (result: RunResult) => result.budgetReachedAtMs],
  ] as const) {
    const errors = leaking.map((result) => ({ result, error: forecastError(result, truth(result)) }));
    const measured = errors.filter(({ error }) => error !== null);
    const within = measured.filter(({ error }) => Math.abs(error as number) < TARGET_FORECAST_ERROR);
    let verdict = within.length === measured.length ? 'Met.' : 'Missed.';
    if (measured.length === 0) verdict = 'Not measured.';
    const list = measured.map(({ result, error }) => `${result.benchCase.name} ${percent(error)}`).join(', ');
    console.log(`- Forecast at detection within ${TARGET_FORECAST_ERROR * 100} % of the time until ${label}: ${within.length} of ${measured.length} runs (${list || 'none'}). ${verdict}`);
  }
}

async function main(): Promise<void> {
  const args = parseArgs({ options: { cases: { type: 'string' }, runs: { type: 'string' }, concurrency: { type: 'string' }, 'events-dir': { type: 'string' } } });
  const cases = selectCases(args.values.cases ?? process.env.HEADROOM_BENCH_CASES);
  const runs = positiveInteger('--runs', args.values.runs ?? process.env.HEADROOM_BENCH_RUNS ?? '1');
  const concurrency = positiveInteger('--concurrency', args.values.concurrency ?? process.env.HEADROOM_BENCH_CONCURRENCY ?? '2');

  const keptDir = args.values['events-dir'] ?? process.env.HEADROOM_BENCH_EVENTS_DIR;
  if (keptDir !== undefined) mkdirSync(keptDir, { recursive: true });
  const workDir = keptDir ?? mkdtempSync(join(tmpdir(), 'headroom-leak-bench-'));
  try {
    printMachine(cases, runs, concurrency);
    const results = await runAll(cases, runs, concurrency, workDir);
    printRuns(results);
    printVerdicts(results);
  } finally {
    if (keptDir === undefined) rmSync(workDir, { recursive: true, force: true });
  }
}

await main();
