import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { PressureLevel } from '../../src/analysis/levels.js';
import { createMemoryManager } from '../../src/manager/manager.js';
import { createHistoryStore, type HistorySampleInput, type HistoryStoreOptions } from '../../src/store/history-store.js';
import { openDatabase, type StoreDatabase } from '../../src/store/open.js';
import { silentLogger } from '../../src/util/logger.js';
import { ScriptedClock, ScriptedProbe } from '../helpers/scripted.js';

const MIB = 2 ** 20;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** A midnight, so minute buckets start at round offsets. */
const START_MS = Date.parse('2024-05-10T00:00:00Z');

const databases: StoreDatabase[] = [];
after(() => {
  for (const database of databases) database.close();
});

function setup(options: Partial<HistoryStoreOptions> = {}) {
  const database = openDatabase({ path: ':memory:' });
  databases.push(database);
  const clock = new ScriptedClock();
  clock.epochStartMs = START_MS;
  const history = createHistoryStore({ database, clock, logger: silentLogger, ...options });
  return { database, clock, history };
}

function sample(time: number, usageRatio: number, level: PressureLevel = 'normal', extra: Partial<HistorySampleInput> = {}): HistorySampleInput {
  return {
    time,
    intervalMs: 1000,
    level,
    heapUsageRatio: usageRatio,
    processUsageRatio: null,
    heapUsedBytes: 100 * MIB,
    rssBytes: 200 * MIB,
    externalBytes: MIB,
    gc: { count: 1, pauseMs: 2 },
    ...extra,
  };
}

/** Returns the level of a usage ratio at the default thresholds 0.7, 0.8 and 0.9. */
function levelFor(ratio: number): PressureLevel {
  if (ratio >= 0.9) return 'critical';
  if (ratio >= 0.8) return 'high';
  if (ratio >= 0.7) return 'moderate';
  return 'normal';
}

function count(database: StoreDatabase, table: string): number {
  return (database.connection.prepare(`SELECT count(*) AS rows FROM ${table}`).get() as { rows: number }).rows;
}

describe('history summary', () => {
  test('raw samples summarized', () => {
    const { history } = setup();
    const levels: PressureLevel[] = [...Array<PressureLevel>(10).fill('normal'), ...Array<PressureLevel>(5).fill('moderate'), 'high', 'high', 'high', 'critical', 'critical'];
    levels.forEach((level, index) => {
      const ratio = index === 19 ? 0.9 : 0.5;
      history.recordSample(sample(START_MS + index * 1000, ratio, level, { heapUsedBytes: (100 + index) * MIB, rssBytes: (200 + index) * MIB }));
    });

    const summary = history.summarize({ fromMs: START_MS, toMs: START_MS + MINUTE_MS });

    assert.equal(summary.samples, 20);
    assert.equal(summary.rolledUpSamples, 0);
    assert.deepEqual(summary.usageRatio, { min: 0.5, mean: (19 * 0.5 + 0.9) / 20, max: 0.9, p95: 0.51 });
    assert.deepEqual(summary.heapUsedBytes, { min: 100 * MIB, mean: 109.5 * MIB, max: 119 * MIB });
    assert.deepEqual(summary.rssBytes, { min: 200 * MIB, mean: 209.5 * MIB, max: 219 * MIB });
    assert.deepEqual(summary.timeAtLevelMs, { normal: 10_000, moderate: 5000, high: 3000, critical: 2000 });
    assert.deepEqual(summary.gc, { count: 20, pauseMs: 40 });
  });

  test('usage is the larger budget', () => {
    const { history } = setup();
    history.recordSample(sample(START_MS, 0.2, 'critical', { processUsageRatio: 0.93 }));

    assert.equal(history.summarize({ fromMs: START_MS, toMs: START_MS + 1 }).usageRatio?.max, 0.93);
  });

  test('empty window', () => {
    const { history } = setup();
    const summary = history.summarize({ fromMs: START_MS, toMs: START_MS + HOUR_MS });

    assert.equal(summary.samples, 0);
    assert.equal(summary.usageRatio, null);
    assert.equal(summary.heapUsedBytes, null);
    assert.deepEqual(summary.timeAtLevelMs, { normal: 0, moderate: 0, high: 0, critical: 0 });
    assert.deepEqual(summary.actions, { count: 0, byName: {} });
  });

  test('window excludes samples outside it', () => {
    const { history } = setup();
    history.recordSample(sample(START_MS - 1, 0.9));
    history.recordSample(sample(START_MS, 0.3));
    history.recordSample(sample(START_MS + 1000, 0.9));

    const summary = history.summarize({ fromMs: START_MS, toMs: START_MS + 1000 });
    assert.equal(summary.samples, 1);
    assert.equal(summary.usageRatio?.max, 0.3);
  });

  test('default window is the last hour', () => {
    const { history, clock } = setup();
    clock.advance(2 * HOUR_MS);
    history.recordSample(sample(START_MS + 30 * MINUTE_MS, 0.9));
    history.recordSample(sample(START_MS + 90 * MINUTE_MS, 0.4));

    const summary = history.summarize();
    assert.equal(summary.fromMs, START_MS + HOUR_MS);
    assert.equal(summary.toMs, START_MS + 2 * HOUR_MS);
    assert.equal(summary.samples, 1);
  });

  test('events counted by type and name', () => {
    const { history } = setup();
    const at = (seconds: number) => START_MS + seconds * 1000;
    history.recordEvent({ type: 'pressure', time: at(1), from: 'normal', to: 'high' });
    history.recordEvent({ type: 'pressure', time: at(2), from: 'high', to: 'normal' });
    history.recordEvent({ type: 'action', time: at(3), action: 'relieve', reclaimedBytes: 10 });
    history.recordEvent({ type: 'action', time: at(4), action: 'relieve', reclaimedBytes: 20 });
    history.recordEvent({ type: 'action', time: at(5), action: 'forced-gc' });
    history.recordEvent({ type: 'leak', time: at(6), kind: 'heap', rateBytesPerSecond: 1000 });
    history.recordEvent({ type: 'leak', time: at(7), kind: 'external', rateBytesPerSecond: 500 });
    history.recordEvent({ type: 'leak-cleared', time: at(8), kind: 'heap', reason: 'freed' });

    const summary = history.summarize({ fromMs: START_MS, toMs: at(60) });

    assert.equal(summary.pressureChanges, 2);
    assert.deepEqual(summary.actions, { count: 3, byName: { relieve: 2, 'forced-gc': 1 } });
    assert.equal(summary.leaks.count, 2);
    assert.equal(summary.leaks.cleared, 1);
    assert.deepEqual(
      summary.leaks.events.map((event) => [event.kind, event.time]),
      [
        ['external', at(7)],
        ['heap', at(6)],
      ],
    );
  });

  test('oversized event stored cut', () => {
    const { history } = setup({ maxEventBytes: 100 });
    history.recordEvent({ type: 'leak', time: START_MS, kind: 'heap', evidence: 'x'.repeat(500) });

    assert.deepEqual(history.summarize({ fromMs: START_MS, toMs: START_MS + 1 }).leaks.events, [{ type: 'leak', time: START_MS, truncated: true }]);
  });

  test('manager sample accepted as is', () => {
    const { history } = setup();
    const clock = new ScriptedClock();
    clock.epochStartMs = START_MS;
    const probe = new ScriptedProbe();
    const manager = createMemoryManager({ clock, probe, logger: silentLogger, warmUpMs: 0 });
    probe.setHeapRatio(0.5);
    clock.advance(1000);

    history.recordSample(manager.sampleNow());

    const summary = history.summarize({ fromMs: START_MS, toMs: START_MS + MINUTE_MS });
    assert.equal(summary.samples, 1);
    assert.equal(summary.heapUsedBytes?.max, probe.heapReading.usedBytes);
  });
});

describe('history downsampling', () => {
  /** Three hours at one sample per 10 s, with usage that rises and falls. */
  function recordThreeHours(history: ReturnType<typeof setup>['history']): number {
    let samples = 0;
    for (let time = START_MS; time < START_MS + 3 * HOUR_MS; time += 10_000) {
      const ratio = Math.round((0.55 + 0.4 * Math.sin(samples / 50)) * 1000) / 1000;
      const level = levelFor(ratio);
      history.recordSample(sample(time, ratio, level, { intervalMs: 10_000, heapUsedBytes: Math.round(ratio * 500 * MIB), gc: { count: samples % 3, pauseMs: 1.5 } }));
      samples++;
    }
    return samples;
  }

  test('rollups keep the summary', () => {
    const { history, clock, database } = setup();
    const total = recordThreeHours(history);
    clock.advance(3 * HOUR_MS);
    const window = { fromMs: START_MS, toMs: START_MS + 3 * HOUR_MS };
    const before = history.summarize(window);

    const result = history.maintain();
    const afterRollup = history.summarize(window);

    assert.equal(result.rolledUp, total - 360, 'samples older than one hour are folded');
    assert.equal(count(database, 'samples'), 360);
    assert.equal(count(database, 'sample_rollups'), 120, 'two hours of 1-minute buckets');
    assert.equal(afterRollup.rolledUpSamples, total - 360);
    assert.equal(afterRollup.samples, before.samples);
    assert.equal(afterRollup.usageRatio?.min, before.usageRatio?.min);
    assert.equal(afterRollup.usageRatio?.max, before.usageRatio?.max);
    assert.equal(afterRollup.usageRatio?.p95, before.usageRatio?.p95);
    assert.ok(Math.abs((afterRollup.usageRatio?.mean ?? 0) - (before.usageRatio?.mean ?? 1)) < 1e-9);
    assert.equal(afterRollup.heapUsedBytes?.max, before.heapUsedBytes?.max);
    assert.deepEqual(afterRollup.timeAtLevelMs, before.timeAtLevelMs);
    assert.equal(afterRollup.gc.count, before.gc.count);
    assert.ok(Math.abs(afterRollup.gc.pauseMs - before.gc.pauseMs) < 1e-6);
  });

  test('rollup bucket figures', () => {
    const { history, clock, database } = setup();
    for (let second = 0; second < 60; second += 10) {
      history.recordSample(sample(START_MS + second * 1000, 0.5 + second / 1000, second === 50 ? 'high' : 'normal', { intervalMs: 10_000 }));
    }
    clock.advance(HOUR_MS + MINUTE_MS);
    history.maintain();

    const row = database.connection.prepare('SELECT * FROM sample_rollups').get() as Record<string, number | string>;
    assert.equal(row.bucket_start, START_MS);
    assert.equal(row.bucket_ms, MINUTE_MS);
    assert.equal(row.samples, 6);
    assert.equal(row.usage_min, 0.5);
    assert.equal(row.usage_max, 0.55);
    assert.equal(row.normal_ms, 50_000);
    assert.equal(row.high_ms, 10_000);
    assert.deepEqual(JSON.parse(row.usage_histogram as string), { '50': 1, '51': 1, '52': 1, '53': 1, '54': 1, '55': 1 });
  });

  test('only whole buckets folded', () => {
    const { history, clock, database } = setup();
    history.recordSample(sample(START_MS + 10_000, 0.5));
    history.recordSample(sample(START_MS + 70_000, 0.5));
    // One hour and 90 s later, the cutoff rounds down to START + 60 s.
    clock.advance(HOUR_MS + 90_000);

    assert.equal(history.maintain().rolledUp, 1);
    assert.equal(count(database, 'samples'), 1);
  });

  test('late sample merged into its bucket', () => {
    const { history, clock, database } = setup();
    history.recordSample(sample(START_MS + 1000, 0.5));
    clock.advance(2 * HOUR_MS);
    history.maintain();

    history.recordSample(sample(START_MS + 2000, 0.8, 'high'));
    history.maintain();

    const row = database.connection.prepare('SELECT samples, usage_min, usage_max, high_ms FROM sample_rollups').get();
    assert.deepEqual(row, { samples: 2, usage_min: 0.5, usage_max: 0.8, high_ms: 1000 });
  });

  test('retention deletes old rollups and events', () => {
    const { history, clock, database } = setup();
    history.recordSample(sample(START_MS, 0.5));
    history.recordSample(sample(START_MS + 2 * DAY_MS, 0.5));
    history.recordEvent({ type: 'pressure', time: START_MS, to: 'high' });
    history.recordEvent({ type: 'pressure', time: START_MS + 2 * DAY_MS, to: 'high' });
    clock.advance(7 * DAY_MS + HOUR_MS);

    const result = history.maintain();

    assert.deepEqual(result, { rolledUp: 2, deletedRollups: 1, deletedEvents: 1 });
    assert.equal(count(database, 'sample_rollups'), 1);
    assert.equal(count(database, 'events'), 1);
  });

  test('windows configurable', () => {
    const { history, clock, database } = setup({ rawRetentionMs: '10m', rollupBucketMs: '5m' });
    for (let minute = 0; minute < 30; minute++) history.recordSample(sample(START_MS + minute * MINUTE_MS, 0.5));
    clock.advance(30 * MINUTE_MS);

    assert.equal(history.maintain().rolledUp, 20);
    const buckets = database.connection.prepare('SELECT bucket_start, bucket_ms, samples FROM sample_rollups ORDER BY bucket_start').all() as Array<{ bucket_start: number; bucket_ms: number; samples: number }>;
    assert.deepEqual(
      buckets.map((bucket) => [(bucket.bucket_start - START_MS) / MINUTE_MS, bucket.bucket_ms, bucket.samples]),
      [
        [0, 300_000, 5],
        [5, 300_000, 5],
        [10, 300_000, 5],
        [15, 300_000, 5],
      ],
    );
  });
});

describe('history store lifecycle', () => {
  test('writes in batches', () => {
    const { history, database } = setup({ batchSize: 3 });
    history.recordSample(sample(START_MS, 0.5));
    history.recordEvent({ type: 'pressure', time: START_MS, to: 'high' });
    assert.equal(count(database, 'samples') + count(database, 'events'), 0);

    history.recordSample(sample(START_MS + 1000, 0.5));

    assert.equal(count(database, 'samples'), 2);
    assert.equal(count(database, 'events'), 1);
    assert.equal(history.stats().pending, 0);
  });

  test('trim writes pending rows', () => {
    const { history } = setup();
    history.recordSample(sample(START_MS, 0.5));

    assert.deepEqual(history.trim('normal'), { items: 0, bytes: null });
    assert.deepEqual(history.trim('high'), { items: 1, bytes: null });
    assert.equal(history.stats().pending, 0);
  });

  test('maintenance timer runs until close', (context) => {
    context.mock.timers.enable({ apis: ['setTimeout'] });
    const { history } = setup({ maintenanceIntervalMs: '60s' });
    history.start();

    context.mock.timers.tick(60_000);
    context.mock.timers.tick(60_000);
    assert.equal(history.stats().maintenanceRuns, 2);

    history.close();
    context.mock.timers.tick(600_000);
    assert.equal(history.stats().maintenanceRuns, 2);
    assert.throws(() => history.recordSample(sample(START_MS, 0.5)), /history store is closed/);
  });

  test('invalid input rejected', () => {
    const { history, database } = setup();
    assert.throws(() => history.recordSample({ time: 'now' } as never), /Invalid option `sample`/);
    assert.throws(() => history.recordSample(sample(START_MS, 0.5, 'severe' as never)), /Invalid option `sample`/);
    assert.throws(() => history.recordEvent({ time: 1 } as never), /Invalid option `event`/);
    assert.throws(() => history.summarize({ fromMs: 10, toMs: 5 }), /Invalid option `fromMs`/);
    assert.throws(() => createHistoryStore({ database: null } as never), /Invalid option `database`/);
    assert.throws(() => createHistoryStore({ database, rollupBucketMs: 500 }), /Invalid option `rollupBucketMs`/);
  });
});
