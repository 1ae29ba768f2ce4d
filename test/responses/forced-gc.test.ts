import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createForcedGcController, type ForcedGcOptions } from '../../src/responses/forced-gc.js';
import { silentLogger } from '../../src/util/logger.js';
import { RecordingLogger } from '../helpers/recording-logger.js';
import { ScriptedClock } from '../helpers/scripted.js';

const MIB = 2 ** 20;

/** A fake heap whose gc() takes `pauseMs` on the scripted clock and frees `garbageBytes`. */
class FakeHeap {
  usedBytes = 100 * MIB;
  garbageBytes = 0;
  pauseMs = 10;
  calls = 0;

  constructor(readonly clock: ScriptedClock) {}

  gc = (): void => {
    this.calls++;
    this.clock.advance(this.pauseMs);
    this.usedBytes -= this.garbageBytes;
    this.garbageBytes = 0;
  };

  measure = (): number => this.usedBytes;
}

function setup(options: ForcedGcOptions = {}) {
  const clock = new ScriptedClock();
  const heap = new FakeHeap(clock);
  const controller = createForcedGcController({ gc: heap.gc, measureHeapUsedBytes: heap.measure, clock, logger: silentLogger, ...options });
  return { clock, heap, controller };
}

describe('forced GC controller', () => {
  test('measures pause and reclaimed bytes', () => {
    const { heap, controller } = setup();
    heap.garbageBytes = 20 * MIB;

    const result = controller.run({ level: 'high' });

    assert.equal(result.ran, true);
    assert.equal(result.ran && result.pauseMs, 10);
    assert.equal(result.ran && result.reclaimedBytes, 20 * MIB);
    assert.equal(result.ran && result.heapBeforeBytes, 100 * MIB);
    assert.equal(result.ran && result.heapAfterBytes, 80 * MIB);
    assert.equal(result.ran && result.paid, true);
  });

  test('cooldown counts from previous end', () => {
    const { clock, heap, controller } = setup({ cooldownMs: '30s' });
    heap.garbageBytes = 20 * MIB;
    controller.run({ level: 'high' });

    clock.advance(29_000);
    const early = controller.run({ level: 'critical' });

    assert.equal(early.ran, false);
    assert.equal(!early.ran && early.reason, 'cooldown');
    assert.equal(!early.ran && early.retryInMs, 1000);
    assert.equal(heap.calls, 1);

    clock.advance(1000);
    heap.garbageBytes = 20 * MIB;
    assert.equal(controller.run({ level: 'high' }).ran, true);
    assert.equal(heap.calls, 2);
    assert.equal(controller.stats().skipped.cooldown, 1);
  });

  test('busy loop skips below critical', () => {
    const { heap, controller } = setup();
    heap.garbageBytes = 20 * MIB;

    const busy = controller.run({ level: 'high', loopUtilization: 0.95 });
    assert.equal(busy.ran, false);
    assert.equal(!busy.ran && busy.reason, 'busy-loop');
    assert.match(!busy.ran ? busy.message : '', /utilization 0\.95/);

    const critical = controller.run({ level: 'critical', loopUtilization: 0.95 });
    assert.equal(critical.ran, true);
    assert.equal(controller.stats().skipped['busy-loop'], 1);
  });

  test('long estimated pause skips below critical', () => {
    const { heap, controller } = setup({ maxPauseMs: 500 });
    // 1 GiB at the default 0.65 ms per MiB is an estimated 666 ms.
    heap.usedBytes = 1024 * MIB;

    const high = controller.run({ level: 'high' });
    assert.equal(high.ran, false);
    assert.equal(!high.ran && high.reason, 'pause-too-long');
    assert.match(!high.ran ? high.message : '', /estimated pause 666 ms/);

    assert.equal(controller.run({ level: 'critical' }).ran, true);
  });

  test('cooldown doubles while GCs reclaim little', () => {
    const { clock, heap, controller } = setup({ cooldownMs: 1000, maxCooldownMs: 5000 });
    const cooldowns: number[] = [];

    for (let run = 0; run < 5; run++) {
      heap.garbageBytes = 0;
      const result = controller.run({ level: 'high' });
      assert.equal(result.ran, true);
      assert.equal(result.ran && result.paid, false);
      cooldowns.push(controller.cooldownMs);
      clock.advance(controller.cooldownMs);
    }

    assert.deepEqual(cooldowns, [2000, 4000, 5000, 5000, 5000]);
    assert.equal(controller.stats().unpaidRunsInRow, 5);
  });

  test('cooldown resets when a GC pays again', () => {
    const { clock, heap, controller } = setup({ cooldownMs: 1000 });
    controller.run({ level: 'high' });
    clock.advance(controller.cooldownMs);
    controller.run({ level: 'high' });
    assert.equal(controller.cooldownMs, 4000);

    clock.advance(controller.cooldownMs);
    heap.garbageBytes = 10 * MIB;
    const result = controller.run({ level: 'high' });

    assert.equal(result.ran && result.paid, true);
    assert.equal(controller.cooldownMs, 1000);
    assert.equal(controller.stats().unpaidRunsInRow, 0);
  });

  test('slow reclaim under floor unpaid', () => {
    const { heap, controller } = setup({ minReclaimedBytesPerMs: 64 * 1024 });
    // 2 MiB in 100 ms is 20 KiB per ms: above 1 % of the heap, under the floor.
    heap.garbageBytes = 2 * MIB;
    heap.pauseMs = 100;

    const result = controller.run({ level: 'high' });

    assert.equal(result.ran && result.paid, false);
  });

  test('reclaim under 1 % of the heap does not pay', () => {
    const { heap, controller } = setup();
    heap.garbageBytes = 0.5 * MIB;
    heap.pauseMs = 1;

    const result = controller.run({ level: 'high' });

    assert.equal(result.ran && result.paid, false);
  });

  test('learns the pause per MiB from runs', () => {
    const { heap, controller } = setup();
    heap.pauseMs = 100;
    heap.garbageBytes = 50 * MIB;

    controller.run({ level: 'high' });

    // 100 ms over 100 MiB is 1 ms per MiB, averaged with the 0.65 start.
    assert.ok(Math.abs(controller.stats().pauseMsPerMiB - 0.825) < 1e-9, `got ${controller.stats().pauseMsPerMiB}`);
  });

  test('counts runs, pause and skips', () => {
    const { clock, heap, controller } = setup({ cooldownMs: 1000 });
    heap.garbageBytes = 10 * MIB;
    controller.run({ level: 'high' });
    controller.run({ level: 'high' });
    clock.advance(1000);
    heap.garbageBytes = 10 * MIB;
    controller.run({ level: 'high' });

    const stats = controller.stats();
    assert.equal(stats.runs, 2);
    assert.equal(stats.totalPauseMs, 20);
    assert.equal(stats.totalReclaimedBytes, 20 * MIB);
    assert.equal(stats.skipped.cooldown, 1);
    assert.equal(stats.available, true);
    assert.equal(stats.unavailableReason, null);
  });

  test('gc false turns forced GC off with a reason', () => {
    const { controller } = setup({ gc: false });

    const result = controller.run({ level: 'critical' });

    assert.equal(controller.available, false);
    assert.match(controller.unavailableReason ?? '', /gc: false/);
    assert.equal(!result.ran && result.reason, 'unavailable');
    assert.equal(controller.stats().skipped.unavailable, 1);
  });

  test('throwing gc is logged and counted', () => {
    const logger = new RecordingLogger();
    const { controller } = setup({
      gc: () => {
        throw new Error('not allowed');
      },
      logger,
    });

    const result = controller.run({ level: 'high' });

    assert.equal(!result.ran && result.reason, 'failed');
    assert.match(!result.ran ? result.message : '', /not allowed/);
    assert.equal(controller.stats().skipped.failed, 1);
    assert.ok(logger.at('error')[0]?.object.err instanceof Error);
  });

  test('real gc runs when available', (t) => {
    if (typeof (globalThis as { gc?: unknown }).gc !== 'function') {
      t.skip('node was started without --expose-gc');
      return;
    }
    const controller = createForcedGcController({ logger: silentLogger });

    assert.equal(controller.run({ level: 'critical' }).ran, true);
  });

  test('rejects invalid options', () => {
    assert.throws(() => createForcedGcController({ gc: 'gc' as never }), { name: 'TypeError', message: /`gc`/ });
    assert.throws(() => createForcedGcController({ gc: () => {}, cooldownMs: 60_000, maxCooldownMs: 1000 }), {
      name: 'RangeError',
      message: /`maxCooldownMs`.*at or above cooldownMs \(60000 ms\).*1000/,
    });
    assert.throws(() => createForcedGcController({ gc: () => {}, busyLoopUtilization: 2 }), { name: 'RangeError', message: /`busyLoopUtilization`/ });
    assert.throws(() => createForcedGcController({ gc: () => {}, minReclaimedRatio: -1 }), { name: 'RangeError', message: /`minReclaimedRatio`/ });
    assert.throws(() => createForcedGcController({ gc: () => {}, cooldown: 5 } as never), { name: 'TypeError', message: /`options\.cooldown`/ });
  });

  test('rejects an invalid request', () => {
    const { controller } = setup();

    assert.throws(() => controller.run({ level: 'high', loopUtilization: 1.5 }), { name: 'RangeError', message: /`request\.loopUtilization`/ });
    assert.throws(() => controller.run({ level: 'low' as never }), { name: 'RangeError', message: /`request\.level`/ });
  });
});
