import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { EventLoopMonitor, IDLE_UTILIZATION, type LoopTime } from '../../src/sampling/event-loop.js';

const monitors: EventLoopMonitor[] = [];

afterEach(() => {
  for (const monitor of monitors.splice(0)) monitor.stop();
});

/** Returns a scripted loop clock whose `spend(idleMs, activeMs)` advances it as a real loop would between two reads. */
function scriptedLoop(): { loopTime: () => LoopTime; spend: (idleMs: number, activeMs: number) => void } {
  const time: LoopTime = { idle: 0, active: 0 };
  return {
    loopTime: () => ({ ...time }),
    spend: (idleMs, activeMs) => {
      time.idle += idleMs;
      time.active += activeMs;
    },
  };
}

function startMonitor(loopTime: () => LoopTime): EventLoopMonitor {
  const monitor = new EventLoopMonitor(200, loopTime);
  monitors.push(monitor);
  monitor.start();
  return monitor;
}

describe('EventLoopMonitor pauses its delay timer on an idle loop', () => {
  it('runs the timer from start until the first read', () => {
    const monitor = startMonitor(scriptedLoop().loopTime);

    assert.equal(monitor.timing, true);
  });

  it('pauses after an interval below the idle utilisation', () => {
    const loop = scriptedLoop();
    const monitor = startMonitor(loop.loopTime);
    loop.spend(995, 5);

    const reading = monitor.read();

    assert.equal(reading.utilization, 0.005);
    assert.ok(reading.utilization < IDLE_UTILIZATION);
    assert.equal(monitor.timing, false);
  });

  it('reports busy time as paused p99', () => {
    const loop = scriptedLoop();
    const monitor = startMonitor(loop.loopTime);
    loop.spend(998, 2);
    monitor.read();

    loop.spend(600, 400);
    const reading = monitor.read();

    assert.deepEqual(reading, { delayP50Ms: 0, delayP99Ms: 400, utilization: 0.4 });
    assert.equal(monitor.timing, true, 'a busy interval starts the timer again');
  });

  it('keeps the timer at exactly the idle utilisation', () => {
    const loop = scriptedLoop();
    const monitor = startMonitor(loop.loopTime);
    loop.spend(990, 10);

    assert.equal(monitor.read().utilization, IDLE_UTILIZATION);
    assert.equal(monitor.timing, true);
  });

  it('keeps utilisation within 0 to 1 despite rounding', () => {
    // Idle time that moved back by a rounding error once put the ratio at 1.000000000000002, which relieve() rejects.
    const loop = scriptedLoop();
    const monitor = startMonitor(loop.loopTime);
    loop.spend(-1e-9, 50);

    assert.equal(monitor.read().utilization, 1);

    loop.spend(100, -1e-9);
    assert.equal(monitor.read().utilization, 0);
  });

  it('reads zero utilisation when no loop time passed', () => {
    const monitor = startMonitor(scriptedLoop().loopTime);

    assert.equal(monitor.read().utilization, 0);
  });

  it('stops with no timer left, and reads zeros once stopped', () => {
    const monitor = startMonitor(scriptedLoop().loopTime);
    monitor.stop();

    assert.equal(monitor.timing, false);
    assert.deepEqual(monitor.read(), { delayP50Ms: 0, delayP99Ms: 0, utilization: 0 });
  });
});
