import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CLI_PATH, readEvents, runToEnd } from '../helpers/cli.js';

const workDir = mkdtempSync(join(tmpdir(), 'headroom-demo-'));

after(() => {
  rmSync(workDir, { recursive: true, force: true });
});

describe('headroom demo', () => {
  // Regression: a loop utilisation a rounding error above 1 made every automatic relieve fail, and the demo died of OOM.
  it('relieves the leaky service and survives', { timeout: 90_000 }, async () => {
    const eventsFile = join(workDir, 'demo.ndjson');
    const result = await runToEnd(process.execPath, [CLI_PATH, 'demo', '--duration', '25s', '--dashboard', 'off', '--events', eventsFile], { timeoutMs: 80_000 });

    assert.equal(result.code, 0, result.stderr);
    const events = readEvents(eventsFile);
    const actions = events.filter((event) => event.type === 'action');
    assert.ok(actions.length >= 1, `no action event among ${events.length} events`);
    assert.ok(actions.some((action) => (action.reclaimedBytes as number) > 0), `no action reclaimed memory: ${JSON.stringify(actions)}`);
    assert.equal(events.at(-1)?.type, 'exit');
    assert.equal(events.at(-1)?.reason, 'exited');
    assert.doesNotMatch(result.stderr, /automatic relieve failed/);
    assert.match(result.stderr, /load {11}(\d+) of \1 requests completed, 0 failed/);
  });
});
