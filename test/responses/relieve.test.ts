import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createEffectivenessTracker } from '../../src/responses/effectiveness.js';
import { createForcedGcController } from '../../src/responses/forced-gc.js';
import { createReleaserRegistry } from '../../src/responses/releasers.js';
import { createReliever, FORCED_GC_ACTION, type RelieveOptions } from '../../src/responses/relieve.js';
import { silentLogger } from '../../src/util/logger.js';
import { ScriptedClock } from '../helpers/scripted.js';

const MIB = 2 ** 20;

/**
 * Builds a reliever over a scripted heap: releasers move bytes from live to
 * garbage, and the fake gc() frees the garbage after a 10 ms pause on the
 * scripted clock.
 */
function setup(options: Partial<RelieveOptions> = {}) {
  const clock = new ScriptedClock();
  clock.monotonicMs = 1000;
  const heap = { usedBytes: 100 * MIB, garbageBytes: 0 };
  const gc = () => {
    clock.advance(10);
    heap.usedBytes -= heap.garbageBytes;
    heap.garbageBytes = 0;
  };
  const measureHeapUsedBytes = () => heap.usedBytes;

  const releasers = createReleaserRegistry({ clock, logger: silentLogger, timeoutMs: 50 });
  const forcedGc = createForcedGcController({ gc, measureHeapUsedBytes, clock, logger: silentLogger });
  const reliever = createReliever({ releasers, forcedGc, measureHeapUsedBytes, clock, logger: silentLogger, ...options });
  return { clock, heap, releasers, forcedGc, reliever };
}

describe('relieve', () => {
  test('result has the action event shape', async () => {
    const { clock, heap, releasers, reliever } = setup();
    releasers.register({
      name: 'cache',
      release: () => {
        clock.advance(5);
        heap.garbageBytes += 30 * MIB;
        return 30 * MIB;
      },
    });

    const action = await reliever.relieve('high', 'pressure');

    assert.equal(action.type, 'action');
    assert.equal(action.action, 'relieve');
    assert.equal(action.trigger, 'pressure');
    assert.equal(action.level, 'high');
    assert.equal(action.time, clock.epochStartMs + 1000);
    assert.equal(action.durationMs, 15);
    assert.deepEqual(action.errors, []);
    assert.deepEqual(
      action.steps.map((step) => step.kind),
      ['releaser', 'forced-gc'],
    );
  });

  test('reclaimed bytes measured around steps', async () => {
    const { heap, releasers, reliever } = setup();
    releasers.register({
      name: 'cache',
      release: () => {
        heap.garbageBytes += 30 * MIB;
        return 25 * MIB;
      },
    });
    releasers.register({ name: 'silent', release: () => void (heap.garbageBytes += 10 * MIB) });

    const action = await reliever.relieve('high', 'pressure');

    assert.equal(action.heapBeforeBytes, 100 * MIB);
    assert.equal(action.heapAfterBytes, 60 * MIB);
    assert.equal(action.reclaimedBytes, 40 * MIB);
    assert.equal(action.reportedBytes, 25 * MIB);
    const gcStep = action.steps.find((step) => step.kind === 'forced-gc');
    assert.equal(gcStep?.kind === 'forced-gc' && gcStep.ran, true);
    assert.equal(gcStep?.kind === 'forced-gc' && gcStep.reclaimedBytes, 40 * MIB);
    assert.equal(gcStep?.durationMs, 10);
  });

  test('failing releasers listed as errors', async () => {
    const { heap, releasers, reliever } = setup();
    releasers.register({
      name: 'broken',
      priority: 2,
      release: () => {
        throw new Error('boom');
      },
    });
    releasers.register({ name: 'hangs', priority: 1, release: () => new Promise<void>(() => {}) });
    releasers.register({ name: 'cache', release: () => void (heap.garbageBytes += 10 * MIB) });

    const action = await reliever.relieve('critical', 'manual');

    assert.deepEqual(action.errors, [
      { step: 'broken', message: 'boom', timedOut: false },
      { step: 'hangs', message: 'releaser "hangs" timed out after 50 ms', timedOut: true },
    ]);
    assert.equal(action.reclaimedBytes, 10 * MIB);
  });

  test('GC below gcMinLevel is skipped', async () => {
    const { heap, releasers, reliever } = setup({ gcMinLevel: 'high' });
    releasers.register({ name: 'cache', release: () => void (heap.garbageBytes += 10 * MIB) });

    const action = await reliever.relieve('moderate', 'pressure');
    const gcStep = action.steps.at(-1);

    assert.equal(gcStep?.kind, 'forced-gc');
    assert.equal(gcStep?.kind === 'forced-gc' && gcStep.skipped, 'below-min-level');
    assert.equal(action.reclaimedBytes, 0);
  });

  test('GC cooldown shows as a skipped step', async () => {
    const { reliever } = setup();

    await reliever.relieve('high', 'pressure');
    const second = await reliever.relieve('high', 'pressure');
    const gcStep = second.steps.at(-1);

    assert.equal(gcStep?.kind === 'forced-gc' && gcStep.skipped, 'cooldown');
    assert.deepEqual(second.errors, []);
  });

  test('without a GC controller there is no GC step', async () => {
    const { releasers, reliever } = setup({ forcedGc: null });
    releasers.register({ name: 'cache', release: () => {} });

    const action = await reliever.relieve('critical', 'pressure');

    assert.deepEqual(
      action.steps.map((step) => step.kind),
      ['releaser'],
    );
  });

  test('non-paying releasers skipped below critical', async () => {
    const effectiveness = createEffectivenessTracker({ minSamples: 1, retryAfterSkips: 100 });
    const { clock, releasers, reliever } = setup({ effectiveness, forcedGc: null });
    let calls = 0;
    releasers.register({
      name: 'useless',
      release: () => {
        calls++;
        clock.advance(20);
        return 0;
      },
    });

    await reliever.relieve('high', 'pressure');
    const skipped = await reliever.relieve('high', 'pressure');
    await reliever.relieve('critical', 'pressure');

    assert.equal(calls, 2);
    assert.equal(skipped.steps[0]?.kind === 'releaser' && skipped.steps[0].skipped, 'not-paying');
    assert.equal(effectiveness.get('useless')?.pays, false);
  });

  test('forced GC results are recorded for effectiveness', async () => {
    const effectiveness = createEffectivenessTracker();
    const { heap, reliever } = setup({ effectiveness });
    heap.garbageBytes = 5 * MIB;

    await reliever.relieve('high', 'pressure');

    const record = effectiveness.get(FORCED_GC_ACTION);
    assert.equal(record?.windowBytes, 5 * MIB);
    assert.equal(record?.windowMs, 10);
  });

  test('rejects invalid arguments and options', async () => {
    const { reliever, releasers } = setup();

    await assert.rejects(reliever.relieve('severe' as never, 'pressure'), { name: 'RangeError', message: /`level`/ });
    await assert.rejects(reliever.relieve('high', ''), { name: 'RangeError', message: /`trigger`/ });
    await assert.rejects(reliever.relieve('high', 'pressure', { loopUtilization: 3 }), { name: 'RangeError', message: /`loopUtilization`/ });
    assert.throws(() => createReliever({ releasers: {} as never }), { name: 'TypeError', message: /`releasers`/ });
    assert.throws(() => createReliever({ releasers, forcedGc: {} as never }), { name: 'TypeError', message: /`forcedGc`/ });
    assert.throws(() => createReliever({ releasers, gcMinLevel: 'normal' as never }), { name: 'RangeError', message: /`gcMinLevel`/ });
  });
});
