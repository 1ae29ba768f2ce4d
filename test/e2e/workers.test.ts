import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { CLI_PATH, FIXTURES, INDEX_PATH, runToEnd } from '../helpers/cli.js';

const MIB = 2 ** 20;
const env = { ...process.env, HEADROOM_TEST_ENTRY: pathToFileURL(INDEX_PATH).href };

describe('worker threads', () => {
  it('sums the heaps of workers that run headroom', { timeout: 60_000 }, async () => {
    // headroom run with --limit is the RSS watchdog for the four 40 MB workers.
    const result = await runToEnd(process.execPath, [CLI_PATH, 'run', '--limit', '1GiB', '--dashboard', 'off', '--', process.execPath, join(FIXTURES, 'workers.mjs')], {
      env: { ...env, MODE: 'heaps' },
      timeoutMs: 50_000,
    });
    const report = JSON.parse(result.stdout.trim().split('\n').at(-1) as string) as {
      workers: { count: number; heapUsedBytes: number };
      heapUsedBytes: number;
      rssBytes: number;
    };

    assert.equal(result.code, 0, result.stderr);
    assert.equal(report.workers.count, 4);
    assert.ok(report.workers.heapUsedBytes >= 4 * 40 * MIB, `workers' heaps sum to ${report.workers.heapUsedBytes}`);
    assert.ok(report.heapUsedBytes < 40 * MIB, `the main thread holds ${report.heapUsedBytes}`);
    assert.ok(report.rssBytes >= 4 * 40 * MIB, `process RSS ${report.rssBytes} should include the workers`);
  });

  it('reports a worker out of memory without crashing the host', { timeout: 60_000 }, async () => {
    const result = await runToEnd(process.execPath, [CLI_PATH, 'run', '--limit', '1GiB', '--dashboard', 'off', '--', process.execPath, join(FIXTURES, 'workers.mjs')], {
      env: { ...env, MODE: 'oom' },
      timeoutMs: 50_000,
    });
    const lines = result.stdout.trim().split('\n');
    const event = JSON.parse(lines[0] as string) as { type: string; code: string; outOfMemory: boolean; threadId: number };

    assert.equal(result.code, 0, result.stderr);
    assert.equal(event.type, 'worker-error');
    assert.equal(event.code, 'ERR_WORKER_OUT_OF_MEMORY');
    assert.equal(event.outOfMemory, true);
    assert.ok(event.threadId > 0);
    assert.equal(lines.at(-1), 'host alive');
  });
});
