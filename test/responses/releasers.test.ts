import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PressureLevel } from '../../src/analysis/levels.js';
import { createReleaserRegistry, type ReleaserRegistryOptions } from '../../src/responses/releasers.js';
import { silentLogger } from '../../src/util/logger.js';
import { RecordingLogger } from '../helpers/recording-logger.js';
import { ScriptedClock } from '../helpers/scripted.js';

function registry(options: ReleaserRegistryOptions = {}) {
  return createReleaserRegistry({ clock: new ScriptedClock(), logger: silentLogger, ...options });
}

describe('releaser registry', () => {
  test('priority order, ties by registration', async () => {
    const releasers = registry();
    const calls: string[] = [];
    const add = (name: string, priority?: number) =>
      releasers.register({ name, ...(priority === undefined ? {} : { priority }), release: () => void calls.push(name) });
    add('low', -5);
    add('default-a');
    add('high', 10);
    add('default-b');
    add('middle', 5);

    const results = await releasers.run('critical', 'test');

    assert.deepEqual(calls, ['high', 'middle', 'default-a', 'default-b', 'low']);
    assert.deepEqual(
      results.map((result) => result.name),
      calls,
    );
  });

  test('minLevel filters releasers by level', async () => {
    const releasers = registry();
    const minLevels = ['moderate', 'high', 'critical'] as const;
    for (const minLevel of minLevels) {
      releasers.register({ name: minLevel, minLevel, release: () => {} });
    }

    const namesAt = async (level: PressureLevel) => (await releasers.run(level, 'test')).map((result) => result.name);

    assert.deepEqual(await namesAt('normal'), []);
    assert.deepEqual(await namesAt('moderate'), ['moderate']);
    assert.deepEqual(await namesAt('high'), ['moderate', 'high']);
    assert.deepEqual(await namesAt('critical'), ['moderate', 'high', 'critical']);
  });

  test('failing releasers isolated and counted', async () => {
    const logger = new RecordingLogger();
    const releasers = registry({ timeoutMs: 50, logger });
    const ran: string[] = [];
    releasers.register({
      name: 'throws',
      priority: 3,
      release: () => {
        throw new Error('cache is locked');
      },
    });
    releasers.register({ name: 'hangs', priority: 2, release: () => new Promise<void>(() => {}) });
    releasers.register({ name: 'rejects', priority: 1, release: () => Promise.reject(new Error('backend gone')) });
    releasers.register({
      name: 'works',
      priority: 0,
      release: () => {
        ran.push('works');
        return 4096;
      },
    });

    const results = await releasers.run('high', 'pressure');
    const byName = new Map(results.map((result) => [result.name, result]));

    assert.deepEqual(ran, ['works']);
    assert.equal(byName.get('throws')?.ok, false);
    assert.equal(byName.get('throws')?.error, 'cache is locked');
    assert.equal(byName.get('hangs')?.ok, false);
    assert.equal(byName.get('hangs')?.timedOut, true);
    assert.match(byName.get('hangs')?.error ?? '', /timed out after 50 ms/);
    assert.equal(byName.get('rejects')?.ok, false);
    assert.equal(byName.get('rejects')?.error, 'backend gone');
    assert.equal(byName.get('works')?.ok, true);
    assert.equal(byName.get('works')?.reportedBytes, 4096);

    const stats = new Map(releasers.stats().map((entry) => [entry.name, entry]));
    assert.equal(stats.get('throws')?.errors, 1);
    assert.equal(stats.get('hangs')?.timeouts, 1);
    assert.equal(stats.get('hangs')?.errors, 0);
    assert.equal(stats.get('rejects')?.errors, 1);
    assert.equal(stats.get('works')?.errors, 0);
    assert.equal(stats.get('works')?.totalReportedBytes, 4096);

    const errorLogs = logger.at('error');
    assert.equal(errorLogs.length, 2);
    assert.ok(errorLogs.every((record) => record.object.err instanceof Error));
    assert.deepEqual(
      errorLogs.map((record) => record.object.releaser),
      ['throws', 'rejects'],
    );
    const timeoutLogs = logger.at('warn');
    assert.equal(timeoutLogs.length, 1);
    assert.equal(timeoutLogs[0]?.object.releaser, 'hangs');
    assert.ok(timeoutLogs[0]?.object.err instanceof Error);
  });

  test('signal aborts at the timeout', async () => {
    const releasers = registry({ timeoutMs: 50 });
    let seen: AbortSignal | undefined;
    let abortedDuringCall = false;
    releasers.register({
      name: 'waits-for-abort',
      release: (_level, signal) => {
        seen = signal;
        return new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => {
            abortedDuringCall = true;
            resolve();
          });
        });
      },
    });

    const [result] = await releasers.run('moderate', 'test');

    assert.equal(result?.timedOut, true);
    assert.equal(abortedDuringCall, true);
    assert.equal(seen?.aborted, true);
    assert.equal((seen?.reason as Error).name, 'TimeoutError');
  });

  test('signal unaborted when finished in time', async () => {
    const releasers = registry({ timeoutMs: 1000 });
    let seen: AbortSignal | undefined;
    releasers.register({
      name: 'quick',
      release: async (_level, signal) => {
        seen = signal;
        await Promise.resolve();
        return 10;
      },
    });

    const [result] = await releasers.run('moderate', 'test');

    assert.equal(result?.ok, true);
    assert.equal(result?.reportedBytes, 10);
    assert.equal(seen?.aborted, false);
  });

  test('abandoned releaser is skipped until it settles', async () => {
    const releasers = registry({ timeoutMs: 50 });
    let finish: (() => void) | undefined;
    let calls = 0;
    releasers.register({
      name: 'slow',
      release: () => {
        calls++;
        return new Promise<void>((resolve) => {
          finish = resolve;
        });
      },
    });

    const [first] = await releasers.run('moderate', 'test');
    const [second] = await releasers.run('moderate', 'test');

    assert.equal(first?.timedOut, true);
    assert.equal(second?.skipped, 'still-running');
    assert.equal(calls, 1);

    finish?.();
    await new Promise((resolve) => setImmediate(resolve));
    const third = releasers.run('moderate', 'test');
    finish?.();
    const [result] = await third;

    assert.equal(calls, 2);
    assert.equal(result?.skipped, null);
    assert.equal(result?.ok, true);
    assert.equal(releasers.stats()[0]?.skips, 1);
  });

  test('durations come from the injected clock', async () => {
    const clock = new ScriptedClock();
    const releasers = registry({ clock });
    releasers.register({ name: 'takes-7-ms', release: () => clock.advance(7) });

    const [result] = await releasers.run('moderate', 'test');

    assert.equal(result?.durationMs, 7);
    assert.equal(releasers.stats()[0]?.totalDurationMs, 7);
  });

  test('invalid return value counts as an error', async () => {
    const releasers = registry();
    releasers.register({ name: 'negative', release: () => -1 });
    releasers.register({ name: 'not-a-number', release: () => 'freed' as unknown as number });

    const results = await releasers.run('moderate', 'test');

    assert.equal(results[0]?.ok, false);
    assert.match(results[0]?.error ?? '', /returned -1 \(number\)/);
    assert.equal(results[1]?.ok, false);
    assert.match(results[1]?.error ?? '', /returned "freed" \(string\)/);
    assert.deepEqual(
      releasers.stats().map((entry) => entry.errors),
      [1, 1],
    );
  });

  test('skip test marks releasers not-paying', async () => {
    const releasers = registry();
    const calls: string[] = [];
    releasers.register({ name: 'a', release: () => void calls.push('a') });
    releasers.register({ name: 'b', release: () => void calls.push('b') });

    const results = await releasers.run('high', 'test', { skip: (name) => name === 'a' });

    assert.deepEqual(calls, ['b']);
    assert.equal(results[0]?.skipped, 'not-paying');
    assert.equal(results[1]?.skipped, null);
  });

  test('duplicate names are rejected', () => {
    const releasers = registry();
    releasers.register({ name: 'cache', release: () => {} });

    assert.throws(() => releasers.register({ name: 'cache', release: () => {} }), {
      name: 'RangeError',
      message: /`releaser\.name`.*not already registered.*"cache"/,
    });
  });

  test('unregister removes only its own registration', async () => {
    const releasers = registry();
    const unregisterFirst = releasers.register({ name: 'cache', release: () => {} });

    assert.equal(unregisterFirst(), true);
    assert.equal(releasers.has('cache'), false);

    releasers.register({ name: 'cache', release: () => {} });
    assert.equal(unregisterFirst(), false);
    assert.equal(releasers.has('cache'), true);
    assert.equal(releasers.size, 1);
  });

  test('releaser unregistered during a run is not called', async () => {
    const releasers = registry();
    const calls: string[] = [];
    let unregisterSecond: () => boolean = () => false;
    releasers.register({ name: 'first', priority: 1, release: () => void unregisterSecond() });
    unregisterSecond = releasers.register({ name: 'second', release: () => void calls.push('second') });

    const results = await releasers.run('moderate', 'test');

    assert.deepEqual(calls, []);
    assert.equal(results.length, 1);
  });

  test('registry is bounded by maxReleasers', () => {
    const releasers = registry({ maxReleasers: 2 });
    releasers.register({ name: 'a', release: () => {} });
    releasers.register({ name: 'b', release: () => {} });

    assert.throws(() => releasers.register({ name: 'c', release: () => {} }), { name: 'RangeError', message: /at most 2 registered releasers/ });
  });

  test('invalid definitions name the field', () => {
    const releasers = registry();
    const cases: Array<[unknown, RegExp]> = [
      [{ name: '', release: () => {} }, /`releaser\.name`/],
      [{ name: 'a', priority: 'first', release: () => {} }, /`releaser\.priority`.*"first" \(string\)/],
      [{ name: 'a', priority: Number.NaN, release: () => {} }, /`releaser\.priority`/],
      [{ name: 'a', minLevel: 'normal', release: () => {} }, /`releaser\.minLevel`.*"normal"/],
      [{ name: 'a' }, /`releaser\.release`.*undefined/],
      [{ name: 'a', release: () => {}, level: 'high' }, /`releaser\.level`/],
      [null, /`releaser`/],
    ];

    for (const [definition, message] of cases) {
      assert.throws(() => releasers.register(definition as never), { message });
    }
    assert.equal(releasers.size, 0);
  });

  test('invalid registry options name the option', () => {
    assert.throws(() => createReleaserRegistry({ timeoutMs: 0 }), { name: 'RangeError', message: /`timeoutMs`.*0 \(number\)/ });
    assert.throws(() => createReleaserRegistry({ maxReleasers: 1.5 }), { name: 'RangeError', message: /`maxReleasers`/ });
    assert.throws(() => createReleaserRegistry({ logger: {} as never }), { name: 'TypeError', message: /`logger`/ });
    assert.throws(() => createReleaserRegistry({ timeout: 5 } as never), { name: 'TypeError', message: /`options\.timeout`/ });
  });

  test('run rejects invalid arguments', async () => {
    const releasers = registry();

    await assert.rejects(releasers.run('severe' as never, 'test'), { name: 'RangeError', message: /`level`.*"severe"/ });
    await assert.rejects(releasers.run('high', 42 as never), { name: 'TypeError', message: /`trigger`.*42 \(number\)/ });
  });

  test('timeoutMs accepts a duration string', () => {
    assert.equal(createReleaserRegistry({ timeoutMs: '2s', logger: silentLogger }).timeoutMs, 2000);
  });
});
