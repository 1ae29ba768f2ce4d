import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { unknownEnvironmentVariables } from '../../src/manager/env-options.js';
import { FIXTURES, INDEX_PATH, REGISTER_PATH, runToEnd } from '../helpers/cli.js';

describe('headroom/register', () => {
  it('starts a manager from HEADROOM variables', { timeout: 30_000 }, async () => {
    const script = [
      `import(${JSON.stringify(pathToFileURL(INDEX_PATH).href)}).then(({ getDefaultManager }) => {`,
      '  const manager = getDefaultManager();',
      '  // The manager never keeps the process alive, so this timer does until the first sample.',
      '  const keepAlive = setTimeout(() => {}, 10_000);',
      "  manager.once('sample', (sample) => {",
      '    clearTimeout(keepAlive);',
      '    console.log(JSON.stringify({ running: manager.running, limitBytes: sample.limitBytes, intervalMs: manager.intervalMs }));',
      '    manager.stop();',
      '  });',
      '});',
    ].join('\n');

    const result = await runToEnd(process.execPath, ['--import', REGISTER_PATH, '-e', script], {
      env: { ...process.env, HEADROOM_LIMIT: '512MiB', HEADROOM_INTERVAL: '100ms' },
      timeoutMs: 25_000,
    });
    const reported = JSON.parse(result.stdout.trim()) as { running: boolean; limitBytes: number; intervalMs: number };

    assert.equal(result.code, 0);
    assert.equal(reported.running, true);
    assert.equal(reported.limitBytes, 512 * 2 ** 20);
    assert.equal(reported.intervalMs, 100);
  });

  it('draws the dashboard as lines when piped', { timeout: 30_000 }, async () => {
    const result = await runToEnd(process.execPath, ['--import', REGISTER_PATH, '-e', 'setTimeout(() => {}, 700)'], {
      env: { ...process.env, HEADROOM_DASHBOARD: '1', HEADROOM_INTERVAL: '200ms' },
      timeoutMs: 25_000,
    });

    assert.equal(result.code, 0);
    assert.match(result.stderr, /\[headroom\] \d\d:\d\d:\d\d NORMAL live [\d.]+ MiB\/[\d.]+ [MG]iB \(\d+ %\) heap [\d.]+ MiB/);
    assert.doesNotMatch(result.stderr, /\x1b\[/);
  });

  it('names the variable of an invalid value', { timeout: 30_000 }, async () => {
    const result = await runToEnd(process.execPath, ['--import', REGISTER_PATH, '-e', 'console.log("app ran")'], {
      env: { ...process.env, HEADROOM_LIMIT: 'lots' },
      timeoutMs: 25_000,
    });

    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /Invalid environment variable HEADROOM_LIMIT: expected a size .* got "lots"/);
    assert.doesNotMatch(result.stdout, /app ran/);
  });

  it('warns once about a misspelt variable and still runs', { timeout: 30_000 }, async () => {
    const result = await runToEnd(process.execPath, ['--import', REGISTER_PATH, '-e', 'console.log("app ran")'], {
      env: { ...process.env, HEADROOM_LIMT: '512MiB', HEADROOM_TEST_ANYTHING: '1' },
      timeoutMs: 25_000,
    });

    assert.equal(result.code, 0);
    assert.match(result.stdout, /app ran/);
    assert.match(result.stderr, /\[HEADROOM_UNKNOWN_ENVIRONMENT_VARIABLE\] Warning: headroom ignores the environment variable HEADROOM_LIMT\. It reads HEADROOM_LIMIT,/);
    assert.equal(result.stderr.match(/HEADROOM_UNKNOWN_ENVIRONMENT_VARIABLE/g)?.length, 1);
    assert.doesNotMatch(result.stderr, /HEADROOM_TEST_ANYTHING/);
  });
});

describe('unknownEnvironmentVariables', () => {
  it('lists HEADROOM names headroom does not read', () => {
    const env = { HEADROOM_LIMIT: '1', HEADROOM_PORT: '9000', HEADROOM_TOKEN: 't', HEADROOM_IPC: '1', HEADROOM_BENCH_ROUNDS: '3', HEADROOM_THRESHOLD: '0.8', HEADROOM_LIMT: 'x', PATH: '/bin' };

    assert.deepEqual(unknownEnvironmentVariables(env), ['HEADROOM_LIMT', 'HEADROOM_THRESHOLD']);
  });
});

describe('forced GC flag placement', () => {
  it('--expose-gc after the script name is reported', { timeout: 30_000 }, async () => {
    const result = await runToEnd(process.execPath, ['--import', REGISTER_PATH, join(FIXTURES, 'report-gc.mjs'), '--expose-gc'], {
      env: { ...process.env, HEADROOM_TEST_ENTRY: pathToFileURL(INDEX_PATH).href },
      timeoutMs: 25_000,
    });
    const status = JSON.parse(result.stdout) as { available: boolean; reason: string; gcType: string };

    assert.equal(result.code, 0, result.stderr);
    assert.equal(status.gcType, 'undefined');
    assert.equal(status.available, false);
    assert.match(status.reason, /after the script name/);
  });

  it('--expose-gc before the script name enables it', { timeout: 30_000 }, async () => {
    const result = await runToEnd(process.execPath, ['--expose-gc', '--import', REGISTER_PATH, join(FIXTURES, 'report-gc.mjs')], {
      env: { ...process.env, HEADROOM_TEST_ENTRY: pathToFileURL(INDEX_PATH).href },
      timeoutMs: 25_000,
    });
    const status = JSON.parse(result.stdout) as { available: boolean; reason: string | null };

    assert.equal(result.code, 0, result.stderr);
    assert.equal(status.available, true);
    assert.equal(status.reason, null);
  });
});

describe('CommonJS callers', () => {
  it('require() loads the ESM package', { timeout: 30_000 }, async () => {
    const result = await runToEnd(process.execPath, [join(FIXTURES, 'require-esm.cjs')], { timeoutMs: 25_000 });

    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), 'function normal,moderate,high,critical');
  });
});
