import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { MemoryManager } from '../../src/manager/manager.js';
import { createLoadShedder, LoadShedder, resolveShedderOptions, type LoadShedderOptions } from '../../src/http/shedder.js';
import { createScriptedManager, sampleAt, type ScriptedSetup } from '../helpers/http.js';

const managers: MemoryManager[] = [];
const shedders: LoadShedder[] = [];

afterEach(() => {
  for (const shedder of shedders.splice(0)) shedder.close();
  for (const manager of managers.splice(0)) manager.stop();
});

/** Creates a scripted manager and a shedder on its clock, with no warm-up unless the options set one. */
function setUp(options: LoadShedderOptions = {}): ScriptedSetup & { shedder: LoadShedder } {
  const setup = createScriptedManager();
  managers.push(setup.manager);
  const shedder = createLoadShedder(setup.manager, { warmUpMs: 0, clock: setup.clock, ...options });
  shedders.push(shedder);
  return { ...setup, shedder };
}

/** Calls shouldShed() `requests` times and returns how many were shed. */
function countShed(shedder: LoadShedder, requests: number): number {
  let shed = 0;
  for (let index = 0; index < requests; index++) if (shedder.shouldShed()) shed++;
  return shed;
}

describe('LoadShedder decision', () => {
  it('sheds nothing before the first sample', () => {
    const { shedder } = setUp();

    assert.equal(shedder.shedRatio, 0);
    assert.equal(countShed(shedder, 1000), 0);
    assert.equal(shedder.state.level, null);
  });

  it('sheds nothing at normal', () => {
    const setup = setUp();
    sampleAt(setup, 0.5);

    assert.equal(setup.manager.level, 'normal');
    assert.equal(setup.shedder.shedRatio, 0);
    assert.equal(countShed(setup.shedder, 1000), 0);
  });

  it('sheds every request at critical', () => {
    const setup = setUp();
    sampleAt(setup, 0.95);

    assert.equal(setup.manager.level, 'critical');
    assert.equal(setup.shedder.shedRatio, 1);
    assert.equal(setup.shedder.state.reason, 'memory');
    assert.equal(countShed(setup.shedder, 1000), 1000);
    assert.equal(setup.shedder.shedRequests, 1000);
  });

  it('ramps the share between high and critical', () => {
    const setup = setUp();
    const shares: number[] = [];
    for (const ratio of [0.8, 0.825, 0.85, 0.875]) {
      sampleAt(setup, ratio);
      shares.push(Number(setup.shedder.shedRatio.toFixed(3)));
    }

    assert.deepEqual(shares, [0, 0.25, 0.5, 0.75]);
  });

  it('spreads shed requests evenly', () => {
    const setup = setUp();
    sampleAt(setup, 0.825);

    // A share of 0.25 sheds every fourth request, exactly.
    const pattern = Array.from({ length: 8 }, () => setup.shedder.shouldShed());
    assert.deepEqual(pattern, [false, false, false, true, false, false, false, true]);
    assert.equal(countShed(setup.shedder, 1000), 250);
  });

  it('keeps the share while usage falls within the hysteresis', () => {
    const setup = setUp();
    sampleAt(setup, 0.88);
    const peak = setup.shedder.shedRatio;

    sampleAt(setup, 0.84);
    assert.equal(setup.shedder.shedRatio, peak, 'a fall of 0.04 is inside the 0.05 hysteresis');

    sampleAt(setup, 0.8);
    assert.equal(setup.shedder.state.heldUsageRatio.toFixed(3), '0.850');
    assert.equal(setup.shedder.shedRatio.toFixed(3), '0.500');

    sampleAt(setup, 0.7);
    assert.equal(setup.shedder.shedRatio, 0);
  });

  it('keeps full shedding while the manager holds critical', () => {
    const setup = setUp();
    sampleAt(setup, 0.95);
    // The manager leaves critical only below 0.9 - 0.05, so a collection that frees a little does not lift shedding.
    sampleAt(setup, 0.87);

    assert.equal(setup.manager.level, 'critical');
    assert.equal(setup.shedder.shedRatio, 1);
  });

  it('honours fullLevel high and maxShedRatio', () => {
    const setup = setUp({ fullLevel: 'high', maxShedRatio: 0.6, ramp: false });
    sampleAt(setup, 0.81);

    assert.equal(setup.manager.level, 'high');
    assert.equal(setup.shedder.shedRatio, 0.6);
    assert.equal(countShed(setup.shedder, 100), 60);
  });

  it('builds the 503 body once per sample', () => {
    const setup = setUp({ retryAfterSeconds: 7 });
    sampleAt(setup, 0.95);

    const body = JSON.parse(setup.shedder.responseBody) as Record<string, unknown>;
    assert.equal(body.error, 'service_unavailable');
    assert.equal(body.level, 'critical');
    assert.equal(body.reason, 'memory');
    assert.equal(body.retryAfterSeconds, 7);
    assert.match(String(body.message), /memory pressure is critical \(process at 95 % of its budget\)/);
  });

  it('stops following the manager when closed', () => {
    const setup = setUp();
    const listeners = setup.manager.listenerCount('sample');
    setup.shedder.close();

    assert.equal(setup.manager.listenerCount('sample'), listeners - 1);
    sampleAt(setup, 0.95);
    assert.equal(setup.shedder.shedRatio, 0);
  });
});

describe('LoadShedder warm-up', () => {
  it('sheds nothing in the first 5 s after start', () => {
    const setup = createScriptedManager();
    managers.push(setup.manager);
    const shedder = createLoadShedder(setup.manager, { clock: setup.clock });
    shedders.push(shedder);

    sampleAt(setup, 0.95, 1000);
    sampleAt(setup, 0.95, 3900);
    assert.equal(setup.manager.level, 'critical');
    assert.equal(shedder.state.warmingUp, true);
    assert.equal(countShed(shedder, 1000), 0, 'no request is shed at 4.9 s');

    sampleAt(setup, 0.95, 100);
    assert.equal(shedder.state.warmingUp, false);
    assert.equal(shedder.shedRatio, 1);
    assert.equal(countShed(shedder, 10), 10);
  });

  it('keeps no held usage from the warm-up', () => {
    const setup = createScriptedManager();
    managers.push(setup.manager);
    const shedder = createLoadShedder(setup.manager, { clock: setup.clock, warmUpMs: 2000, eventLoop: {} });
    shedders.push(shedder);

    setup.probe.eventLoop.utilization = 1;
    sampleAt(setup, 0.88, 1000);
    setup.probe.eventLoop.utilization = 0.1;
    sampleAt(setup, 0.5, 1000);

    assert.equal(shedder.shedRatio, 0);
  });
});

describe('LoadShedder event loop', () => {
  it('ignores utilization unless enabled', () => {
    const setup = setUp();
    setup.probe.eventLoop.utilization = 1;
    sampleAt(setup, 0.5);

    assert.equal(setup.shedder.shedRatio, 0);
  });

  it('never sheds every request for a busy loop', () => {
    const setup = setUp({ eventLoop: {} });
    setup.probe.eventLoop.utilization = 1;
    sampleAt(setup, 0.5);

    assert.equal(setup.shedder.shedRatio, 0.5);
    assert.equal(setup.shedder.state.reason, 'event-loop');
    assert.equal(countShed(setup.shedder, 1000), 500);
  });

  it('ramps with utilization over the interval', () => {
    const setup = setUp({ eventLoop: { fromUtilization: 0.8, toUtilization: 1, maxShedRatio: 0.4 } });
    const shares: number[] = [];
    for (const utilization of [0.7, 0.9, 1]) {
      setup.probe.eventLoop.utilization = utilization;
      sampleAt(setup, 0.5);
      shares.push(Number(setup.shedder.shedRatio.toFixed(3)));
    }

    assert.deepEqual(shares, [0, 0.2, 0.4]);
  });

  it('takes the larger of memory and loop shares', () => {
    const setup = setUp({ eventLoop: {} });
    setup.probe.eventLoop.utilization = 1;
    sampleAt(setup, 0.95);

    assert.equal(setup.shedder.shedRatio, 1);
    assert.equal(setup.shedder.state.reason, 'memory');
  });
});

describe('LoadShedder options', () => {
  it('has the documented defaults', () => {
    const options = resolveShedderOptions();

    assert.equal(options.fullLevel, 'critical');
    assert.deepEqual(options.ramp, { fromRatio: 0.8, toRatio: 0.9 });
    assert.equal(options.maxShedRatio, 1);
    assert.equal(options.hysteresisRatio, 0.05);
    assert.equal(options.warmUpMs, 5000);
    assert.equal(options.retryAfterSeconds, 10);
    assert.equal(options.eventLoop, null);
  });

  it('rejects invalid values by name', () => {
    const cases: Array<[LoadShedderOptions, RegExp]> = [
      [{ fullLevel: 'normal' as never }, /`shedding.fullLevel`: expected one of moderate, high, critical, got "normal"/],
      [{ maxShedRatio: 2 }, /`shedding.maxShedRatio`: expected a number from 0 to 1, got 2 \(number\)/],
      [{ ramp: { fromRatio: 0.9, toRatio: 0.8 } }, /`shedding.ramp.toRatio`: expected a ratio above shedding.ramp.fromRatio \(0.9\)/],
      [{ warmUpMs: 'soon' }, /`shedding.warmUpMs`/],
      [{ retryAfterSeconds: 0 }, /`shedding.retryAfterSeconds`/],
      [{ eventLoop: { maxShedRatio: 1 } }, /`shedding.eventLoop.maxShedRatio`: expected a number from 0 to 0.95/],
      [{ eventLoop: { fromUtilization: 1, toUtilization: 1 } }, /`shedding.eventLoop.toUtilization`/],
      [{ typo: 1 } as never, /`shedding.typo`: expected one of the known options/],
    ];

    for (const [options, message] of cases) {
      assert.throws(() => new LoadShedder(options), message, JSON.stringify(options));
    }
  });
});
