/**
 * Measures what headroom's sampler costs: the time of one `sampleNow()` and of
 * each probe read, and the CPU share of a manager left running in an idle process.
 *
 * Run with `npm run build && npm run bench:sampler`. Options, as arguments
 * after `--` or as environment variables:
 *   --seconds N  (HEADROOM_BENCH_SECONDS)  length of each CPU-share run, default 20
 *   --rounds N   (HEADROOM_BENCH_ROUNDS)   CPU-share rounds, default 4
 * Results go to stdout as markdown and progress goes to stderr. Every child
 * process ends by itself after its run and is killed if it overruns.
 */
import { execFile } from 'node:child_process';
import { availableParallelism, cpus, release } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
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

/** Single calls timed one per loop turn, in the loop-turn and idle-timer modes. */
const SINGLE_CALLS = 300;
const IDLE_GAP_MS = 10;

/** Time a child waits after start-up before its CPU window opens, so module loading and the first samples stay out. */
const SETTLE_MS = 1_000;
/** Extra time a child gets past its own schedule before the parent kills it. */
const CHILD_GRACE_MS = 15_000;

const DEFAULTS = resolveOptions({ logger: silentLogger });

/**
 * Time the loop keeps turning before a loop-turn call: longer than the
 * event-loop histogram's resolution, so the histogram holds at least one
 * delay when the call reads it, as it does in a running manager.
 */
const LOOP_TURN_GAP_MS = DEFAULTS.eventLoopResolutionMs + 2;

interface Distribution {
  medianMicros: number;
  p99Micros: number;
}

interface ReadCost {
  name: string;
  backToBack: Distribution;
  loopTurn: Distribution;
  /** How many times the manager makes this read per sample at the default options. */
  callsPerSample: number;
  schedule: string;
}

interface SampleCost {
  backToBack: Distribution;
  loopTurn: Distribution;
  idleTimer: Distribution;
}

type ChildMode = 'idle' | 'histogram' | 'manager';

/** One kind of child process in the CPU-share runs. */
interface ChildConfig {
  key: 'idle' | 'histogram' | 'noSamples' | 'defaultInterval' | 'fastInterval';
  label: string;
  mode: ChildMode;
  /** The manager's interval; only the manager mode has one. */
  intervalMs?: number;
}

interface ChildResult {
  cpuMicros: number;
  wallMicros: number;
  samples: number;
}

const CHILD_CONFIGS: ChildConfig[] = [
  { key: 'idle', label: 'idle process, no headroom', mode: 'idle' },
  {
    key: 'histogram',
    label: `\`monitorEventLoopDelay\` alone, ${DEFAULTS.eventLoopResolutionMs} ms resolution`,
    mode: 'histogram',
  },
  { key: 'noSamples', label: 'manager, 1 h interval (no samples)', mode: 'manager', intervalMs: 3_600_000 },
  { key: 'defaultInterval', label: `manager, ${DEFAULTS.intervalMs} ms interval (default)`, mode: 'manager', intervalMs: DEFAULTS.intervalMs },
  { key: 'fastInterval', label: 'manager, 100 ms interval', mode: 'manager', intervalMs: 100 },
];

const args = parseArgs({
  options: {
    child: { type: 'string' },
    'interval-ms': { type: 'string' },
    'window-ms': { type: 'string' },
    seconds: { type: 'string' },
    rounds: { type: 'string' },
  },
});

if (args.values.child !== undefined) {
  const intervalText = args.values['interval-ms'];
  const intervalMs = intervalText === undefined ? null : positiveNumber('--interval-ms', intervalText);
  await runChild(parseChildMode(args.values.child), intervalMs, positiveNumber('--window-ms', args.values['window-ms']));
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

  const sampleCost = await measureSampleNow();
  const reads = await measureProbeReads();
  printSampleCost(sampleCost, reads);

  const runs = await measureCpuShare(seconds * 1000, rounds);
  const extraPercent = printCpuShare(runs, seconds, rounds);

  printVerdicts(sampleCost, reads, extraPercent);
}

// ---------------------------------------------------------------------------
// (a) Cost of one sample

async function measureSampleNow(): Promise<SampleCost> {
  const manager = createMemoryManager({ intervalMs: '1h', logger: silentLogger }).start();
  try {
    progress('timing manager.sampleNow() back to back, in batches');
    const backToBack = await timeBatches(() => manager.sampleNow());

    progress(`timing manager.sampleNow() once per loop turn, after ${LOOP_TURN_GAP_MS} ms of turning`);
    const loopTurn = await timeSingleCalls([() => manager.sampleNow()], () => keepLoopTurning(LOOP_TURN_GAP_MS));

    progress(`timing manager.sampleNow() once per ${IDLE_GAP_MS} ms idle timer`);
    const idleTimer = await timeSingleCalls([() => manager.sampleNow()], () => sleep(IDLE_GAP_MS));

    return { backToBack, loopTurn: loopTurn[0]!, idleTimer: idleTimer[0]! };
  } finally {
    manager.stop();
  }
}

async function measureProbeReads(): Promise<ReadCost[]> {
  const probe = new NodeProbe({ eventLoopResolutionMs: DEFAULTS.eventLoopResolutionMs });
  probe.start();

  const every = DEFAULTS.arrayBuffersEverySamples;
  const reads: Array<Pick<ReadCost, 'name' | 'callsPerSample' | 'schedule'> & { read: () => unknown }> = [
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
      schedule: `every ${DEFAULTS.limitRefreshMs / 1000} s`,
    },
  ];

  try {
    const backToBack: Distribution[] = [];
    for (const { name, read } of reads) {
      progress(`timing NodeProbe.${name} back to back, in batches`);
      backToBack.push(await timeBatches(read));
    }

    // Each loop turn times every read once; only eventLoopSinceLast() resets the histogram, so the order does not matter.
    progress(`timing every NodeProbe read once per loop turn, after ${LOOP_TURN_GAP_MS} ms of turning`);
    const loopTurn = await timeSingleCalls(reads.map((entry) => entry.read), () => keepLoopTurning(LOOP_TURN_GAP_MS));

    return reads.map(({ name, callsPerSample, schedule }, index) => ({
      name,
      callsPerSample,
      schedule,
      backToBack: backToBack[index]!,
      loopTurn: loopTurn[index]!,
    }));
  } finally {
    probe.stop();
  }
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

/**
 * Times single calls of each function, SINGLE_CALLS times, each round after
 * `wait()`. Each figure includes one `process.hrtime.bigint()` call, about
 * 0.1-0.3 µs when the CPU is busy.
 */
async function timeSingleCalls(fns: Array<() => unknown>, wait: () => Promise<unknown>): Promise<Distribution[]> {
  for (let i = 0; i < WARM_UP_CALLS; i++) for (const fn of fns) fn();
  collectGarbage();

  const micros: number[][] = fns.map(() => []);
  for (let call = 0; call < SINGLE_CALLS; call++) {
    await wait();

    for (const [index, fn] of fns.entries()) {
      const start = process.hrtime.bigint();
      fn();
      micros[index]!.push(Number(process.hrtime.bigint() - start) / 1000);
    }
  }
  return micros.map(distribution);
}

/**
 * Turns the event loop through `setImmediate` for `ms`, so timers such as the
 * delay histogram's fire while the CPU stays busy and its caches stay warm.
 */
async function keepLoopTurning(ms: number): Promise<void> {
  const endMs = performance.now() + ms;
  while (performance.now() < endMs) await nextTurn();
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
      progress(`round ${round + 1}/${rounds}: ${config.label}, ${windowMs / 1000} s`);
      runs[index]!.push(await runChildProcess(config, windowMs));
    }
  }
  return runs;
}

async function runChildProcess(config: ChildConfig, windowMs: number): Promise<ChildResult> {
  const script = fileURLToPath(import.meta.url);
  const childArgs = [script, '--child', config.mode, '--window-ms', String(windowMs)];
  if (config.intervalMs !== undefined) childArgs.push('--interval-ms', String(config.intervalMs));
  const { stdout } = await promisify(execFile)(process.execPath, childArgs, {
    timeout: SETTLE_MS + windowMs + CHILD_GRACE_MS,
    killSignal: 'SIGKILL',
  });

  const lastLine = stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(lastLine) as ChildResult;
  } catch (err) {
    throw new Error(`Child run "${config.label}" printed no result line; its stdout was ${JSON.stringify(stdout)}`, { cause: err });
  }
}

/**
 * Child side. Every mode loads the same modules and waits on the same two
 * timers of its own, so the only difference between modes is what they start:
 * nothing, the delay histogram alone, or a manager.
 */
async function runChild(mode: ChildMode, intervalMs: number | null, windowMs: number): Promise<void> {
  let manager: MemoryManager | null = null;
  if (mode === 'manager') {
    if (intervalMs === null) throw new RangeError('Invalid --interval-ms: the manager mode requires one, got none');
    manager = createMemoryManager({ intervalMs, logger: silentLogger }).start();
  }

  const histogram = mode === 'histogram' ? monitorEventLoopDelay({ resolution: DEFAULTS.eventLoopResolutionMs }) : null;
  histogram?.enable();

  await sleep(SETTLE_MS);
  const samplesBefore = manager?.stats.samples ?? 0;
  const cpuBefore = process.cpuUsage();
  const wallBefore = process.hrtime.bigint();

  await sleep(windowMs);
  const cpu = process.cpuUsage(cpuBefore);
  const wallMicros = Number(process.hrtime.bigint() - wallBefore) / 1000;
  const samples = (manager?.stats.samples ?? 0) - samplesBefore;
  manager?.stop();
  histogram?.disable();

  const result: ChildResult = { cpuMicros: cpu.user + cpu.system, wallMicros, samples };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function parseChildMode(text: string): ChildMode {
  if (text === 'idle' || text === 'histogram' || text === 'manager') return text;
  throw new RangeError(`Invalid --child: expected idle, histogram or manager, got ${JSON.stringify(text)}`);
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

function printSampleCost(cost: SampleCost, reads: ReadCost[]): void {
  print('## Cost of one sample\n');
  print('`manager.sampleNow()` with the real probe, three ways:');
  print(`- back to back: batches of ${BATCH_CALLS} calls, ${BATCH_COUNT} batches, after ${WARM_UP_CALLS} warm-up calls. The delay histogram is empty on all but the first call of a batch, so its percentiles are skipped.`);
  print(`- loop turn: ${SINGLE_CALLS} single calls, each after ${LOOP_TURN_GAP_MS} ms of \`setImmediate\` turns; the histogram holds delays and the CPU stays busy.`);
  print(`- idle timer: ${SINGLE_CALLS} single calls, each after an idle ${IDLE_GAP_MS} ms \`setTimeout\`, as a running manager makes them; includes waking a cold CPU.\n`);
  print(table(
    ['`sampleNow()`', 'Median µs/sample', 'p99 µs/sample'],
    [
      ['back to back (batches)', micros(cost.backToBack.medianMicros), micros(cost.backToBack.p99Micros)],
      ['loop turn', micros(cost.loopTurn.medianMicros), micros(cost.loopTurn.p99Micros)],
      ['idle timer', micros(cost.idleTimer.medianMicros), micros(cost.idleTimer.p99Micros)],
    ],
  ));

  print('\n### Probe reads (`NodeProbe`)\n');
  const rows = reads.map((read) => [
    `\`${read.name}\``,
    micros(read.backToBack.medianMicros),
    micros(read.backToBack.p99Micros),
    micros(read.loopTurn.medianMicros),
    read.schedule,
    micros(perSampleMicros(read)),
  ]);
  const readsMicros = reads.reduce((sum, read) => sum + perSampleMicros(read), 0);
  rows.push(['**all reads**', '', '', '', `at a ${DEFAULTS.intervalMs} ms interval`, micros(readsMicros)]);
  rows.push(['manager work besides the reads', '', '', '', '`sampleNow()` loop-turn median minus all reads', micros(cost.loopTurn.medianMicros - readsMicros)]);
  print(table(['Read', 'Back to back, median µs', 'Back to back, p99 µs', 'Loop turn, median µs', 'Called', 'µs per sample (loop turn)'], rows));
  print('');
}

/** Median over rounds of each configuration's share minus the idle process's share in the same round, in % of one core. */
type ExtraPercent = Record<ChildConfig['key'], number>;

function printCpuShare(runs: ChildResult[][], seconds: number, rounds: number): ExtraPercent {
  print('## CPU share of a running manager\n');
  print(`Child processes, each idle for a ${seconds} s window after a ${SETTLE_MS / 1000} s settle, measured with \`process.cpuUsage()\` (user + system) over the window; ${rounds} rounds, configurations alternating.`);
  print('"Extra" is a configuration\'s share minus the idle process\'s share in the same round.\n');

  const idleRuns = runsFor(runs, 'idle');
  const extraPercent = {} as ExtraPercent;
  const rows = CHILD_CONFIGS.map((config, index) => {
    const configRuns = runs[index]!;
    const extras = configRuns.map((run, round) => sharePercent(run) - sharePercent(idleRuns[round]!));
    extraPercent[config.key] = median(extras);

    const isIdle = config.key === 'idle';
    return [
      config.label,
      percent(median(configRuns.map(sharePercent))),
      isIdle ? '' : percent(median(extras)),
      isIdle ? '' : `${percent(Math.min(...extras))} to ${percent(Math.max(...extras))}`,
      String(median(configRuns.map((run) => run.samples))),
    ];
  });
  print(table(['Process', 'CPU % of one core, median', 'Extra, median', 'Extra, range', 'Samples in window'], rows));

  // The slope between the fast and default runs is the CPU of one sample in place: timer wake-up, reads and garbage.
  const defaultRuns = runsFor(runs, 'defaultInterval');
  const fastRuns = runsFor(runs, 'fastInterval');
  const extraMicros = median(fastRuns.map((run, round) => run.cpuMicros - defaultRuns[round]!.cpuMicros));
  const extraSamples = median(fastRuns.map((run) => run.samples)) - median(defaultRuns.map((run) => run.samples));
  if (extraSamples > 0) {
    print(`\nCPU per sample in place, from the difference between the 100 ms and ${DEFAULTS.intervalMs} ms runs: ${micros(extraMicros / extraSamples)} µs.`);
  }
  print('');

  return extraPercent;
}

function printVerdicts(cost: SampleCost, reads: ReadCost[], extraPercent: ExtraPercent): void {
  const verdict = (met: boolean): string => (met ? 'met' : 'missed');
  const cpuAtDefault = extraPercent.defaultInterval;

  print('## Verdict\n');
  print(table(
    ['Target', 'Measured', 'Verdict'],
    [
      [`< ${TARGET_SAMPLE_MICROS} µs per sample, back to back`, `${micros(cost.backToBack.medianMicros)} µs median, ${micros(cost.backToBack.p99Micros)} µs p99`, verdict(cost.backToBack.medianMicros < TARGET_SAMPLE_MICROS)],
      [`< ${TARGET_SAMPLE_MICROS} µs per sample, loop turn`, `${micros(cost.loopTurn.medianMicros)} µs median, ${micros(cost.loopTurn.p99Micros)} µs p99`, verdict(cost.loopTurn.medianMicros < TARGET_SAMPLE_MICROS)],
      [`< ${TARGET_CPU_PERCENT} % of one core at ${DEFAULTS.intervalMs} ms`, `${percent(cpuAtDefault)} % extra, median`, verdict(cpuAtDefault < TARGET_CPU_PERCENT)],
    ],
  ));

  const costliest = [...reads].sort((a, b) => perSampleMicros(b) - perSampleMicros(a))[0];
  if (costliest) {
    print(`\nCostliest read per sample: \`${costliest.name}\`, ${micros(perSampleMicros(costliest))} µs (loop turn, ${costliest.schedule}).`);
  }
  print(`Extra CPU with no samples at all (1 h interval): ${percent(extraPercent.noSamples)} % of one core; the delay histogram alone: ${percent(extraPercent.histogram)} %.`);
}

// ---------------------------------------------------------------------------
// Helpers

function perSampleMicros(read: ReadCost): number {
  return read.loopTurn.medianMicros * read.callsPerSample;
}

function runsFor(runs: ChildResult[][], key: ChildConfig['key']): ChildResult[] {
  return runs[CHILD_CONFIGS.findIndex((config) => config.key === key)]!;
}

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
