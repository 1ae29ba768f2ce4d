import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_THRESHOLDS } from '../../src/analysis/pressure.js';
import { resolveOptions, type MemoryManagerOptions } from '../../src/manager/options.js';
import { systemClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/logger.js';
import { ScriptedClock, ScriptedProbe } from '../helpers/scripted.js';

const MIB = 2 ** 20;

/** Resolves options a caller could pass from plain JavaScript, bypassing the option types. */
function resolveUntyped(options: Record<string, unknown>): ReturnType<typeof resolveOptions> {
  return resolveOptions({ logger: silentLogger, ...options } as MemoryManagerOptions);
}

/** Asserts that the options throw `errorClass` and that the message contains each fragment. */
function assertRejected(options: Record<string, unknown>, errorClass: typeof TypeError | typeof RangeError, fragments: string[]): void {
  let caught: unknown = null;
  try {
    resolveUntyped(options);
  } catch (err) {
    caught = err;
  }

  assert.ok(caught instanceof Error, `expected ${errorClass.name} for ${JSON.stringify(options)}, nothing was thrown`);
  assert.equal(caught.constructor, errorClass, `error class for ${JSON.stringify(options)}: ${caught.message}`);
  for (const fragment of fragments) {
    assert.ok(caught.message.includes(fragment), `message ${JSON.stringify(caught.message)} lacks ${JSON.stringify(fragment)}`);
  }
}

describe('resolveOptions defaults', () => {
  it('fills every option when none is given', () => {
    const resolved = resolveOptions({ logger: silentLogger });

    assert.equal(resolved.intervalMs, 1000);
    assert.equal(resolved.configuredLimitBytes, null);
    assert.deepEqual(resolved.thresholds, DEFAULT_THRESHOLDS);
    assert.equal(resolved.hysteresisRatio, 0.05);
    assert.equal(resolved.warmUpMs, 5000);
    assert.equal(resolved.limitRefreshMs, 30_000);
    assert.equal(resolved.arrayBuffersEverySamples, 5);
    assert.equal(resolved.eventLoopResolutionMs, 200);
    assert.equal(resolved.logger, silentLogger);
    assert.equal(resolved.clock, systemClock);
    assert.equal(resolved.probe, null);
  });

  it('creates a default logger when none is given', () => {
    const { logger } = resolveOptions();

    for (const method of ['debug', 'info', 'warn', 'error'] as const) {
      assert.equal(typeof logger[method], 'function', method);
    }
  });

  it('returns a copy of the default thresholds', () => {
    const resolved = resolveOptions({ logger: silentLogger });
    resolved.thresholds.moderate = 0.1;

    assert.equal(DEFAULT_THRESHOLDS.moderate, 0.7);
  });
});

describe('resolveOptions with valid values', () => {
  it('parses duration strings', () => {
    const resolved = resolveOptions({ logger: silentLogger, intervalMs: '250ms', warmUpMs: '30s', limitRefreshMs: '5m' });

    assert.equal(resolved.intervalMs, 250);
    assert.equal(resolved.warmUpMs, 30_000);
    assert.equal(resolved.limitRefreshMs, 300_000);
  });

  it('takes durations as milliseconds', () => {
    const resolved = resolveOptions({ logger: silentLogger, intervalMs: 2000, warmUpMs: 0 });

    assert.equal(resolved.intervalMs, 2000);
    assert.equal(resolved.warmUpMs, 0);
  });

  it('accepts the interval bounds', () => {
    assert.equal(resolveOptions({ logger: silentLogger, intervalMs: 10 }).intervalMs, 10);
    assert.equal(resolveOptions({ logger: silentLogger, intervalMs: '1h' }).intervalMs, 3_600_000);
  });

  it('parses limit sizes', () => {
    const cases: Array<[number | string | null, number | null]> = [
      ['512MiB', 512 * MIB],
      ['1.5GB', 1_500_000_000],
      ['256m', 256 * MIB],
      [1024 * MIB, 1024 * MIB],
      ['1MiB', MIB],
      [null, null],
    ];

    for (const [limit, expected] of cases) {
      assert.equal(resolveOptions({ logger: silentLogger, limit }).configuredLimitBytes, expected, `limit ${JSON.stringify(limit)}`);
    }
  });

  it('merges partial thresholds with the defaults', () => {
    const resolved = resolveOptions({ logger: silentLogger, thresholds: { critical: 0.95 } });

    assert.deepEqual(resolved.thresholds, { moderate: 0.7, high: 0.8, critical: 0.95 });
  });

  it('accepts a hysteresis just below moderate', () => {
    const resolved = resolveOptions({ logger: silentLogger, thresholds: { moderate: 0.3 }, hysteresisRatio: 0.29 });

    assert.equal(resolved.hysteresisRatio, 0.29);
  });

  it('keeps an injected clock and probe', () => {
    const clock = new ScriptedClock();
    const probe = new ScriptedProbe();
    const resolved = resolveOptions({ logger: silentLogger, clock, probe });

    assert.equal(resolved.clock, clock);
    assert.equal(resolved.probe, probe);
  });
});

describe('resolveOptions with invalid values', () => {
  it('rejects options that are not an object', () => {
    assert.throws(() => resolveOptions(null as unknown as MemoryManagerOptions), {
      name: 'TypeError',
      message: 'Invalid option `options`: expected an object, got null',
    });
  });

  it('rejects an interval below 10 ms', () => {
    assertRejected({ intervalMs: 5 }, RangeError, ['`intervalMs`', 'from 10 ms to 3600000 ms', 'got 5 (number)']);
  });

  it('rejects an interval above one hour', () => {
    assertRejected({ intervalMs: '2h' }, RangeError, ['`intervalMs`', 'from 10 ms to 3600000 ms', 'got "2h" (string)']);
  });

  it('rejects an interval that is not a duration', () => {
    assertRejected({ intervalMs: 'fast' }, RangeError, ['`intervalMs`', 'a duration', '"250ms"', 'got "fast" (string)']);
  });

  it('rejects an interval of the wrong type', () => {
    assertRejected({ intervalMs: {} }, TypeError, ['`intervalMs`', 'a duration', 'got an object']);
    assertRejected({ intervalMs: true }, TypeError, ['`intervalMs`', 'got true (boolean)']);
  });

  it('rejects NaN as an interval', () => {
    assertRejected({ intervalMs: Number.NaN }, RangeError, ['`intervalMs`', 'got NaN (number)']);
  });

  it('rejects other durations out of range', () => {
    assertRejected({ warmUpMs: -1 }, RangeError, ['`warmUpMs`', 'from 0 ms to 3600000 ms', 'got -1 (number)']);
    assertRejected({ limitRefreshMs: '500ms' }, RangeError, ['`limitRefreshMs`', 'from 1000 ms', 'got "500ms" (string)']);
  });

  it('rejects a non-object leakDetection', () => {
    assertRejected({ leakDetection: 'yes' as never }, TypeError, ['`leakDetection`', 'an object of leak detection options, or false', 'got "yes" (string)']);
    assertRejected({ leakDetection: true as never }, TypeError, ['`leakDetection`', 'got true (boolean)']);
  });

  it('prefixes nested leakDetection errors', () => {
    assertRejected({ leakDetection: { windowMs: 10_000, shortWindowMs: 20_000 } }, RangeError, [
      '`leakDetection.shortWindowMs`',
      'from minSpanMs (10000 ms) to windowMs (10000 ms)',
      'got 20000 (number)',
    ]);
    assertRejected({ leakDetection: { window: 60_000 } as never }, TypeError, ['`leakDetection.window`', 'known options']);
  });

  it('keeps valid leakDetection values', () => {
    assert.deepEqual(resolveOptions({ leakDetection: { windowMs: '2m' } }).leakDetection, { windowMs: '2m' });
    assert.equal(resolveOptions({ leakDetection: false }).leakDetection, false);
  });

  it('rejects a limit that is not a size', () => {
    assertRejected({ limit: 'lots' }, RangeError, ['`limit`', 'a size of at least 1048576 bytes', 'got "lots" (string)']);
  });

  it('rejects a limit below 1 MiB', () => {
    assertRejected({ limit: 1000 }, RangeError, ['`limit`', 'at least 1048576 bytes', 'got 1000 (number)']);
    assertRejected({ limit: 0 }, RangeError, ['`limit`', 'got 0 (number)']);
  });

  it('rejects a limit of the wrong type', () => {
    assertRejected({ limit: false }, TypeError, ['`limit`', 'or null for none', 'got false (boolean)']);
  });

  it('rejects an unknown threshold name', () => {
    assertRejected({ thresholds: { hi: 0.8 } }, TypeError, ['`thresholds.hi`', 'one of moderate, high, critical', 'got 0.8 (number)']);
  });

  it('rejects thresholds given as an array', () => {
    assertRejected({ thresholds: [0.7, 0.8, 0.9] }, TypeError, ['`thresholds`', 'an object with moderate, high and critical ratios', 'got an array of 3']);
  });

  it('rejects thresholds out of order', () => {
    assertRejected({ thresholds: { moderate: 0.85 } }, RangeError, [
      '`thresholds`',
      'moderate < high < critical',
      'got moderate 0.85, high 0.8, critical 0.9',
    ]);
    assertRejected({ thresholds: { moderate: 0.5, high: 0.9, critical: 0.9 } }, RangeError, ['got moderate 0.5, high 0.9, critical 0.9']);
  });

  it('rejects a threshold out of range', () => {
    assertRejected({ thresholds: { critical: 1.5 } }, RangeError, ['`thresholds.critical`', 'a number from 0.01 to 1', 'got 1.5 (number)']);
    assertRejected({ thresholds: { moderate: 0 } }, RangeError, ['`thresholds.moderate`', 'got 0 (number)']);
  });

  it('rejects a threshold of the wrong type', () => {
    assertRejected({ thresholds: { high: '0.8' } }, TypeError, ['`thresholds.high`', 'got "0.8" (string)']);
    assertRejected({ thresholds: 'strict' }, TypeError, ['`thresholds`', 'moderate, high and critical', 'got "strict" (string)']);
    assertRejected({ thresholds: null }, TypeError, ['`thresholds`', 'got null']);
  });

  it('rejects a hysteresis at or above moderate', () => {
    assertRejected({ thresholds: { moderate: 0.2 }, hysteresisRatio: 0.3 }, RangeError, [
      '`hysteresisRatio`',
      'below thresholds.moderate (0.2)',
      'got 0.3 (number)',
    ]);
    assertRejected({ thresholds: { moderate: 0.2 }, hysteresisRatio: 0.2 }, RangeError, ['`hysteresisRatio`', 'got 0.2 (number)']);
  });

  it('rejects a hysteresis outside 0 to 0.5', () => {
    assertRejected({ hysteresisRatio: 0.6 }, RangeError, ['`hysteresisRatio`', 'a number from 0 to 0.5', 'got 0.6 (number)']);
    assertRejected({ hysteresisRatio: -0.01 }, RangeError, ['`hysteresisRatio`', 'got -0.01 (number)']);
  });

  it('rejects counts outside integer range', () => {
    assertRejected({ arrayBuffersEverySamples: 0 }, RangeError, ['`arrayBuffersEverySamples`', 'an integer from 1 to 3600', 'got 0 (number)']);
    assertRejected({ arrayBuffersEverySamples: 2.5 }, RangeError, ['`arrayBuffersEverySamples`', 'got 2.5 (number)']);
    assertRejected({ eventLoopResolutionMs: 0 }, RangeError, ['`eventLoopResolutionMs`', 'an integer from 1 to 1000', 'got 0 (number)']);
    assertRejected({ eventLoopResolutionMs: '10ms' }, TypeError, ['`eventLoopResolutionMs`', 'got "10ms" (string)']);
  });

  it('rejects an unknown option key', () => {
    assertRejected({ interval: 1000 }, TypeError, ['`interval`', 'one of the known options', 'intervalMs', 'got 1000 (number)']);
  });

  it('rejects a logger without the four methods', () => {
    assertRejected({ logger: {} }, TypeError, ['`logger`', 'debug, info, warn and error methods', 'got an object']);
    assertRejected({ logger: { info: () => {}, warn: () => {}, error: () => {} } }, TypeError, ['`logger`', 'got an object']);
    assertRejected({ logger: 'pino' }, TypeError, ['`logger`', 'got "pino" (string)']);
    assertRejected({ logger: null }, TypeError, ['`logger`', 'got null']);
  });

  it('rejects a clock without now and epochNow', () => {
    assertRejected({ clock: { now: () => 0 } }, TypeError, ['`clock`', 'now() and epochNow()', 'got an object']);
  });

  it('rejects a probe without every method', () => {
    const { limits: _limits, ...incomplete } = {
      start() {},
      stop() {},
      heap() {},
      heapSpaces() {},
      rssBytes() {},
      arrayBuffersBytes() {},
      gcSinceLast() {},
      eventLoopSinceLast() {},
      limits() {},
    };

    assertRejected({ probe: incomplete }, TypeError, ['`probe`', 'limits', 'got an object']);
  });
});
