/**
 * Measures what headroom's sampler costs: the time of one `sampleNow()` and of
 * each probe read, and the CPU share of a manager left running in an idle process.
 *
 * Run with `npm run build && npm run bench:sampler`. Options, as arguments
 * after `--` or as environment variables:
 *   --seconds N  (HEADROOM_BENCH_SECONDS)  length of each CPU-share run, default 20
 *   --rounds N   (HEADROOM_BENCH_ROUNDS)   CPU-share rounds, default 4
 * Results go to stdout as markdown; progress goes to stderr.
 */
import { execFile } from 'node:child_process';
import { availableParallelism, cpus, release } from 'node:os';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { createMemoryManager, effectiveLimit, formatBytes, type MemoryManager } from '../src/index.js';
import { resolveOptions } from '../src/manager/options.js';
import { NodeProbe } from '../src/sampling/node-probe.js';
import { silentLogger } from '../src/util/logger.js';

const TARGET_SAMPLE_MICROS = 20;
const TARGET_CPU_PERCENT = 0.1;

/** Calls made before timing starts, so V8 has compiled and optimised the timed path. */
const WARM_UP_CALLS = 5_000;
const BATCH_CALLS = 100;
const BATCH_COUNT = 500;

/** Spaced calls run one per event-loop turn, with caches as cold as a 1 s timer leaves them. */
const SPACED_CALLS = 300;
const SPACED_GAP_MS = 10;

/** Time a child waits after start-up before its CPU window opens, so module loading and the first samples stay out. */
const SETTLE_MS = 2_000;
/** Extra time a child gets past its own schedule before the parent kills it. */
const CHILD_GRACE_MS = 15_000;

const DEFAULTS = resolveOptions({ logger: silentLogger });

interface Distribution {
  medianMicros: number;
  p99Micros: number;
}

interface ReadCost extends Distribution {
  name: string;
  /** How many times the manager makes this read per sample at the default settings. */
  callsPerSample: number;
  schedule: string;
}

/** A child process configuration for the CPU-share runs; `intervalMs` null means no manager. */
interface ChildConfig {
  label: string;
  intervalMs: number | null;
}

interface ChildResult {
  cpuMicros: number;
  wallMicros: number;
  samples: number;
}

const CHILD_CONFIGS: ChildConfig[] = [
  { label: 'idle process, no headroom', intervalMs: null },
  { label: 'manager, 1 h interval (no samples)', intervalMs: 3_600_000 },
  { label: `manager, ${DEFAULTS.intervalMs} ms interval (default)`, intervalMs: DEFAULTS.intervalMs },
  { label: 'manager, 100 ms interval', intervalMs: 100 },
];

const args = parseArgs({
  options: {
    child: { type: 'string' },
    'window-ms': { type: 'string' },
    seconds: { type: 'string' },
    rounds: { type: 'string' },
  },
});

if (args.values.child !== undefined) {
  await runChild(args.values.child, positiveNumber('--window-ms', args.values['window-ms']));
} else {
  await runParent();
}

async function runParent(): Promise<void> {
  const seconds = positiveNumber('--seconds', args.values.seconds ?? process.env.HEADROOM_BENCH_SECONDS ?? '20');
  const rounds = Math.round(positiveNumber('--rounds', args.values.rounds ?? process.env.HEADROOM_BENCH_ROUNDS ?? '4'));
  if (BATCH_CALLS % DEFAULTS.arrayBuffersEverySamples !== 0) {
    throw new RangeError(`BATCH_CALLS (${BATCH_CALLS}) must be a multiple of arrayBuffersEverySamples (${DEFAULTS.arrayBuffersEverySamples}) so every batch makes the same reads`);
  }

  printMachine();

  const batched = await measureSampleNowBatched();
  const spaced = await measureSampleNowSpaced();
  const reads = await measureProbeReads();
  printSampleCost(batched, spaced, reads);

  const runs = await measureCpuShare(seconds * 1000, rounds);
  const shares = printCpuShare(runs, seconds, rounds);

  printVerdicts(batched, reads, shares);
}

// ---------------------------------------------------------------------------
// (a) Cost of one sample

async function measureSampleNowBatched(): Promise<Distribution> {
  progress('timing manager.sampleNow() in batches');
  const manager = createMemoryManager({ intervalMs: '1h', logger: silentLogger }).start();
  try {
    return await timeBatches(() => manager.sampleNow());
  } finally {
    manager.stop();
  }
}

/** Times single `sampleNow()` calls, each after a timer, as a running manager makes them. */
async function measureSampleNowSpaced(): Promise<Distribution> {
  progress(`timing manager.sampleNow() once per ${SPACED_GAP_MS} ms timer`);
  const manager = createMemoryManager({ intervalMs: '1h', logger: silentLogger }).start();
  try {
    for (let i = 0; i < WARM_UP_CALLS; i++) manager.sampleNow();
    collectGarbage();

    const micros: number[] = [];
    for (let i = 0; i < SPACED_CALLS; i++) {
      await sleep(SPACED_GAP_MS);

      const start = process.hrtime.bigint();
      manager.sampleNow();
      micros.push(Number(process.hrtime.bigint() - start) / 1000);
    }
    return distribution(micros);
  } finally {
    manager.stop();
  }
}

async function measureProbeReads(): Promise<ReadCost[]> {
  const probe = new NodeProbe({ eventLoopResolutionMs: DEFAULTS.eventLoopResolutionMs });
  probe.start();

  const every = DEFAULTS.arrayBuffersEverySamples;
  const refreshSeconds = DEFAULTS.limitRefreshMs / 1000;
  const reads: Array<Omit<ReadCost, keyof Distribution> & { read: () => unknown }> = [
    { name: 'heap()', read: () => probe.heap(), callsPerSample: 1, schedule: 'every sample' },
    { name: 'heapSpaces()', read: () => probe.heapSpaces(), callsPerSample: 1, schedule: 'every sample' },
    { name: 'rssBytes()', read: () => probe.rssBytes(), callsPerSample: 1, schedule: 'every sample' },
    { name: 'arrayBuffersBytes()', read: () => probe.arrayBuffersBytes(), callsPerSample: 1 / every, schedule: `every ${every} samples` },
    { name: 'gcSinceLast()', read: () => probe.gcSinceLast(), callsPerSample: 1, schedule: 'every sample' },
    { name: 'eventLoopSinceLast()', read: () => probe.eventLoopSinceLast(), callsPerSample: 1, schedule: 'every sample' },
    {
      name: 'limits()',
      read: () => probe.limits(),
      callsPerSample: DEFAULTS.intervalMs / DEFAULTS.limitRefreshMs,
      schedule: `every ${refreshSeconds} s (at start and on refresh)`,
    },
  ];

  const costs: ReadCost[] = [];
  try {
    for (const { read, ...entry } of reads) {
      progress(`timing NodeProbe.${entry.name}`);
      costs.push({ ...entry, ...(await timeBatches(read)) });
    }
  } finally {
    probe.stop();
  }
  return costs;
}

/**
 * Times `fn` in batches of BATCH_CALLS after a warm-up and returns the median
 * and p99 over batches, in µs per call. The loop yields between batches, so
 * queued `gc` entries reach the observer outside the timed code.
 */
async function timeBatches(fn: () => unknown): Promise<Distribution> {
  for (let i = 0; i < WARM_UP_CALLS; i++) fn();
  collectGarbage();

  const perCallMicros: number[] = [];
  for (let batch = 0; batch < BATCH_COUNT; batch++) {
    await nextTurn();

    const start = process.hrtime.bigint();
    for (let i = 0; i < BATCH_CALLS; i++) fn();
    perCallMicros.push(Number(process.hrtime.bigint() - start) / 1000 / BATCH_CALLS);
  }
  return distribution(perCallMicros);
}

// ---------------------------------------------------------------------------
// (b) CPU share of a running manager

/** Runs every child configuration once per round, in a rotated order so none always runs first. */
async function measureCpuShare(windowMs: number, rounds: number): Promise<ChildResult[][]> {
  const runs: ChildResult[][] = CHILD_CONFIGS.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (let step = 0; step < CHILD_CONFIGS.length; step++) {
      const index = (round + step) % CHILD_CONFIGS.length;
      const config = CHILD_CONFIGS[index]!;
      progress(`round ${round + 1}/${rounds}: ${config.label} for ${windowMs / 1000} s`);
      runs[index]!.push(await runChildProcess(config, windowMs));
    }
  }
  return runs;
}

async function runChildProcess(config: ChildConfig, windowMs: number): Promise<ChildResult> {
  const mode = config.intervalMs === null ? 'idle' : String(config.intervalMs);
  const script = fileURLToPath(import.meta.url);
  const { stdout } = await promisify(execFile)(process.execPath, [script, '--child', mode, '--window-ms', String(windowMs)], {
    timeout: SETTLE_MS + windowMs + CHILD_GRACE_MS,
    killSignal: 'SIGKILL',
  });

  const lastLine = stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(lastLine) as ChildResult;
  } catch (err) {
    throw new Error(`Child run "${config.label}" printed no result line; stdout was ${JSON.stringify(stdout)}`, { cause: err });
  }
}

/**
 * Child side: `mode` is "idle" (no headroom) or an interval in milliseconds for
 * a manager. Both kinds load the same modules and keep the same timers of
 * their own, so the only difference between them is the manager.
 */
async function runChild(mode: string, windowMs: number): Promise<void> {
  let manager: MemoryManager | null = null;
  if (mode !== 'idle') {
    manager = createMemoryManager({ intervalMs: positiveNumber('--child', mode), logger: silentLogger }).start();
  }

  await sleep(SETTLE_MS);
  const samplesBefore = manager?.stats.samples ?? 0;
  const cpuBefore = process.cpuUsage();
  const wallBefore = process.hrtime.bigint();

  await sleep(windowMs);
  const cpu = process.cpuUsage(cpuBefore);
  const wallMicros = Number(process.hrtime.bigint() - wallBefore) / 1000;
  const samples = (manager?.stats.samples ?? 0) - samplesBefore;
  manager?.stop();

  const result: ChildResult = { cpuMicros: cpu.user + cpu.system, wallMicros, samples };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

// ---------------------------------------------------------------------------
// Output

function printMachine(): void {
  const probe = new NodeProbe({ eventLoopResolutionMs: DEFAULTS.eventLoopResolutionMs });
  probe.start();
  const limit = effectiveLimit({ ...probe.limits(), configuredBytes: null });
  probe.stop();

  const limitText = limit.limitBytes === null ? 'none' : `${formatBytes(limit.limitBytes)} (${limit.source})`;
  print('# headroom sampler cost\n');
  print(`- Date: ${new Date().toISOString()}`);
  print(`- Node: ${process.version}, flags: ${process.execArgv.join(' ') || 'none'}`);
  print(`- CPU: ${availableParallelism()} cores, ${cpus()[0]?.model ?? 'unknown model'}`);
  print(`- OS: ${process.platform} ${release()}, process memory limit: ${limitText}`);
  print('');
}

function printSampleCost(batched: Distribution, spaced: Distribution, reads: ReadCost[]): void {
  print('## Cost of one sample\n');
  print(`\`manager.sampleNow()\` with the real probe; batches of ${BATCH_CALLS} calls × ${BATCH_COUNT}, after ${WARM_UP_CALLS} warm-up calls.\n`);
  print(table(
    ['Measure', 'Median µs/sample', 'p99 µs/sample'],
    [
      ['`sampleNow()`, back to back (batches)', micros(batched.medianMicros), micros(batched.p99Micros)],
      [`\`sampleNow()\`, one call per ${SPACED_GAP_MS} ms timer (${SPACED_CALLS} calls)`, micros(spaced.medianMicros), micros(spaced.p99Micros)],
    ],
  ));

  print('\n### Probe reads (`NodeProbe`, same batches)\n');
  const rows = reads.map((read) => [
    `\`${read.name}\``,
    micros(read.medianMicros),
    micros(read.p99Micros),
    read.schedule,
    micros(read.medianMicros * read.callsPerSample),
  ]);
  const readsPerSample = reads.reduce((sum, read) => sum + read.medianMicros * read.callsPerSample, 0);
  rows.push(['**all reads, per sample**', '', '', `at a ${DEFAULTS.intervalMs} ms interval`, micros(readsPerSample)]);
  rows.push(['manager work besides reads', '', '', '`sampleNow()` median minus the reads', micros(batched.medianMicros - readsPerSample)]);
  print(table(['Read', 'Median µs', 'p99 µs', 'Called', 'µs per sample'], rows));
  print('');
}

interface CpuShares {
  /** Median over rounds of (config share minus idle share in the same round), in % of one core, per config. */
  medianExtraPercent: number[];
}

function printCpuShare(runs: ChildResult[][], seconds: number, rounds: number): CpuShares {
  print('## CPU share of a running manager\n');
  print(`Child processes, each idle for ${seconds} s after a ${SETTLE_MS / 1000} s settle; \`process.cpuUsage()\` (user + system) over that window; ${rounds} rounds, configurations alternating.`);
  print('"Extra" is a configuration\'s share minus the idle process\'s share in the same round.\n');

  const idleRuns = runs[0]!;
  const medianExtraPercent: number[] = [];
  const rows = CHILD_CONFIGS.map((config, index) => {
    const configRuns = runs[index]!;
    const shares = configRuns.map(sharePercent);
    const extras = configRuns.map((run, round) => sharePercent(run) - sharePercent(idleRuns[round]!));
    medianExtraPercent.push(median(extras));

    const samplesPerRound = median(configRuns.map((run) => run.samples));
    return [
      config.label,
      percent(median(shares)),
      index === 0 ? '' : percent(median(extras)),
      index === 0 ? '' : `${percent(Math.min(...extras))} to ${percent(Math.max(...extras))}`,
      String(samplesPerRound),
    ];
  });
  print(table(['Process', 'Median CPU % of one core', 'Extra, median', 'Extra, range', 'Samples in window'], rows));

  // The slope between the 100 ms and default-interval runs is the in-process cost of one sample, timer wake-up included.
  const defaultRuns = runs[2]!;
  const fastRuns = runs[3]!;
  const extraMicros = median(fastRuns.map((run, round) => run.cpuMicros - defaultRuns[round]!.cpuMicros));
  const extraSamples = median(fastRuns.map((run) => run.samples)) - median(defaultRuns.map((run) => run.samples));
  if (extraSamples > 0) {
    print(`\nCPU per extra sample between the ${DEFAULTS.intervalMs} ms and 100 ms runs: ${micros(extraMicros / extraSamples)} µs (timer wake-up and garbage included).`);
  }
  print('');

  return { medianExtraPercent };
}

function printVerdicts(batched: Distribution, reads: ReadCost[], shares: CpuShares): void {
  const cpuAtDefault = shares.medianExtraPercent[2]!;
  const sampleMet = batched.medianMicros < TARGET_SAMPLE_MICROS;
  const cpuMet = cpuAtDefault < TARGET_CPU_PERCENT;

  print('## Verdict\n');
  print(table(
    ['Target', 'Measured', 'Verdict'],
    [
      [`< ${TARGET_SAMPLE_MICROS} µs per sample`, `${micros(batched.medianMicros)} µs median, ${micros(batched.p99Micros)} µs p99`, sampleMet ? 'met' : 'missed'],
      [`< ${TARGET_CPU_PERCENT} % of a core at ${DEFAULTS.intervalMs} ms`, `${percent(cpuAtDefault)} % extra (median)`, cpuMet ? 'met' : 'missed'],
    ],
  ));

  const costliest = [...reads].sort((a, b) => b.medianMicros * b.callsPerSample - a.medianMicros * a.callsPerSample)[0];
  if (costliest) {
    print(`\nCostliest read per sample: \`${costliest.name}\`, ${micros(costliest.medianMicros * costliest.callsPerSample)} µs per sample (${micros(costliest.medianMicros)} µs per call, ${costliest.schedule}).`);
  }
}

// ---------------------------------------------------------------------------
// Helpers

function sharePercent(run: ChildResult): number {
  return (run.cpuMicros / run.wallMicros) * 100;
}

function distribution(values: number[]): Distribution {
  return { medianMicros: median(values), p99Micros: quantile(values, 0.99) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[middle]!;
  return (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Nearest-rank quantile. */
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Runs a full collection when the process has `--expose-gc`, so one measurement's garbage does not land in the next. */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function positiveNumber(name: string, text: string | undefined): number {
  const value = Number(text);
  if (text === undefined || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`Invalid ${name}: expected a positive number, got ${JSON.stringify(text)}`);
  }
  return value;
}

function table(headers: string[], rows: string[][]): string {
  const lines = [headers, headers.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`);
  return lines.join('\n');
}

function micros(value: number): string {
  return value.toFixed(2);
}

function percent(value: number): string {
  return value.toFixed(3);
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

function progress(message: string): void {
  process.stderr.write(`[bench:sampler] ${message}\n`);
}
