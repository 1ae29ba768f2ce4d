/**
 * Measures what headroom's sampler costs: the time of one `sampleNow()` and of
 * each probe read, and the CPU share of a manager left running in an idle process.
 *
 * Run with `npm run build && npm run bench:sampler`. Options, as arguments
 * after `--` or as environment variables:
 *   --seconds N  (HEADROOM_BENCH_SECONDS)  length of each CPU-share run, default 60
 *   --rounds N   (HEADROOM_BENCH_ROUNDS)   CPU-share rounds, default 5
 * Results go to stdout as markdown and progress goes to stderr. Every child
 * process ends by itself after its run and is killed if it overruns.
 */
import { execFile } from 'node:child_process';
import { availableParallelism, cpus, release } from 'node:os';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { createMemoryManager, effectiveLimit, formatBytes, type MemoryManager } from '../src/index.js';
import { resolveOptions } from '../src/manager/options.js';
import { NodeProbe } from '../src/sampling/node-probe.js';
import { EventLoopMonitor } from '../src/sampling/event-loop.js';
import { silentLogger } from '../src/util/logger.js';

const TARGET_SAMPLE_MICROS = 20;
const TARGET_CPU_PERCENT = 0.1;

/** Calls made before timing starts, so V8 has compiled and optimised the timed path. */
const WARM_UP_CALLS = 5_000;
const BATCH_CALLS = 100;
const BATCH_COUNT = 500;

/**
 * Single calls are timed one per timer, SINGLE_GAP_MS apart: three times the
 * event-loop histogram's resolution, so the histogram contains delays when the
 * call reads it, as it does in a running manager.
 */
const SINGLE_CALLS = 100;
/** Calls made on a twin instance just before a warm single call, so the code path is hot but the timed instance's state is untouched. */
const TWIN_WARM_CALLS = 20;

/**
 * Time a child waits after start-up before its CPU window opens, so module
 * loading, the first samples and V8's start-up background work stay out.
 */
const SETTLE_MS = 5_000;
/** Extra time a child gets past its own schedule before the parent kills it. */
const CHILD_GRACE_MS = 15_000;

const DEFAULTS = resolveOptions({ logger: silentLogger });
const SINGLE_GAP_MS = 3 * DEFAULTS.eventLoopResolutionMs;

interface Distribution {
  medianMicros: number;
  p99Micros: number;
}

/** Costs of one call: back to back in batches, single and warm, single and cold. */
interface CallCost {
  backToBack: Distribution;
  warm: Distribution;
  cold: Distribution;
}

interface ReadCost extends CallCost {
  name: string;
  /** How many times the manager makes this read per sample at the default options. */
  callsPerSample: number;
  schedule: string;
}

interface SampleCost extends CallCost {
  /** Single calls (warm and cold together) whose reading contained event-loop delays. */
  callsWithDelays: number;
}

/** One function timed in single calls. `warm` makes the same call on a twin instance, before `run` in the warm mode. */
interface SingleCall {
  run: () => unknown;
  warm: () => unknown;
}

type ChildMode = 'idle' | 'histogram' | 'manager';

/** One kind of child process in the CPU-share runs. */
interface ChildConfig {
  key: 'idle' | 'histogram' | 'noSamples' | 'defaultInterval' | 'fastInterval';
  label: string;
  mode: ChildMode;
  /** The manager's interval, set only in the manager mode. */
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
    label: `event-loop delay timer alone, every ${DEFAULTS.eventLoopResolutionMs} ms, never read (so never paused)`,
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
  const seconds = positiveNumber('--seconds', args.values.seconds ?? process.env.HEADROOM_BENCH_SECONDS ?? '60');
  const rounds = Math.round(positiveNumber('--rounds', args.values.rounds ?? process.env.HEADROOM_BENCH_ROUNDS ?? '5'));
  if (BATCH_CALLS % DEFAULTS.arrayBuffersEverySamples !== 0) {
    throw new RangeError(`Invalid BATCH_CALLS ${BATCH_CALLS}: expected a multiple of arrayBuffersEverySamples (${DEFAULTS.arrayBuffersEverySamples}), so that every batch makes the same reads`);
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
  const twin = createMemoryManager({ intervalMs: '1h', logger: silentLogger }).start();
  let callsWithDelays = 0;
  const call: SingleCall = {
    run: () => {
      if (manager.sampleNow().eventLoop.delayP50Ms > 0) callsWithDelays++;
    },
    warm: () => twin.sampleNow(),
  };

  try {
    reportProgress('timing manager.sampleNow() back to back, in batches');
    const backToBack = await timeBatches(() => manager.sampleNow());

    reportProgress(`timing manager.sampleNow() in single calls, ${SINGLE_GAP_MS} ms apart, warm`);
    const [warm] = await timeSingleCalls([call], true);

    reportProgress(`timing manager.sampleNow() in single calls, ${SINGLE_GAP_MS} ms apart, cold`);
    const [cold] = await timeSingleCalls([call], false);

    return { backToBack, warm: warm!, cold: cold!, callsWithDelays };
  } finally {
    manager.stop();
    twin.stop();
  }
}

async function measureProbeReads(): Promise<ReadCost[]> {
  const eventLoopResolutionMs = DEFAULTS.eventLoopResolutionMs;
  const probe = new NodeProbe({ eventLoopResolutionMs });
  const twin = new NodeProbe({ eventLoopResolutionMs });
  probe.start();
  twin.start();

  // In the order the sampler makes them. The manager calls limits() apart from the sample, every limitRefreshMs.
  const every = DEFAULTS.arrayBuffersEverySamples;
  const reads: Array<Pick<ReadCost, 'name' | 'callsPerSample' | 'schedule'> & { read: (source: NodeProbe) => unknown }> = [
    { name: 'heap()', read: (source) => source.heap(), callsPerSample: 1, schedule: 'every sample' },
    { name: 'arrayBuffersBytes()', read: (source) => source.arrayBuffersBytes(), callsPerSample: 1 / every, schedule: `every ${every} samples` },
    { name: 'rssBytes()', read: (source) => source.rssBytes(), callsPerSample: 1, schedule: 'every sample' },
    { name: 'heapSpaces()', read: (source) => source.heapSpaces(), callsPerSample: 1, schedule: 'every sample' },
    { name: 'gcSinceLast()', read: (source) => source.gcSinceLast(), callsPerSample: 1, schedule: 'every sample' },
    { name: 'eventLoopSinceLast()', read: (source) => source.eventLoopSinceLast(), callsPerSample: 1, schedule: 'every sample' },
    {
      name: 'limits()',
      read: (source) => source.limits(),
      callsPerSample: DEFAULTS.intervalMs / DEFAULTS.limitRefreshMs,
      schedule: `every ${DEFAULTS.limitRefreshMs / 1000} s`,
    },
  ];

  try {
    const backToBack: Distribution[] = [];
    for (const { name, read } of reads) {
      reportProgress(`timing NodeProbe.${name} back to back, in batches`);
      backToBack.push(await timeBatches(() => read(probe)));
    }

    // Only eventLoopSinceLast() resets the histogram, so each read in a round finds the same state as in a sample.
    const calls = reads.map(({ read }): SingleCall => ({ run: () => read(probe), warm: () => read(twin) }));
    reportProgress(`timing every NodeProbe read in single calls, ${SINGLE_GAP_MS} ms apart, warm`);
    const warm = await timeSingleCalls(calls, true);
    reportProgress(`timing every NodeProbe read in single calls, ${SINGLE_GAP_MS} ms apart, cold`);
    const cold = await timeSingleCalls(calls, false);

    return reads.map(({ name, callsPerSample, schedule }, index) => ({
      name,
      callsPerSample,
      schedule,
      backToBack: backToBack[index]!,
      warm: warm[index]!,
      cold: cold[index]!,
    }));
  } finally {
    probe.stop();
    twin.stop();
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
  return toDistribution(perCallMicros);
}

/**
 * Times single calls, one round of `calls` per SINGLE_GAP_MS timer,
 * SINGLE_CALLS rounds. Warm: each call's twin runs TWIN_WARM_CALLS times just
 * before it, so code and caches are hot. Cold: nothing runs between the timer
 * and the calls, as in a manager on an idle service, so the first call pays
 * for a CPU woken from idle. Each figure includes one
 * `process.hrtime.bigint()`, about 0.1-0.3 µs when hot.
 */
async function timeSingleCalls(calls: SingleCall[], warm: boolean): Promise<Distribution[]> {
  // The twin shares its compiled code with the timed instance, so warming it up leaves only timed calls on the instance.
  for (let i = 0; i < WARM_UP_CALLS; i++) for (const call of calls) call.warm();
  collectGarbage();

  const micros: number[][] = calls.map(() => []);
  for (let round = 0; round < SINGLE_CALLS; round++) {
    await sleep(SINGLE_GAP_MS);

    for (const [index, call] of calls.entries()) {
      if (warm) for (let i = 0; i < TWIN_WARM_CALLS; i++) call.warm();

      const start = process.hrtime.bigint();
      call.run();
      micros[index]!.push(Number(process.hrtime.bigint() - start) / 1000);
    }
  }
  return micros.map(toDistribution);
}

// ---------------------------------------------------------------------------
// (b) CPU share of a running manager

/**
 * Runs every child configuration once per round, all of a round at the same
 * time, so each is compared with an idle process that saw the same machine.
 * The children are idle almost all the time, so they hardly compete for the
 * cores, and the machine's other load moves every share of a round together.
 */
async function measureCpuShare(windowMs: number, rounds: number): Promise<ChildResult[][]> {
  const runs: ChildResult[][] = CHILD_CONFIGS.map(() => []);
  for (let round = 0; round < rounds; round++) {
    reportProgress(`round ${round + 1}/${rounds}: ${CHILD_CONFIGS.length} processes side by side, ${windowMs / 1000} s`);
    const results = await Promise.all(CHILD_CONFIGS.map((config) => runChildProcess(config, windowMs)));
    results.forEach((result, index) => runs[index]!.push(result));
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
    throw new Error(`Child run "${config.label}" printed no result line. Its stdout was ${JSON.stringify(stdout)}`, { cause: err });
  }
}

/**
 * Child side. Every mode loads the same modules and waits on the same two
 * timers of its own, so the only difference between modes is what they start:
 * nothing, the event-loop delay timer alone, or a manager.
 */
async function runChild(mode: ChildMode, intervalMs: number | null, windowMs: number): Promise<void> {
  let manager: MemoryManager | null = null;
  if (mode === 'manager') {
    if (intervalMs === null) throw new RangeError('Missing --interval-ms, which the manager mode requires');
    manager = createMemoryManager({ intervalMs, logger: silentLogger }).start();
  }

  const histogram = mode === 'histogram' ? new EventLoopMonitor(DEFAULTS.eventLoopResolutionMs) : null;
  histogram?.start();

  await sleep(SETTLE_MS);
  const samplesBefore = manager?.stats.samples ?? 0;
  const cpuBefore = process.cpuUsage();
  const wallBefore = process.hrtime.bigint();

  await sleep(windowMs);
  const cpu = process.cpuUsage(cpuBefore);
  const wallMicros = Number(process.hrtime.bigint() - wallBefore) / 1000;
  const samples = (manager?.stats.samples ?? 0) - samplesBefore;
  manager?.stop();
  histogram?.stop();

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
  printLine('# headroom sampler cost\n');
  printLine(`- Date: ${new Date().toISOString()}`);
  printLine(`- Node: ${process.version}, flags: ${process.execArgv.join(' ') || 'none'}`);
  printLine(`- CPU: ${availableParallelism()} cores, ${cpus()[0]?.model ?? 'unknown model'}`);
  printLine(`- OS: ${process.platform} ${release()}, process memory limit: ${limitText}`);
  printLine('');
}

function printSampleCost(cost: SampleCost, reads: ReadCost[]): void {
  printLine('## Cost of one sample\n');
  printLine('`manager.sampleNow()` and each `NodeProbe` read, timed three ways:');
  printLine(`- back to back: batches of ${BATCH_CALLS} calls, ${BATCH_COUNT} batches, after ${WARM_UP_CALLS} warm-up calls. The event-loop histogram is empty on all but the first call of a batch, so its two percentile reads are skipped.`);
  printLine(`- warm: ${SINGLE_CALLS} single calls, ${SINGLE_GAP_MS} ms apart, so the histogram contains delays. Just before each, a twin instance makes the same call ${TWIN_WARM_CALLS} times, so code and caches are hot.`);
  printLine(`- cold: the same single calls with nothing run between the timer and the call, as a manager on an idle service makes them.`);
  printLine(`The histogram contained delays on ${cost.callsWithDelays} of ${2 * SINGLE_CALLS} single \`sampleNow()\` calls.\n`);
  printLine(formatTable(
    ['`sampleNow()`', 'Median µs/sample', 'p99 µs/sample'],
    [
      ['back to back', formatMicros(cost.backToBack.medianMicros), formatMicros(cost.backToBack.p99Micros)],
      ['warm', formatMicros(cost.warm.medianMicros), formatMicros(cost.warm.p99Micros)],
      ['cold', formatMicros(cost.cold.medianMicros), formatMicros(cost.cold.p99Micros)],
    ],
  ));

  printLine('\n### Probe reads (`NodeProbe`), in the order a sample makes them\n');
  const rows = reads.map((read) => [
    `\`${read.name}\``,
    formatMicros(read.backToBack.medianMicros),
    formatMicros(read.warm.medianMicros),
    formatMicros(read.warm.p99Micros),
    formatMicros(read.cold.medianMicros),
    read.schedule,
    formatMicros(perSampleMicros(read, 'warm')),
    formatMicros(perSampleMicros(read, 'cold')),
  ]);
  const sumWarm = reads.reduce((sum, read) => sum + perSampleMicros(read, 'warm'), 0);
  const sumCold = reads.reduce((sum, read) => sum + perSampleMicros(read, 'cold'), 0);
  rows.push(['**all reads**', '', '', '', '', `at a ${DEFAULTS.intervalMs} ms interval`, formatMicros(sumWarm), formatMicros(sumCold)]);
  rows.push(['`sampleNow()` minus all reads', '', '', '', '', 'pressure, sample object, events', formatMicros(cost.warm.medianMicros - sumWarm), formatMicros(cost.cold.medianMicros - sumCold)]);
  printLine(formatTable(
    ['Read', 'Back to back, median µs', 'Warm, median µs', 'Warm, p99 µs', 'Cold, median µs', 'Called', 'Warm µs per sample', 'Cold µs per sample'],
    rows,
  ));
  printLine('');
}

/** Median over rounds of each configuration's share minus the idle process's share in the same round, in % of one core. */
type ExtraPercent = Record<ChildConfig['key'], number>;

function printCpuShare(runs: ChildResult[][], seconds: number, rounds: number): ExtraPercent {
  printLine('## CPU share of a running manager\n');
  printLine(`Child processes, each idle for a ${seconds} s window after a ${SETTLE_MS / 1000} s settle, measured with \`process.cpuUsage()\` (user + system) over the window. ${rounds} rounds; the processes of a round run side by side.`);
  printLine('"Extra" is a configuration\'s share minus the idle process\'s share in the same round.\n');

  const idleRuns = runsFor(runs, 'idle');
  const extraPercent = {} as ExtraPercent;
  const rows = CHILD_CONFIGS.map((config, index) => {
    const configRuns = runs[index]!;
    const extras = configRuns.map((run, round) => sharePercent(run) - sharePercent(idleRuns[round]!));
    extraPercent[config.key] = median(extras);

    const isIdle = config.key === 'idle';
    return [
      config.label,
      formatPercent(median(configRuns.map(sharePercent))),
      isIdle ? '' : formatPercent(median(extras)),
      isIdle ? '' : `${formatPercent(Math.min(...extras))} to ${formatPercent(Math.max(...extras))}`,
      String(median(configRuns.map((run) => run.samples))),
    ];
  });
  printLine(formatTable(['Process', 'CPU % of one core, median', 'Extra, median', 'Extra, range', 'Samples in window'], rows));

  // The slope between the fast and default runs is the CPU of one sample in place: timer wake-up, reads and garbage.
  const defaultRuns = runsFor(runs, 'defaultInterval');
  const fastRuns = runsFor(runs, 'fastInterval');
  const extraMicros = median(fastRuns.map((run, round) => run.cpuMicros - defaultRuns[round]!.cpuMicros));
  const extraSamples = median(fastRuns.map((run) => run.samples)) - median(defaultRuns.map((run) => run.samples));
  if (extraSamples > 0) {
    printLine(`\nCPU per sample in place, from the difference between the 100 ms and ${DEFAULTS.intervalMs} ms runs: ${formatMicros(extraMicros / extraSamples)} µs.`);
  }
  printLine('');

  return extraPercent;
}

function printVerdicts(cost: SampleCost, reads: ReadCost[], extraPercent: ExtraPercent): void {
  const verdict = (met: boolean): string => (met ? 'met' : 'missed');
  const cpuAtDefault = extraPercent.defaultInterval;

  // The per-sample target is judged back to back, the way each read's cost is measured: the work of the call itself.
  // Single calls on a timer add what a CPU woken from idle pays for cold caches, and the CPU share covers that.
  printLine('## Verdict\n');
  printLine(formatTable(
    ['Target', 'Measured', 'Verdict'],
    [
      [`< ${TARGET_SAMPLE_MICROS} µs per sample (back to back)`, `${formatMicros(cost.backToBack.medianMicros)} µs median, ${formatMicros(cost.backToBack.p99Micros)} µs p99`, verdict(cost.backToBack.medianMicros < TARGET_SAMPLE_MICROS)],
      [`< ${TARGET_CPU_PERCENT} % of one core at ${DEFAULTS.intervalMs} ms (in place, timer wake-ups included)`, `${formatPercent(cpuAtDefault)} % extra, median`, verdict(cpuAtDefault < TARGET_CPU_PERCENT)],
      ['single calls on a timer (context, not a target)', `warm ${formatMicros(cost.warm.medianMicros)} µs, cold ${formatMicros(cost.cold.medianMicros)} µs median`, '-'],
    ],
  ));

  printLine('');
  for (const mode of ['warm', 'cold'] as const) {
    const costliest = [...reads].sort((a, b) => perSampleMicros(b, mode) - perSampleMicros(a, mode))[0];
    if (costliest) printLine(`Costliest read per sample, ${mode}: \`${costliest.name}\`, ${formatMicros(perSampleMicros(costliest, mode))} µs (${costliest.schedule}).`);
  }
  printLine(`Extra CPU with no samples at all (1 h interval): ${formatPercent(extraPercent.noSamples)} % of one core. The event-loop delay histogram alone: ${formatPercent(extraPercent.histogram)} %.`);
}

// ---------------------------------------------------------------------------
// Helpers

function perSampleMicros(read: ReadCost, mode: 'warm' | 'cold'): number {
  return read[mode].medianMicros * read.callsPerSample;
}

function runsFor(runs: ChildResult[][], key: ChildConfig['key']): ChildResult[] {
  return runs[CHILD_CONFIGS.findIndex((config) => config.key === key)]!;
}

function sharePercent(run: ChildResult): number {
  return (run.cpuMicros / run.wallMicros) * 100;
}

function toDistribution(values: number[]): Distribution {
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

function formatTable(headers: string[], rows: string[][]): string {
  const lines = [headers, headers.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`);
  return lines.join('\n');
}

function formatMicros(value: number): string {
  return value.toFixed(2);
}

function formatPercent(value: number): string {
  return value.toFixed(3);
}

function printLine(line: string): void {
  process.stdout.write(`${line}\n`);
}

function reportProgress(message: string): void {
  process.stderr.write(`[bench:sampler] ${message}\n`);
}
