import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runLoad, type LoadResult } from '../../src/cli/load.js';
import { CLI_PATH, FIXTURES, INDEX_PATH, readEvents } from '../helpers/cli.js';

/** The guarded service must live this long under load. Three minutes by default. */
const SURVIVAL_MS = Number(process.env.HEADROOM_TEST_SURVIVAL_MS ?? 180_000);
const REQUESTS_PER_SECOND = 200;
/** Any child above this RSS is killed: the services here should stay near 200 MB. */
const RSS_WATCHDOG_BYTES = 1024 * 2 ** 20;

const workDir = mkdtempSync(join(tmpdir(), 'headroom-survival-'));
after(() => rmSync(workDir, { recursive: true, force: true }));

interface Started {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts a process that prints "port N", with an RSS watchdog and a hard time limit. */
function startService(command: string, args: string[], env: NodeJS.ProcessEnv, hardLimitMs: number): Promise<Started> {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

  const watchdog = setInterval(() => {
    try {
      const pages = Number(readFileSync(`/proc/${child.pid}/statm`, 'utf8').split(' ')[1]);
      if (pages * 4096 > RSS_WATCHDOG_BYTES) child.kill('SIGKILL');
    } catch {
      // The process is gone, or this is not Linux: nothing to watch.
    }
  }, 100);
  const hardLimit = setTimeout(() => child.kill('SIGKILL'), hardLimitMs);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      clearInterval(watchdog);
      clearTimeout(hardLimit);
      resolve({ code, signal });
    });
  });

  return new Promise((resolve, reject) => {
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /port (\d+)/.exec(stdout);
      if (match) resolve({ child, port: Number(match[1]), stderr: () => stderr, exited });
    });
    void exited.then(() => reject(new Error(`service ended before listening: ${stderr.slice(-2000)}`)));
  });
}

function post(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST' }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

function load(port: number, durationMs: number): Promise<LoadResult> {
  return runLoad({
    host: '127.0.0.1',
    port,
    pathFor: (index) => `/item/${index}`,
    ratePerSecond: REQUESTS_PER_SECOND,
    concurrency: 4,
    durationMs,
    maxRequests: Math.ceil((REQUESTS_PER_SECOND * durationMs) / 1000),
  });
}

describe('leaking cache service under a 96 MB heap cap', () => {
  it('survives with its cache as a releaser, dies without', { timeout: SURVIVAL_MS + 120_000 }, async () => {
    const eventsFile = join(workDir, 'guarded.ndjson');
    const hardLimitMs = SURVIVAL_MS + 60_000;

    const [guarded, bare] = await Promise.all([
      startService(
        process.execPath,
        [CLI_PATH, 'run', '--expose-gc', '--dashboard', 'off', '--events', eventsFile, '--', process.execPath, '--max-old-space-size=96', join(FIXTURES, 'cache-service.mjs')],
        { ...process.env, GUARDED: '1', HEADROOM_TEST_ENTRY: INDEX_PATH },
        hardLimitMs,
      ),
      startService(process.execPath, ['--max-old-space-size=96', '--expose-gc', join(FIXTURES, 'cache-service.mjs')], process.env, hardLimitMs),
    ]);

    // Warm up first, releaser and GC paths included, so the baseline holds compiled code and
    // connection state, not only what start-up allocated.
    await load(guarded.port, 5000);
    await post(guarded.port, '/relieve');
    await post(guarded.port, '/baseline');

    const [guardedLoad, bareLoad] = await Promise.all([load(guarded.port, SURVIVAL_MS), load(bare.port, SURVIVAL_MS)]);
    const bareEnd = await Promise.race([bare.exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), 1000))]);

    const relieved = JSON.parse(await post(guarded.port, '/relieve')) as { baselineHeapBytes: number; heapUsedBytes: number; cached: number };
    guarded.child.kill('SIGTERM');
    const guardedEnd = await guarded.exited;
    if (bareEnd === null) bare.child.kill('SIGKILL');

    // Without headroom the service dies of "heap out of memory" long before the end.
    assert.notEqual(bareEnd, null, 'the unguarded service should have died');
    assert.match(bare.stderr(), /heap out of memory/);
    assert.ok(bareLoad.failed > 0, 'requests to the dead service should fail');

    // With headroom it serves the whole run.
    assert.equal(guardedEnd.code, 0, guarded.stderr().slice(-2000));
    assert.equal(guardedLoad.failed, 0);
    assert.ok(guardedLoad.completed >= (SURVIVAL_MS / 1000) * REQUESTS_PER_SECOND * 0.9, `served ${guardedLoad.completed}`);

    const actions = readEvents(eventsFile).filter((event) => event.type === 'action' && event.trigger === 'pressure');
    const releaserRan = actions.some((action) =>
      (action.steps as Array<{ name?: string; ok?: boolean }>).some((step) => step.name === 'item-cache' && step.ok === true),
    );
    assert.ok(actions.length > 0, 'no automatic action was taken');
    assert.ok(releaserRan, 'the cache releaser never ran');

    // After a release at critical the live set is back within 10 % of the start.
    assert.equal(relieved.cached, 0);
    assert.ok(
      Math.abs(relieved.heapUsedBytes - relieved.baselineHeapBytes) <= relieved.baselineHeapBytes * 0.1,
      `live set ${relieved.heapUsedBytes} vs baseline ${relieved.baselineHeapBytes}`,
    );
  });
});
