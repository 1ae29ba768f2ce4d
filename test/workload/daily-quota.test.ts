import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { silentLogger } from '../../src/util/logger.js';
import { DailyQuota } from '../../src/workload/daily-quota.js';
import { createWorkloadGovernor, type WorkloadGovernor } from '../../src/workload/governor.js';
import { ScriptedClock } from '../helpers/scripted.js';
import { settle } from './helpers.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Returns a scripted clock whose wall time starts at `iso`. */
function clockAt(iso: string): ScriptedClock {
  const clock = new ScriptedClock();
  clock.epochStartMs = Date.parse(iso);
  return clock;
}

const governors: WorkloadGovernor[] = [];
afterEach(() => {
  for (const governor of governors.splice(0)) governor.stop();
});

describe('daily quota, calendar day', () => {
  test('resets at UTC midnight', () => {
    const clock = clockAt('2024-05-10T22:00:00Z');
    const quota = new DailyQuota({ limit: 2, window: 'calendar-day', timeZone: 'UTC' }, clock);

    assert.equal(quota.resetsAt(), null);
    assert.equal(quota.take(), true);
    assert.equal(quota.take(), true);
    assert.equal(quota.take(), false);
    assert.equal(quota.left(), 0);
    assert.equal(quota.resetsAt(), Date.parse('2024-05-11T00:00:00Z'));

    clock.advance(2 * HOUR_MS - 1);
    assert.equal(quota.left(), 0, 'one millisecond before midnight the day is still full');

    clock.advance(1);
    assert.equal(quota.left(), 2);
    assert.equal(quota.resetsAt(), null);
  });

  test('midnight of the configured time zone', () => {
    // 22:00 UTC on 10 May is 18:00 in New York (UTC-4 in May): midnight there is 04:00 UTC.
    const clock = clockAt('2024-05-10T22:00:00Z');
    const quota = new DailyQuota({ limit: 1, window: 'calendar-day', timeZone: 'America/New_York' }, clock);
    quota.take();

    assert.equal(quota.resetsAt(), Date.parse('2024-05-11T04:00:00Z'));

    clock.advance(2 * HOUR_MS);
    assert.equal(quota.left(), 0, 'midnight UTC does not reset a New York day');

    clock.advance(4 * HOUR_MS);
    assert.equal(quota.left(), 1);
  });

  test('23-hour day at a daylight-saving change', () => {
    // Paris moves from UTC+1 to UTC+2 on 31 March 2024; the next midnight is 22:00 UTC that day.
    const clock = clockAt('2024-03-30T23:30:00Z');
    const quota = new DailyQuota({ limit: 1, window: 'calendar-day', timeZone: 'Europe/Paris' }, clock);
    quota.take();

    assert.equal(quota.resetsAt(), Date.parse('2024-03-31T22:00:00Z'));
  });
});

describe('daily quota, rolling 24 h', () => {
  test('frees each start 24 h later', () => {
    const clock = clockAt('2024-05-10T22:00:00Z');
    const quota = new DailyQuota({ limit: 2, window: 'rolling-24h', timeZone: 'UTC' }, clock);
    const firstMs = clock.epochNow();
    quota.take();
    clock.advance(HOUR_MS);
    quota.take();

    assert.equal(quota.left(), 0);
    assert.equal(quota.resetsAt(), firstMs + DAY_MS);

    clock.advance(2 * HOUR_MS);
    assert.equal(quota.left(), 0, 'midnight does not reset a rolling window');

    clock.advance(DAY_MS - 3 * HOUR_MS);
    assert.equal(quota.left(), 1, 'the first start has left the window');
    assert.equal(quota.resetsAt(), firstMs + HOUR_MS + DAY_MS);

    clock.advance(HOUR_MS);
    assert.equal(quota.left(), 2);
  });
});

describe('governor daily limit', () => {
  test('blocks starts until the day ends', async () => {
    const clock = clockAt('2024-05-10T23:00:00Z');
    const governor = createWorkloadGovernor({ clock, logger: silentLogger, dailyLimit: 3 });
    governors.push(governor);
    for (let index = 0; index < 5; index++) governor.submit({ run: () => {} });
    governor.start();
    await settle();

    assert.equal(governor.stats().done, 3);
    assert.equal(governor.stats().queued, 2);
    assert.equal(governor.stats().quotaLeft, 0);
    assert.equal(governor.stats().quotaResetsAt, Date.parse('2024-05-11T00:00:00Z'));

    governor.checkNow();
    assert.equal(governor.stats().queued, 2, 'a health check before midnight starts nothing');

    clock.advance(HOUR_MS);
    governor.checkNow();
    await settle();

    assert.equal(governor.stats().done, 5);
    assert.equal(governor.stats().queued, 0);
    assert.equal(governor.stats().quotaLeft, 1);
  });

  test('re-queued attempt counts again', async () => {
    const clock = clockAt('2024-05-10T12:00:00Z');
    const governor = createWorkloadGovernor({ clock, logger: silentLogger, dailyLimit: 2 }).start();
    governors.push(governor);
    const record = governor.submit({ run: (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))) });
    governor.cancel(record.id);
    await settle();

    governor.requeue(record.id);

    assert.equal(governor.stats().quotaLeft, 0);
  });
});
