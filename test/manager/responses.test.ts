import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { MemoryManager, createMemoryManager } from '../../src/manager/manager.js';
import type { MemoryManagerOptions } from '../../src/manager/options.js';
import type { ActionEvent } from '../../src/responses/responder.js';
import type { RelieveAction } from '../../src/responses/relieve.js';
import { heapBudget } from '../../src/sampling/sampler.js';
import { silentLogger } from '../../src/util/logger.js';
import { RecordingLogger } from '../helpers/recording-logger.js';
import { ScriptedClock, ScriptedProbe } from '../helpers/scripted.js';

const MIB = 2 ** 20;
const managers: MemoryManager[] = [];

afterEach(() => {
  for (const manager of managers.splice(0)) manager.stop();
});

function scriptedManager(options: MemoryManagerOptions = {}): { manager: MemoryManager; clock: ScriptedClock; probe: ScriptedProbe; actions: ActionEvent[] } {
  const clock = new ScriptedClock();
  const probe = new ScriptedProbe();
  const manager = createMemoryManager({ clock, probe, logger: silentLogger, intervalMs: '1h', pressureIntervalMs: '1h', warmUpMs: 0, ...options });
  const actions: ActionEvent[] = [];
  manager.on('action', (action) => actions.push(action));
  managers.push(manager.start());
  return { manager, clock, probe, actions };
}

function setHeapRatio(probe: ScriptedProbe, ratio: number): void {
  probe.heapReading.usedBytes = Math.round(ratio * heapBudget(probe.heapReading.limitBytes, 0));
}

/** Lets the automatic relieve started by a sample finish: it awaits the releasers. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('automatic responses', () => {
  it('forced GC at most once per cooldown under steady pressure', async () => {
    const pausesMs: number[] = [];
    let heapUsed = 0;
    const { manager, clock, probe, actions } = scriptedManager({
      responses: {
        actionCooldownMs: 1000,
        forcedGc: {
          gc: () => {
            clock.advance(40);
            pausesMs.push(40);
          },
          cooldownMs: 30_000,
          minReclaimedRatio: 0,
          minReclaimedBytesPerMs: 0,
          measureHeapUsedBytes: () => heapUsed,
        },
      },
    });

    // 100 s at 85 % of the heap budget, one sample per second.
    for (let second = 0; second < 100; second++) {
      setHeapRatio(probe, 0.85);
      heapUsed = probe.heapReading.usedBytes;
      clock.advance(1000);
      manager.sampleNow();
      await settle();
    }

    const gcSteps = actions
      .filter((action): action is RelieveAction => action.action === 'relieve')
      .flatMap((action) => action.steps)
      .filter((step) => step.kind === 'forced-gc' && step.ran);
    const stats = manager.responses().forcedGc;

    assert.equal(manager.level, 'high');
    assert.ok(actions.length >= 90, `expected an action per cooldown, got ${actions.length}`);
    assert.ok(gcSteps.length >= 3, `forced GCs in 100 s with a 30 s cooldown: ${gcSteps.length}`);
    assert.ok(gcSteps.length <= 4, `forced GCs in 100 s with a 30 s cooldown: ${gcSteps.length}`);
    assert.equal(stats.runs, gcSteps.length);
    assert.equal(pausesMs.length, gcSteps.length);
    for (const step of gcSteps) assert.equal(step.durationMs, 40);
    assert.equal(stats.totalPauseMs, 40 * gcSteps.length);
  });

  it('no automatic action below high', async () => {
    const { manager, clock, probe, actions } = scriptedManager();

    setHeapRatio(probe, 0.75);
    clock.advance(1000);
    manager.sampleNow();
    await settle();

    assert.equal(manager.level, 'moderate');
    assert.equal(actions.length, 0);
  });

  it('relieves at critical with every releaser', async () => {
    const calls: string[] = [];
    const { manager, clock, probe, actions } = scriptedManager({ responses: { forcedGc: false } });
    manager.registerReleaser({ name: 'cheap', priority: 10, minLevel: 'moderate', release: () => void calls.push('cheap') });
    manager.registerReleaser({ name: 'drastic', priority: 1, minLevel: 'critical', release: () => void calls.push('drastic') });

    setHeapRatio(probe, 0.95);
    clock.advance(1000);
    manager.sampleNow();
    await settle();

    assert.deepEqual(calls, ['cheap', 'drastic']);
    assert.equal(actions.length, 1);
    assert.equal(actions[0]?.trigger, 'pressure');
    assert.equal(actions[0]?.level, 'critical');
  });
});

describe('failing releasers', () => {
  it('throwing and hanging releasers are isolated', async () => {
    const logger = new RecordingLogger();
    const calls: string[] = [];
    const { manager } = scriptedManager({ logger, responses: { releaserTimeoutMs: 50, forcedGc: false } });
    manager.registerReleaser({ name: 'throws', priority: 3, release: () => { throw new Error('cache is gone'); } });
    manager.registerReleaser({ name: 'hangs', priority: 2, release: () => new Promise<void>(() => {}) });
    manager.registerReleaser({ name: 'works', priority: 1, release: () => void calls.push('works') });

    const action = await manager.relieve('critical');
    const stats = new Map(manager.responses().releasers.map((entry) => [entry.name, entry]));

    assert.deepEqual(calls, ['works']);
    assert.equal(action.errors.length, 2);
    assert.deepEqual(action.errors.map((error) => error.step).sort(), ['hangs', 'throws']);
    assert.equal(action.errors.find((error) => error.step === 'hangs')?.timedOut, true);
    assert.equal(stats.get('throws')?.errors, 1);
    assert.equal(stats.get('hangs')?.timeouts, 1);
    assert.equal(stats.get('works')?.errors, 0);
    assert.equal(manager.responses().actions.errors, 2);
    assert.ok(logger.at('error').some((record) => record.object.err instanceof Error));
  });
});

describe('forced GC availability', () => {
  it('reports why forced GC is unavailable', () => {
    const { manager } = scriptedManager({ responses: { forcedGc: false } });
    const status = manager.responses().forcedGc;

    assert.equal(status.available, false);
    assert.equal(typeof status.unavailableReason, 'string');
    assert.equal(manager.forceGc().done, false);
    assert.equal(manager.forceGc().reason, 'unavailable');
  });
});

describe('heap snapshots', () => {
  it('refused without room, written with room', () => {
    const directory = mkdtempSync(join(tmpdir(), 'headroom-snapshots-'));
    try {
      const tight = scriptedManager({ limit: '64MiB', responses: { heapSnapshot: { directory } } });
      tight.probe.rss = 60 * MIB;
      tight.clock.advance(1000);
      tight.manager.sampleNow();
      const refused = tight.manager.writeSnapshot();

      assert.equal(refused.done, false);
      assert.equal(refused.reason, 'no-room');

      const roomy = scriptedManager({ responses: { heapSnapshot: { directory } } });
      const written = roomy.manager.writeSnapshot();

      assert.equal(written.done, true, written.message ?? '');
      const snapshot = JSON.parse(readFileSync(written.path as string, 'utf8')) as Record<string, unknown>;
      assert.ok('snapshot' in snapshot);
      assert.ok('nodes' in snapshot);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('disabled without a directory', () => {
    const { manager } = scriptedManager();
    const action = manager.writeSnapshot();

    assert.equal(action.done, false);
    assert.equal(action.reason, 'disabled');
  });
});

describe('response options', () => {
  const create = (responses: unknown): MemoryManager => createMemoryManager({ logger: silentLogger, responses: responses as MemoryManagerOptions['responses'] });

  it('rejects a non-object forcedGc', () => {
    assert.throws(() => create({ forcedGc: 'yes' }), {
      name: 'TypeError',
      message: 'Invalid option `responses.forcedGc`: expected an object of forced-GC options, or false, got "yes" (string)',
    });
  });

  it('rejects null and array responses', () => {
    assert.throws(() => create(null), { name: 'TypeError', message: 'Invalid option `responses`: expected an object, got null' });
    assert.throws(() => create([]), { name: 'TypeError', message: 'Invalid option `responses`: expected an object, got an array of 0' });
  });

  it('names a bad forcedGc field by its path', () => {
    assert.throws(() => create({ forcedGc: { enableAtRuntime: 'yes' } }), { name: 'TypeError', message: /^Invalid option `responses\.forcedGc\.enableAtRuntime`: expected true or false/ });
    assert.throws(() => create({ forcedGc: { cooldown: 5 } }), { name: 'TypeError', message: /^Invalid option `responses\.forcedGc\.cooldown`: expected one of the known options/ });
  });

  it('names a bad heapSnapshot field by its path', () => {
    assert.throws(() => create({ heapSnapshot: { dir: '/tmp' } }), { name: 'TypeError', message: /^Invalid option `responses\.heapSnapshot\.dir`: expected one of the known options/ });
    assert.throws(() => create({ heapSnapshot: ['/tmp'] }), { name: 'TypeError', message: /^Invalid option `responses\.heapSnapshot`: expected an object with at least a directory, or false, got an array of 1/ });
  });
});
