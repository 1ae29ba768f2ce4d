import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { PressureLevel } from '../../src/analysis/levels.js';
import { createMemoryManager } from '../../src/manager/manager.js';
import { silentLogger } from '../../src/util/logger.js';
import { createWorkloadGovernor, type WorkloadGovernor } from '../../src/workload/governor.js';
import type { WorkloadGovernorOptions } from '../../src/workload/governor-options.js';
import { JobCancelledError } from '../../src/workload/job-cancelled-error.js';
import type { JobRecord } from '../../src/workload/job-record.js';
import { RecordingLogger } from '../helpers/recording-logger.js';
import { ScriptedClock, ScriptedProbe } from '../helpers/scripted.js';
import { controlledJob, settle, TestPressureSource, type ControlledJob } from './helpers.js';

const governors: WorkloadGovernor[] = [];

afterEach(() => {
  for (const governor of governors.splice(0)) governor.stop();
});

function governor(options: WorkloadGovernorOptions = {}): WorkloadGovernor {
  const created = createWorkloadGovernor({ clock: new ScriptedClock(), logger: silentLogger, ...options });
  governors.push(created);
  return created;
}

function submitMany(target: WorkloadGovernor, count: number, kind = 'job', priority = 0): ControlledJob[] {
  const jobs: ControlledJob[] = [];
  for (let index = 0; index < count; index++) {
    const job = controlledJob(kind, priority);
    target.submit(job.definition);
    jobs.push(job);
  }
  return jobs;
}

describe('workload governor window', () => {
  const cases: Array<[PressureLevel, number]> = [
    ['normal', 5],
    ['moderate', 3],
    ['high', 2],
    ['critical', 0],
  ];

  for (const [level, expected] of cases) {
    test(`runs ${expected} jobs at ${level}`, () => {
      const target = governor({ pressure: new TestPressureSource(level) }).start();
      submitMany(target, 10);

      const stats = target.stats();
      assert.equal(stats.level, level);
      assert.equal(stats.windowSize, expected);
      assert.equal(stats.active, expected);
      assert.equal(stats.queued, 10 - expected);
    });
  }

  test('custom window options apply per level', () => {
    const source = new TestPressureSource();
    const target = governor({ pressure: source, minActive: 1, maxActive: 8, activeAtModerate: 6 }).start();
    const sizes: number[] = [];
    for (const level of ['normal', 'moderate', 'high', 'critical'] as const) {
      source.set(level);
      sizes.push(target.windowSize);
    }

    assert.deepEqual(sizes, [8, 6, 1, 0]);
  });

  test('window grows back when pressure falls', () => {
    const source = new TestPressureSource('high');
    const target = governor({ pressure: source }).start();
    const jobs = submitMany(target, 10);
    assert.equal(target.stats().active, 2);

    source.set('normal');

    assert.equal(target.stats().active, 5);
    assert.equal(jobs.filter((job) => job.runs === 1).length, 5);
  });

  test('high lets running jobs finish', () => {
    const source = new TestPressureSource();
    const target = governor({ pressure: source }).start();
    submitMany(target, 6);

    source.set('high');

    assert.equal(target.stats().active, 5, 'no job is cancelled below critical');
    assert.equal(target.stats().cancelled, 0);
  });

  test('window event on each change', () => {
    const source = new TestPressureSource();
    const target = governor({ pressure: source }).start();
    const events: Array<[string, number, number]> = [];
    target.on('window', (event) => events.push([event.level, event.from, event.to]));

    source.set('moderate');
    source.set('moderate');
    source.set('critical');
    source.set('normal');

    assert.deepEqual(events, [
      ['moderate', 5, 3],
      ['critical', 3, 0],
      ['normal', 0, 5],
    ]);
  });
});

describe('workload governor cancellation', () => {
  test('critical cancels lowest priority first', async () => {
    const source = new TestPressureSource();
    const target = governor({ pressure: source }).start();
    const low = controlledJob('report', -1);
    const middle = controlledJob('sync', 0);
    const high = controlledJob('billing', 10);
    const lowRecord = target.submit(low.definition);
    const middleRecord = target.submit(middle.definition);
    const highRecord = target.submit(high.definition);

    source.set('critical');

    assert.equal(low.signal?.aborted, true);
    assert.equal(middle.signal?.aborted, true);
    assert.equal(high.signal?.aborted, false, 'keepAtCritical 1 keeps the highest priority');
    assert.ok(low.signal?.reason instanceof JobCancelledError);
    assert.equal((low.signal?.reason as JobCancelledError).cancelledBy, 'pressure');
    assert.equal((low.signal?.reason as JobCancelledError).name, 'AbortError');

    await settle();

    const low_ = target.get(lowRecord.id);
    assert.equal(low_?.status, 'cancelled');
    assert.equal(low_?.cancelledBy, 'pressure');
    assert.equal(low_?.reason, 'cancelled at critical memory pressure');
    assert.equal(target.get(middleRecord.id)?.status, 'cancelled');
    assert.equal(target.get(highRecord.id)?.status, 'running');
    assert.equal(target.stats().cancelled, 2);
    assert.equal(target.stats().active, 1);
  });

  test('equal priorities cancel latest started first', async () => {
    const clock = new ScriptedClock();
    const source = new TestPressureSource();
    const target = governor({ pressure: source, clock, minActive: 2, keepAtCritical: 2 }).start();
    const ids: string[] = [];
    for (let index = 0; index < 4; index++) {
      ids.push(target.submit(controlledJob().definition).id);
      clock.advance(1000);
    }

    source.set('critical');
    await settle();

    assert.deepEqual(
      ids.map((id) => target.get(id)?.status),
      ['running', 'running', 'cancelled', 'cancelled'],
    );
  });

  test('job ignoring its signal keeps its slot', async () => {
    const source = new TestPressureSource();
    const target = governor({ pressure: source, keepAtCritical: 0 }).start();
    let finish: () => void = () => {};
    const record = target.submit({ run: () => new Promise<void>((resolve) => (finish = resolve)) });

    source.set('critical');
    await settle();

    assert.equal(target.get(record.id)?.status, 'running', 'the record stays running until run() settles');
    assert.equal(target.stats().active, 1);

    finish();
    await settle();

    assert.equal(target.get(record.id)?.status, 'cancelled', 'a job asked to stop ends cancelled even if it completes');
    assert.equal(target.stats().active, 0);
  });

  test('caller cancels queued and running jobs', async () => {
    const target = governor({ maxActive: 1, minActive: 1 }).start();
    const running = controlledJob();
    const queued = controlledJob();
    const runningRecord = target.submit(running.definition);
    const queuedRecord = target.submit(queued.definition);

    const queuedAfter = target.cancel(queuedRecord.id, 'user pressed stop');
    target.cancel(runningRecord.id);
    await settle();

    assert.equal(queuedAfter.status, 'cancelled');
    assert.equal(queuedAfter.reason, 'user pressed stop');
    assert.equal(queuedAfter.cancelledBy, 'caller');
    assert.equal(queued.runs, 0);
    assert.equal(target.get(runningRecord.id)?.status, 'cancelled');
    assert.equal(target.get(runningRecord.id)?.reason, 'cancelled by the application');
    assert.throws(() => target.cancel(runningRecord.id), /already ended cancelled/);
    assert.throws(() => target.cancel('no-such-id'), /no such job/);
  });

  test('cancelled job requeued runs again', async () => {
    const source = new TestPressureSource();
    const target = governor({ pressure: source, keepAtCritical: 0 }).start();
    const job = controlledJob();
    const record = target.submit(job.definition);
    source.set('critical');
    await settle();
    assert.equal(target.get(record.id)?.status, 'cancelled');

    const requeued = target.requeue(record.id);
    assert.equal(requeued.status, 'queued');
    assert.equal(requeued.attempt, 2);
    assert.equal(requeued.reason, null);
    assert.equal(job.runs, 1, 'no job starts at critical');

    source.set('normal');
    assert.equal(job.runs, 2);
    job.finish();
    await settle();

    const final = target.get(record.id);
    assert.equal(final?.status, 'done');
    assert.equal(final?.attempt, 2);
    assert.equal(target.stats().requeued, 1);
    assert.equal(target.stats().cancelled, 1);
    assert.equal(target.stats().done, 1);
    assert.throws(() => target.requeue(record.id), /only a cancelled job can be re-queued, and it is done/);
  });
});

describe('workload governor records', () => {
  test('every status change emitted', async () => {
    const target = governor().start();
    const seen: JobRecord[] = [];
    target.on('job', (record) => seen.push(record));

    const good = controlledJob('good');
    const bad = controlledJob('bad');
    const goodId = target.submit(good.definition).id;
    const badId = target.submit(bad.definition).id;
    good.finish();
    bad.fail(new Error('upstream returned 503'));
    await settle();

    const statuses = (id: string) => seen.filter((record) => record.id === id).map((record) => record.status);
    assert.deepEqual(statuses(goodId), ['queued', 'running', 'done']);
    assert.deepEqual(statuses(badId), ['queued', 'running', 'failed']);

    const failed = target.get(badId);
    assert.equal(failed?.reason, 'upstream returned 503');
    assert.equal(failed?.kind, 'bad');
    assert.equal(typeof failed?.startedAt, 'number');
    assert.equal(typeof failed?.finishedAt, 'number');
    assert.equal(target.get(goodId)?.reason, null);
  });

  test('figures count each outcome', async () => {
    const source = new TestPressureSource();
    const target = governor({ pressure: source, dailyLimit: 100, keepAtCritical: 0, minActive: 1 }).start();
    const jobs = submitMany(target, 8);

    jobs[0]?.finish();
    jobs[1]?.finish();
    jobs[2]?.fail(new Error('bad input'));
    await settle();
    source.set('critical');
    await settle();

    assert.deepEqual(
      { ...target.stats(), quotaResetsAt: null, lastHealthCheckAt: null },
      {
        level: 'critical',
        windowSize: 0,
        active: 0,
        queued: 0,
        done: 2,
        failed: 1,
        cancelled: 5,
        started: 8,
        requeued: 0,
        quotaLeft: 92,
        quotaResetsAt: null,
        factoryErrors: 0,
        listenerErrors: 0,
        droppedRecords: 0,
        healthChecks: 0,
        lastHealthCheckAt: null,
      },
    );
  });

  test('job throwing synchronously fails', async () => {
    const target = governor().start();
    const record = target.submit({
      run: () => {
        throw new TypeError('missing tenant id');
      },
    });

    assert.equal(record.status, 'running', 'submit() returns before the job settles');
    await settle();

    assert.equal(target.get(record.id)?.status, 'failed');
    assert.equal(target.get(record.id)?.reason, 'missing tenant id');
  });

  test('finished records bounded, dropped counted', async () => {
    const target = governor({ maxFinishedRecords: 3 }).start();
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) ids.push(target.submit({ run: () => {} }).id);
    await settle();

    assert.equal(target.records().length, 3);
    assert.equal(target.get(ids[0] ?? ''), undefined);
    assert.equal(target.get(ids[4] ?? '')?.status, 'done');
    assert.equal(target.stats().droppedRecords, 2);
    assert.equal(target.stats().done, 5);
  });

  test('trim drops finished records only', async () => {
    const target = governor().start();
    for (let index = 0; index < 4; index++) target.submit({ run: () => {} });
    await settle();
    const running = controlledJob();
    target.submit(running.definition);

    assert.deepEqual(target.trim('normal'), { items: 0, bytes: null });
    assert.deepEqual(target.trim('moderate'), { items: 2, bytes: null });
    assert.deepEqual(target.trim('high'), { items: 2, bytes: null });
    assert.equal(target.records().length, 1);
    assert.equal(target.records()[0]?.status, 'running');
    assert.throws(() => target.trim('severe' as PressureLevel), /Invalid option `level`/);
  });

  test('full queue rejects with figures', () => {
    const target = governor({ maxActive: 1, minActive: 1, maxQueued: 2 }).start();
    submitMany(target, 3, 'export');

    assert.throws(() => target.submit(controlledJob('export').definition), {
      name: 'RangeError',
      message: 'Cannot queue a job of kind "export": the queue is full (2 queued, 1 running). Raise maxQueued or submit later.',
    });
  });

  test('queue orders by priority then age', () => {
    const target = governor({ maxActive: 1, minActive: 1 });
    const order: string[] = [];
    const add = (kind: string, priority: number) => target.submit({ kind, priority, run: () => void order.push(kind) });
    add('first-low', 0);
    add('urgent', 5);
    add('second-low', 0);
    add('negative', -3);
    add('urgent-later', 5);

    assert.deepEqual(
      target.records().map((record) => record.kind),
      ['urgent', 'urgent-later', 'first-low', 'second-low', 'negative'],
    );
  });

  test('failing listener isolated and counted', async () => {
    const logger = new RecordingLogger();
    const target = governor({ logger }).start();
    const seen: string[] = [];
    target.on('job', () => {
      throw new Error('listener bug');
    });
    target.on('job', (record) => seen.push(record.status));

    target.submit({ run: () => {} });
    await settle();

    assert.deepEqual(seen, ['queued', 'running', 'done']);
    assert.equal(target.stats().listenerErrors, 3);
    assert.equal(logger.at('error').length, 3);
  });
});

describe('workload governor factory', () => {
  test('keeps the window full', async () => {
    const made: ControlledJob[] = [];
    const target = governor({
      factory: () => {
        const job = controlledJob('background');
        made.push(job);
        return job.definition;
      },
    }).start();

    assert.equal(made.length, 5);
    assert.equal(target.stats().active, 5);

    made[0]?.finish();
    made[1]?.finish();
    await settle();

    assert.equal(made.length, 7);
    assert.equal(target.stats().active, 5);
    assert.equal(target.stats().done, 2);
  });

  test('queue drains before factory', () => {
    const kinds: string[] = [];
    const target = governor({ maxActive: 2, minActive: 1, factory: () => ({ kind: 'factory', run: () => new Promise(() => {}) }) });
    target.on('job', (record) => {
      if (record.status === 'running') kinds.push(record.kind);
    });
    target.submit({ kind: 'submitted', run: () => new Promise(() => {}) });

    target.start();

    assert.deepEqual(kinds, ['submitted', 'factory']);
  });

  test('factory error pauses until health check', () => {
    const logger = new RecordingLogger();
    let calls = 0;
    const target = governor({
      logger,
      factory: () => {
        calls++;
        if (calls === 1) throw new Error('database unreachable');
        return { run: () => new Promise(() => {}) };
      },
    }).start();

    assert.equal(calls, 1);
    assert.equal(target.stats().factoryErrors, 1);
    assert.equal(target.stats().active, 0);
    assert.match(logger.at('error')[0]?.message ?? '', /job factory threw/);

    target.checkNow();

    assert.equal(target.stats().active, 5);
    assert.equal(calls, 6);
  });

  test('empty factory resumes after a job ends', async () => {
    let pending = 1;
    const jobs: ControlledJob[] = [];
    const target = governor({
      factory: () => {
        if (pending === 0) return null;
        pending--;
        const job = controlledJob();
        jobs.push(job);
        return job.definition;
      },
    }).start();
    assert.equal(target.stats().active, 1);

    pending = 2;
    jobs[0]?.finish();
    await settle();

    assert.equal(target.stats().active, 2);
    assert.equal(jobs.length, 3);
  });

  test('invalid job from factory counted', () => {
    const target = governor({ factory: () => ({ kind: 'broken' }) as never });
    target.start();

    assert.equal(target.stats().factoryErrors, 1);
    assert.equal(target.stats().active, 0);
  });

  test('onIdle resolves after a batch', async () => {
    const tasks = Array.from({ length: 12 }, (_, index) => index);
    let ran = 0;
    const target = governor({
      maxActive: 3,
      minActive: 1,
      factory: () => {
        if (tasks.shift() === undefined) return null;
        return { run: async () => void ran++ };
      },
    }).start();

    await target.onIdle();

    assert.equal(ran, 12);
    assert.equal(target.stats().done, 12);
    assert.equal(target.stats().active, 0);
  });
});

describe('workload governor lifecycle', () => {
  test('stop removes listener and timers', async () => {
    // getActiveResourcesInfo() lists ref'd handles only, so the unref'd health-check timer
    // is checked by the mock-timer test below; this one catches a leftover refill immediate.
    const resourcesBefore = process.getActiveResourcesInfo().sort();
    const source = new TestPressureSource();
    const target = governor({ pressure: source });
    const job = controlledJob();
    const record = target.submit(job.definition);

    target.start();
    assert.equal(source.listenerCount('pressure'), 1);

    target.stop();
    await settle();

    assert.equal(source.listenerCount('pressure'), 0);
    assert.deepEqual(process.getActiveResourcesInfo().sort(), resourcesBefore);
    assert.equal(target.get(record.id)?.status, 'cancelled');
    assert.equal(target.get(record.id)?.cancelledBy, 'stop');
    assert.equal(target.running, false);
  });

  test('queued jobs wait for start', () => {
    const target = governor();
    const job = controlledJob();
    const record = target.submit(job.definition);

    assert.equal(record.status, 'queued');
    assert.equal(job.runs, 0);

    target.start();
    assert.equal(job.runs, 1);
  });

  test('health check runs every healthCheckMs', (context) => {
    context.mock.timers.enable({ apis: ['setTimeout'] });
    const clock = new ScriptedClock();
    const source = new TestPressureSource();
    const target = governor({ pressure: source, clock, healthCheckMs: '90s' });
    submitMany(target, 8);
    target.start();

    // The level changes without an event, as when the source changed before subscribing.
    source.level = 'high';
    clock.advance(89_999);
    context.mock.timers.tick(89_999);
    assert.equal(target.stats().healthChecks, 0);
    assert.equal(target.level, 'normal');

    clock.advance(1);
    context.mock.timers.tick(1);
    assert.equal(target.stats().healthChecks, 1);
    assert.equal(target.level, 'high');
    assert.equal(target.stats().lastHealthCheckAt, clock.epochNow());

    context.mock.timers.tick(90_000);
    assert.equal(target.stats().healthChecks, 2, 'the check re-arms itself');

    target.stop();
    context.mock.timers.tick(180_000);
    assert.equal(target.stats().healthChecks, 2, 'stop() clears the timer');
  });

  test('MemoryManager as pressure source', async () => {
    const clock = new ScriptedClock();
    const probe = new ScriptedProbe();
    const manager = createMemoryManager({ clock, probe, logger: silentLogger, warmUpMs: 0 });
    const target = governor({ pressure: manager, clock, keepAtCritical: 0 }).start();
    const jobs = submitMany(target, 3);

    probe.setHeapRatio(0.99);
    manager.sampleNow();
    await settle();

    assert.equal(manager.level, 'critical');
    assert.equal(target.level, 'critical');
    assert.ok(jobs.every((job) => job.signal?.aborted));
    assert.equal(target.stats().cancelled, 3);

    target.stop();
    assert.equal(manager.listenerCount('pressure'), 0);
  });
});

describe('workload governor options', () => {
  test('defaults', () => {
    const target = governor();
    assert.equal(target.windowSize, 5);
    assert.equal(target.stats().quotaLeft, 500);
  });

  test('invalid options name the option', () => {
    const cases: Array<[WorkloadGovernorOptions, RegExp]> = [
      [{ minActive: 6 }, /Invalid option `minActive`: expected an integer from 0 to 5, got 6 \(number\)/],
      [{ maxActive: 0 }, /Invalid option `maxActive`: expected an integer from 1 to 100000, got 0/],
      [{ activeAtModerate: 1 }, /Invalid option `activeAtModerate`: expected an integer from 2 to 5, got 1/],
      [{ keepAtCritical: 3 }, /Invalid option `keepAtCritical`: expected an integer from 0 to 2, got 3/],
      [{ dailyLimit: 0 }, /Invalid option `dailyLimit`/],
      [{ dailyLimit: true as never }, /Invalid option `dailyLimit`/],
      [{ quotaWindow: 'weekly' as never }, /Invalid option `quotaWindow`: expected one of "calendar-day", "rolling-24h", got "weekly"/],
      [{ quotaTimeZone: 'Mars/Olympus' }, /Invalid option `quotaTimeZone`: expected an IANA time zone name/],
      [{ healthCheckMs: 0 }, /Invalid option `healthCheckMs`/],
      [{ pressure: { level: 'normal', on: () => {} } as never }, /Invalid option `pressure`: expected an object with a `level`/],
      [{ pressure: { level: 'bad', on: () => {}, off: () => {} } as never }, /Invalid option `pressure`/],
      [{ factory: 'jobs' as never }, /Invalid option `factory`: expected a function/],
      [{ concurrency: 3 } as never, /Invalid option `options.concurrency`/],
    ];

    for (const [options, message] of cases) {
      assert.throws(() => createWorkloadGovernor({ logger: silentLogger, ...options }), message, JSON.stringify(options));
    }
  });

  test('invalid job definitions rejected', () => {
    const target = governor();
    assert.throws(() => target.submit({} as never), /Invalid option `job.run`: expected a function/);
    assert.throws(() => target.submit({ kind: '', run: () => {} }), /Invalid option `job.kind`/);
    assert.throws(() => target.submit({ priority: Number.NaN, run: () => {} }), /Invalid option `job.priority`/);
  });

  test('dailyLimit false disables the quota', () => {
    const target = governor({ dailyLimit: false });
    assert.equal(target.stats().quotaLeft, null);
    assert.equal(target.stats().quotaResetsAt, null);
  });
});
