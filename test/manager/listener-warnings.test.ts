import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { createMemoryManager } from '../../src/manager/manager.js';
import type { ListenerWarning } from '../../src/sampling/listener-warnings.js';
import { silentLogger } from '../../src/util/logger.js';

describe('listener warnings', () => {
  it('captures MaxListenersExceededWarning with the event name', async () => {
    const manager = createMemoryManager({ intervalMs: '1h', logger: silentLogger }).start();
    const found: ListenerWarning[] = [];
    manager.on('listener-warning', (warning) => found.push(warning));

    // A listener per "request" on a shared emitter: Node warns at the eleventh.
    const shared = new EventEmitter();
    for (let request = 0; request < 11; request++) shared.on('config-changed', () => request);
    await new Promise((resolve) => setImmediate(resolve));
    manager.stop();

    assert.equal(found.length, 1);
    assert.equal(found[0]?.emitter, 'EventEmitter');
    assert.equal(found[0]?.eventName, 'config-changed');
    assert.equal(found[0]?.count, 11);
    assert.deepEqual(
      manager.listenerWarnings().map((warning) => warning.eventName),
      ['config-changed'],
    );
  });

  it('ignores other warnings and stops listening on stop', async () => {
    const manager = createMemoryManager({ intervalMs: '1h', logger: silentLogger }).start();
    const before = process.listenerCount('warning');
    process.emitWarning('unrelated', { code: 'TEST_UNRELATED' });
    await new Promise((resolve) => setImmediate(resolve));
    manager.stop();

    assert.deepEqual(manager.listenerWarnings(), []);
    assert.equal(process.listenerCount('warning'), before - 1);
  });
});
