import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CLI_PATH, FIXTURES, readEvents, runToEnd, type Finished } from '../helpers/cli.js';

const MIB = 2 ** 20;
const workDir = mkdtempSync(join(tmpdir(), 'headroom-leaks-'));
after(() => rmSync(workDir, { recursive: true, force: true }));

type Event = Record<string, unknown>;

interface LeakRun {
  result: Finished;
  events: Event[];
  /** Epoch milliseconds just before `headroom run` was spawned. */
  startedAtMs: number;
  /** The JSON lines the fixture printed, one per phase. */
  phases: Event[];
}

interface RunSpec {
  name: string;
  fixture: string;
  /** Passed to node before the fixture, such as a heap cap. */
  nodeFlags: string[];
  /** `--limit`: the process limit, and the RSS at which headroom kills the program. */
  limit: string;
  env?: Record<string, string>;
}

/** Runs a fixture under `headroom run` with an events file, and reads what it wrote. */
async function runFixture(spec: RunSpec): Promise<LeakRun> {
  const eventsFile = join(workDir, `${spec.name}.ndjson`);
  const args = [CLI_PATH, 'run', '--limit', spec.limit, '--events', eventsFile, '--dashboard', 'off', '--', process.execPath, ...spec.nodeFlags, join(FIXTURES, spec.fixture)];

  const startedAtMs = Date.now();
  const result = await runToEnd(process.execPath, args, { env: { ...process.env, ...spec.env }, timeoutMs: 150_000 });
  const phases = result.stdout
    .split('\n')
    .filter((line) => line.startsWith('{"phase"'))
    .map((line) => JSON.parse(line) as Event);

  return { result, events: readEvents(eventsFile), startedAtMs, phases };
}

function leakEvents(run: LeakRun, kind?: string): Event[] {
  return run.events.filter((event) => event.type === 'leak' && (kind === undefined || event.kind === kind));
}

function phaseTime(run: LeakRun, phase: string): number {
  const found = run.phases.find((line) => line.phase === phase);
  assert.ok(found, `the fixture printed no "${phase}" phase; stdout: ${run.result.stdout.slice(0, 2000)}`);
  return found.time as number;
}

function describeLeaks(run: LeakRun): string {
  const listed = run.events
    .filter((event) => event.type === 'leak' || event.type === 'leak-cleared')
    .map((event) => `${(((event.time as number) - run.startedAtMs) / 1000).toFixed(1)}s ${String(event.type)} ${String(event.kind)} ${String(event.resourceType ?? '')}`);
  return JSON.stringify(listed);
}

function exitEvent(run: LeakRun): Event {
  const exit = run.events.at(-1);
  assert.equal(exit?.type, 'exit', `the events file does not end with an exit event; stderr: ${run.result.stderr.slice(-2000)}`);
  return exit;
}

// The fixtures run for 30 to 110 s each, so two run at a time: the sawtooth
// (110 s) beside the other three in turn (45 s, 30 s and 40 s).
describe('headroom run leak detection', { concurrency: 2 }, () => {
  it('reports unbounded Map cache before OOM', { timeout: 170_000 }, async (t) => {
    // 200 requests per second each cache 10 KiB: 2000 KiB/s of heap, under a 96 MiB old space.
    const truthBytesPerSecond = 200 * 10 * 1024;
    const run = await runFixture({
      name: 'map-cache',
      fixture: 'leak-map-cache.mjs',
      nodeFlags: ['--max-old-space-size=96'],
      limit: '512MiB',
      env: { REQUESTS_PER_SECOND: '200', RUN_MS: '90000' },
    });
    const exit = exitEvent(run);

    const heapLeaks = leakEvents(run, 'heap');
    assert.ok(heapLeaks.length > 0, `no heap leak event; events: ${describeLeaks(run)}`);
    const leak = heapLeaks[0] as Event;
    const latencyMs = (leak.time as number) - run.startedAtMs;
    t.diagnostic(`heap leak after ${latencyMs} ms at ${String(leak.rateBytesPerSecond)} B/s, timeToLimitMs ${String(leak.timeToLimitMs)}; exit after ${(exit.time as number) - run.startedAtMs} ms`);
    assert.ok(latencyMs <= 30_000, `heap leak reported ${latencyMs} ms after start, later than 30 s`);
    assert.ok(run.events.indexOf(leak) < run.events.indexOf(exit), 'the leak event comes after the exit event');
    assert.ok((leak.time as number) < (exit.time as number));

    const rate = leak.rateBytesPerSecond as number;
    assert.ok(rate >= truthBytesPerSecond / 2, `rateBytesPerSecond ${rate} is below half of ${truthBytesPerSecond}`);
    assert.ok(rate <= truthBytesPerSecond * 2, `rateBytesPerSecond ${rate} is above twice ${truthBytesPerSecond}`);
    assert.equal(typeof leak.timeToLimitMs, 'number');
    assert.ok((leak.timeToLimitMs as number) > 0, `timeToLimitMs ${String(leak.timeToLimitMs)}`);
    assert.equal(leak.budget, 'heap');

    assert.ok(['heap-out-of-memory', 'killed-at-limit'].includes(exit.reason as string), `unexpected exit reason ${String(exit.reason)}`);
    assert.ok(((exit.summary as Event).leaks as number) >= 1, 'the summary counts no leak');

    const samples = run.events.filter((event) => event.type === 'sample');
    assert.ok(samples.length >= 20, `expected at least 20 samples, got ${samples.length}`);
    for (const sample of samples) {
      assert.equal(typeof sample.liveBytes, 'number');
      assert.ok((sample.liveBytes as number) > 0);
      assert.ok((sample.liveBytes as number) <= (sample.heapUsedBytes as number), 'liveBytes above heapUsedBytes');
      assert.ok('timeToLimitMs' in sample, 'a sample has no timeToLimitMs');
      if ((sample.time as number) < (leak.time as number)) assert.equal(sample.timeToLimitMs, null);
    }

    const forecasts = samples.filter((sample) => (sample.time as number) >= (leak.time as number)).map((sample) => sample.timeToLimitMs);
    assert.ok(forecasts.length > 0, 'no sample after the heap leak was reported');
    for (const forecast of forecasts) assert.equal(typeof forecast, 'number');
  });

  it('ignores warm-up and sawtooth, then reports leak', { timeout: 170_000 }, async (t) => {
    const run = await runFixture({
      name: 'sawtooth',
      fixture: 'warmup-sawtooth.mjs',
      nodeFlags: ['--max-old-space-size=256'],
      limit: '1GiB',
      env: { WARMUP_MS: '10000', WARMUP_MB: '60', KEEP_MB: '20', CHURN_MB: '60', SAWTOOTH_MS: '40000', LEAK_BYTES_PER_SECOND: String(MIB), LEAK_MS: '60000' },
    });
    const leakStartMs = phaseTime(run, 'leak');
    const exit = exitEvent(run);

    const peakHeapBytes = Math.max(...run.events.filter((event) => event.type === 'sample' && (event.time as number) < leakStartMs).map((event) => event.heapUsedBytes as number));
    assert.ok(peakHeapBytes > 60 * MIB, `the sawtooth should reach past 60 MiB, peaked at ${peakHeapBytes}`);

    const early = run.events.filter((event) => (event.type === 'leak' || event.type === 'leak-cleared') && (event.time as number) < leakStartMs);
    assert.equal(early.length, 0, `leak events before the leak began: ${describeLeaks(run)}`);

    const heapLeak = leakEvents(run, 'heap')[0];
    assert.ok(heapLeak, `no heap leak event; events: ${describeLeaks(run)}`);
    const delayMs = (heapLeak.time as number) - leakStartMs;
    t.diagnostic(`heap leak ${delayMs} ms after the leak began, at ${String(heapLeak.rateBytesPerSecond)} B/s; events: ${describeLeaks(run)}`);
    assert.ok(delayMs <= 60_000, `heap leak reported ${delayMs} ms after the leak began, later than 60 s`);
    assert.ok((heapLeak.rateBytesPerSecond as number) > 0);

    assert.equal(exit.reason, 'exited');
    assert.equal(exit.code, 0);
  });

  it('reports zlib growth as native, not heap', { timeout: 170_000 }, async (t) => {
    // --limit 1GiB is the RSS watchdog; the fixture also stops issuing calls after 20 s.
    const run = await runFixture({
      name: 'native',
      fixture: 'native-deflate.mjs',
      nodeFlags: ['--max-old-space-size=128'],
      limit: '1GiB',
      env: { CALLS_PER_SECOND: '2000', MAX_IN_FLIGHT: '200', LEFT_OPEN_PER_SECOND: '30', ISSUE_MS: '20000', RUN_MS: '30000' },
    });
    const exit = exitEvent(run);

    const outsideHeap = run.events.filter((event) => event.type === 'leak' && (event.kind === 'native' || event.kind === 'external'));
    t.diagnostic(`events: ${describeLeaks(run)}`);
    assert.ok(outsideHeap.length > 0, `no native or external leak event; events: ${describeLeaks(run)}`);
    assert.equal(leakEvents(run, 'heap').length, 0, `heap leak reported: ${describeLeaks(run)}`);
    assert.equal((outsideHeap[0] as Event).budget, 'process');

    const samples = run.events.filter((event) => event.type === 'sample');
    const peakLiveBytes = Math.max(...samples.map((sample) => sample.liveBytes as number));
    const peakRssBytes = Math.max(...samples.map((sample) => sample.rssBytes as number));
    assert.ok(peakLiveBytes < 32 * MIB, `the heap should stay small, its live set peaked at ${peakLiveBytes}`);
    assert.ok(peakRssBytes > peakLiveBytes + 100 * MIB, `RSS should grow well past the heap, peaked at ${peakRssBytes}`);
    assert.equal(exit.reason, 'exited', `the program did not end by itself: ${String(exit.description)}`);
  });

  it('reports leaked intervals as Timeout and heap', { timeout: 170_000 }, async (t) => {
    // 20 connections per second, every fourth leaks an interval retaining 1 MiB: 5 Timeouts and 5 MiB per
    // second. The program exits after 40 s, before the 256 MiB old space runs out (about 50 s in trials).
    const run = await runFixture({
      name: 'timers',
      fixture: 'timer-closure-leak.mjs',
      nodeFlags: ['--max-old-space-size=256'],
      limit: '1GiB',
      env: { CONNECTIONS_PER_SECOND: '20', FAIL_EVERY: '4', RUN_MS: '40000' },
    });
    exitEvent(run);
    t.diagnostic(`events: ${describeLeaks(run)}`);

    const timeouts = leakEvents(run, 'resources').find((event) => event.resourceType === 'Timeout');
    assert.ok(timeouts, `no Timeout leak event; events: ${describeLeaks(run)}`);
    const timeoutsLatencyMs = (timeouts.time as number) - run.startedAtMs;
    assert.ok(timeoutsLatencyMs <= 30_000, `Timeout leak reported ${timeoutsLatencyMs} ms after start, later than 30 s`);

    const heapLeak = leakEvents(run, 'heap')[0];
    assert.ok(heapLeak, `no heap leak event; events: ${describeLeaks(run)}`);
    const heapLatencyMs = (heapLeak.time as number) - run.startedAtMs;
    assert.ok(heapLatencyMs <= 30_000, `heap leak reported ${heapLatencyMs} ms after start, later than 30 s`);
  });
});
