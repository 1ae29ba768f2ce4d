import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runInNewContext } from 'node:vm';
import { detectForcedGc, isFlagAfterScript } from '../../src/responses/gc-availability.js';

const NODE = '/usr/bin/node';
const SCRIPT = '/srv/app.js';

describe('detectForcedGc', () => {
  test('available when gc is a global function', () => {
    const gc = () => {};
    const availability = detectForcedGc({ globalGc: gc, argv: [NODE, SCRIPT], execArgv: ['--expose-gc'] });

    assert.equal(availability.available, true);
    assert.equal(availability.gc, gc);
    assert.equal(availability.available && availability.source, 'expose-gc');
  });

  test('reason names the flag when it is missing', () => {
    const availability = detectForcedGc({ globalGc: undefined, argv: [NODE, SCRIPT], execArgv: [] });

    assert.equal(availability.available, false);
    assert.equal(availability.gc, null);
    assert.equal(availability.flagAfterScript, false);
    assert.match(availability.available ? '' : availability.reason, /started without --expose-gc/);
    assert.match(availability.available ? '' : availability.reason, /enableAtRuntime/);
  });

  test('reason explains flag after script', () => {
    const availability = detectForcedGc({ globalGc: undefined, argv: [NODE, SCRIPT, '--expose-gc'], execArgv: [] });

    assert.equal(availability.available, false);
    assert.equal(availability.flagAfterScript, true);
    assert.match(availability.available ? '' : availability.reason, /after the script name/);
    assert.match(availability.available ? '' : availability.reason, /node --expose-gc app\.js/);
  });

  test('enableAtRuntime gives gc without global', () => {
    const hadGlobalGc = typeof (globalThis as { gc?: unknown }).gc === 'function';
    const availability = detectForcedGc({ enableAtRuntime: true, globalGc: undefined, argv: [NODE, SCRIPT], execArgv: [] });

    assert.equal(availability.available, true);
    assert.equal(availability.available && availability.source, 'enabled-at-runtime');
    assert.doesNotThrow(() => availability.gc?.());
    assert.equal(typeof (globalThis as { gc?: unknown }).gc === 'function', hadGlobalGc);
    assert.equal(runInNewContext('typeof gc'), 'undefined');
  });

  test('rejects invalid options', () => {
    assert.throws(() => detectForcedGc({ enableAtRuntime: 'yes' as never }), { name: 'TypeError', message: /`enableAtRuntime`/ });
    assert.throws(() => detectForcedGc({ argv: 'node app.js' as never }), { name: 'TypeError', message: /`argv`/ });
  });
});

describe('isFlagAfterScript', () => {
  const cases: Array<[string, string[], string[], boolean]> = [
    ['flag after the script only', [NODE, SCRIPT, '--expose-gc'], [], true],
    ['underscore spelling after the script', [NODE, SCRIPT, '--expose_gc'], [], true],
    ['flag before the script', [NODE, SCRIPT], ['--expose-gc'], false],
    ['flag on both sides', [NODE, SCRIPT, '--expose-gc'], ['--expose-gc'], false],
    ['no flag', [NODE, SCRIPT, '--port', '80'], [], false],
  ];

  for (const [name, argv, execArgv, expected] of cases) {
    test(name, () => {
      assert.equal(isFlagAfterScript(argv, execArgv), expected);
    });
  }
});

describe('flag after the script name in a real process', () => {
  test('reports the reason and does not throw', () => {
    const directory = mkdtempSync(join(tmpdir(), 'headroom-gc-'));
    const script = join(directory, 'app.mjs');
    const moduleUrl = new URL('../../src/responses/gc-availability.js', import.meta.url).href;
    const forcedGcUrl = new URL('../../src/responses/forced-gc.js', import.meta.url).href;
    writeFileSync(
      script,
      [
        `import { detectForcedGc } from ${JSON.stringify(moduleUrl)};`,
        `import { createForcedGcController } from ${JSON.stringify(forcedGcUrl)};`,
        'const availability = detectForcedGc();',
        "const controller = createForcedGcController({ logger: { debug() {}, info() {}, warn() {}, error() {} } });",
        "const result = controller.run({ level: 'critical' });",
        'console.log(JSON.stringify({ availability, result, globalGc: typeof globalThis.gc }));',
      ].join('\n'),
    );

    try {
      const child = spawnSync(process.execPath, ['--max-old-space-size=64', script, '--expose-gc'], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(child.status, 0, child.stderr);

      const output = JSON.parse(child.stdout) as {
        availability: { available: boolean; reason: string; flagAfterScript: boolean };
        result: { ran: boolean; reason: string; message: string };
        globalGc: string;
      };
      assert.equal(output.globalGc, 'undefined');
      assert.equal(output.availability.available, false);
      assert.equal(output.availability.flagAfterScript, true);
      assert.match(output.availability.reason, /after the script name/);
      assert.equal(output.result.ran, false);
      assert.equal(output.result.reason, 'unavailable');
      assert.match(output.result.message, /after the script name/);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
