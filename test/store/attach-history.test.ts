import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryManager } from '../../src/manager/manager.js';
import { heapBudget } from '../../src/sampling/sampler.js';
import { attachHistory, createHistoryStore, openDatabase } from '../../src/store/index.js';
import { silentLogger } from '../../src/util/logger.js';
import { ScriptedClock, ScriptedProbe } from '../helpers/scripted.js';

describe('attachHistory', () => {
  it('records samples and pressure events', () => {
    const clock = new ScriptedClock();
    const probe = new ScriptedProbe();
    const manager = createMemoryManager({ clock, probe, logger: silentLogger, intervalMs: '1h', pressureIntervalMs: '1h', warmUpMs: 0, responses: { automatic: false } });
    const database = openDatabase({ path: ':memory:' });
    const history = createHistoryStore({ database, clock, logger: silentLogger });
    const detach = attachHistory(manager, history);
    manager.start();

    const budget = heapBudget(probe.heapReading.limitBytes, 0);
    for (const ratio of [0.5, 0.75, 0.85, 0.5]) {
      probe.heapReading.usedBytes = Math.round(ratio * budget);
      clock.advance(1000);
      manager.sampleNow();
    }
    history.flush();
    const summary = history.summarize({ fromMs: clock.epochStartMs, toMs: clock.epochNow() + 1000 });
    const stats = history.stats();

    detach();
    manager.stop();
    history.close();

    assert.equal(stats.writtenSamples, 4);
    assert.equal(summary.samples, 4);
    // normal -> moderate -> high -> normal.
    assert.equal(summary.pressureChanges, 3);
    assert.ok(summary.timeAtLevelMs.high > 0);
    assert.equal(manager.listenerCount('sample'), 0);
    assert.equal(manager.responses().releasers.length, 0);
  });
});
