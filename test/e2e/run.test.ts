import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { CLI_PATH, FIXTURES, readEvents, runToEnd } from '../helpers/cli.js';

const LEVELS = ['normal', 'moderate', 'high', 'critical'];
const workDir = mkdtempSync(join(tmpdir(), 'headroom-run-'));
after(() => rmSync(workDir, { recursive: true, force: true }));

/** True while `pid` runs. An exited orphan can stay a zombie where PID 1 does not reap, so that counts as stopped. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }

  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Polls `check` every 50 ms until it returns a value other than null, for at most 15 s. */
async function waitFor<T>(check: () => T | null, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = check();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await delay(50);
  }
}

describe('headroom run', () => {
  it('leaking program reaches critical before it dies', { timeout: 90_000 }, async () => {
    const eventsFile = join(workDir, 'leak.ndjson');

    // --limit also makes headroom kill the program if its RSS passes 256 MiB: the RSS watchdog.
    const result = await runToEnd(process.execPath, [CLI_PATH, 'run', '--limit', '256MiB', '--events', eventsFile, '--', process.execPath, join(FIXTURES, 'leak.js')], {
      timeoutMs: 80_000,
    });
    const events = readEvents(eventsFile);
    const samples = events.filter((event) => event.type === 'sample');
    const exit = events.at(-1);

    assert.ok(samples.length >= 3, `expected at least 3 samples, got ${samples.length}`);
    for (const sample of samples) {
      assert.equal(typeof sample.time, 'number');
      assert.ok(LEVELS.includes(sample.level as string), `unknown level ${String(sample.level)}`);
      assert.ok((sample.heapUsedBytes as number) > 0);
      assert.ok((sample.heapLimitBytes as number) > (sample.heapUsedBytes as number) / 2);
      assert.ok((sample.rssBytes as number) > 0);
      assert.equal(typeof sample.externalBytes, 'number');
      assert.equal(sample.limitBytes, 256 * 2 ** 20);
    }

    const critical = events.findIndex((event) => (event.type === 'sample' && event.level === 'critical') || (event.type === 'pressure' && event.to === 'critical'));
    assert.ok(critical >= 0, 'no sample or pressure event reached critical');
    assert.equal(exit?.type, 'exit');
    assert.ok(critical < events.length - 1, 'critical must come before the exit event');
    assert.ok(['heap-out-of-memory', 'killed-at-limit'].includes(exit?.reason as string), `unexpected exit reason ${String(exit?.reason)}`);
    assert.equal(typeof (exit?.time as number), 'number');
    assert.ok('code' in (exit ?? {}));
    assert.ok('signal' in (exit ?? {}));

    assert.match(result.stderr, /headroom summary/);
    assert.match(result.stderr, /highest level {2}critical/);
    assert.match(result.stderr, /ended {10}(V8 "heap out of memory"|killed by headroom)/);
    assert.notEqual(result.code, 0);
  });

  it('sawtooth program stays below high', { timeout: 90_000 }, async () => {
    const eventsFile = join(workDir, 'sawtooth.ndjson');

    const result = await runToEnd(process.execPath, [CLI_PATH, 'run', '--limit', '256MiB', '--events', eventsFile, '--', process.execPath, join(FIXTURES, 'sawtooth.js')], {
      env: { ...process.env, SAWTOOTH_MS: '15000' },
      timeoutMs: 80_000,
    });
    const events = readEvents(eventsFile);
    const samples = events.filter((event) => event.type === 'sample');
    const worst = samples.map((sample) => LEVELS.indexOf(sample.level as string)).reduce((a, b) => Math.max(a, b), 0);
    const peakHeapBytes = Math.max(...samples.map((sample) => sample.heapUsedBytes as number));

    assert.ok(samples.length >= 10, `expected at least 10 samples, got ${samples.length}`);
    assert.ok(peakHeapBytes > 60 * 2 ** 20, `the fixture should saw up past 60 MB, peaked at ${peakHeapBytes}`);
    assert.ok(worst < LEVELS.indexOf('high'), `level reached ${LEVELS[worst]}`);
    assert.equal(events.at(-1)?.type, 'exit');
    assert.equal(events.at(-1)?.reason, 'exited');
    assert.equal(events.at(-1)?.code, 0);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /baseline 20 MB/);
  });

  it('heap limit above process limit warns with a code', { timeout: 30_000 }, async () => {
    const eventsFile = join(workDir, 'warning.ndjson');

    const result = await runToEnd(
      process.execPath,
      [CLI_PATH, 'run', '--limit', '256MiB', '--events', eventsFile, '--', process.execPath, '--max-old-space-size=1024', '-e', 'setTimeout(() => {}, 300)'],
      { timeoutMs: 25_000 },
    );
    const warnings = readEvents(eventsFile).filter((event) => event.type === 'warning');

    assert.equal(result.code, 0);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.code, 'HEADROOM_HEAP_LIMIT_ABOVE_PROCESS_LIMIT');
    assert.match(String(warnings[0]?.message), /at or above the process limit/);
    assert.match(result.stderr, /HEADROOM_HEAP_LIMIT_ABOVE_PROCESS_LIMIT/);
  });

  it('sizes the heap to fit under --limit', { timeout: 30_000 }, async () => {
    const result = await runToEnd(
      process.execPath,
      [CLI_PATH, 'run', '--limit', '256MiB', '--dashboard', 'off', '--', process.execPath, '-e', 'console.log(require("v8").getHeapStatistics().heap_size_limit)'],
      { timeoutMs: 25_000 },
    );

    // 75 % of 256 MiB minus 48 MiB of young generation = 144 MiB of old space, so a 192 MiB heap limit.
    assert.equal(result.code, 0);
    assert.equal(Number(result.stdout.trim()), 192 * 2 ** 20);
  });

  it('serves the API from inside the program with --port', { timeout: 30_000 }, async () => {
    const child = spawn(process.execPath, [CLI_PATH, 'run', '--port', '0', '--dashboard', 'off', '--', process.execPath, '-e', 'setTimeout(() => {}, 8000)'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          const match = /API and dashboard on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stderr);
          if (match) resolve(match[1] as string);
        });
        child.on('close', () => reject(new Error(`ended without serving: ${stderr}`)));
      });
      const response = await fetch(`${url}health`);
      const body = (await response.json()) as { status: string; level: string };

      assert.equal(response.status, 200);
      assert.equal(body.status, 'ok');
      assert.equal(body.level, 'normal');
    } finally {
      clearTimeout(killer);
      child.kill('SIGTERM');
    }
  });

  it('stops the program when headroom run is killed', { timeout: 30_000 }, async () => {
    const pidFile = join(workDir, 'orphan.pid');
    const program = `require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setTimeout(() => {}, 20000);`;
    const runner = spawn(process.execPath, [CLI_PATH, 'run', '--dashboard', 'off', '--', process.execPath, '-e', program], { stdio: 'ignore' });
    let programPid: number | null = null;
    try {
      programPid = await waitFor(() => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) || null : null), 'the program to write its pid');
      runner.kill('SIGKILL');

      const pid = programPid;
      const stopped = await waitFor(() => (isRunning(pid) ? null : true), `program ${pid} to stop after its runner died`);
      assert.equal(stopped, true);
    } finally {
      runner.kill('SIGKILL');
      if (programPid !== null && isRunning(programPid)) process.kill(programPid, 'SIGKILL');
    }
  });

  it('passes the exit code through', { timeout: 30_000 }, async () => {
    const result = await runToEnd(process.execPath, [CLI_PATH, 'run', '--dashboard', 'off', '--', process.execPath, '-e', 'process.exitCode = 7'], { timeoutMs: 25_000 });

    assert.equal(result.code, 7);
  });

  it('rejects an unknown flag naming it', { timeout: 30_000 }, async () => {
    const result = await runToEnd(process.execPath, [CLI_PATH, 'run', '--limt', '256MiB', '--', 'node', '-e', '1'], { timeoutMs: 25_000 });

    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown flag --limt/);
  });

  it('rejects a bad --limit naming the value', { timeout: 30_000 }, async () => {
    const result = await runToEnd(process.execPath, [CLI_PATH, 'run', '--limit', 'lots', '--', 'node', '-e', '1'], { timeoutMs: 25_000 });

    assert.equal(result.code, 2);
    assert.match(result.stderr, /--limit expects a size of at least 16MiB.*got "lots"/);
  });

  it('reports a command that cannot start', { timeout: 30_000 }, async () => {
    const eventsFile = join(workDir, 'missing.ndjson');
    const result = await runToEnd(process.execPath, [CLI_PATH, 'run', '--events', eventsFile, '--', 'headroom-no-such-command'], { timeoutMs: 25_000 });

    assert.equal(result.code, 127);
    assert.equal(readEvents(eventsFile).at(-1)?.reason, 'failed-to-start');
    assert.match(result.stderr, /failed to start: spawn headroom-no-such-command ENOENT/);
  });
});
