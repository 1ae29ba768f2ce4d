import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { INDEX_PATH, REGISTER_PATH } from '../helpers/cli.js';

const OPTIONAL_PACKAGES = ['better-sqlite3', 'express', 'fastify', 'ws', 'prom-client'];

/**
 * Follows the static imports of compiled modules from an entry and returns every
 * bare package reached. Dynamic `import()` is not followed: it loads only when
 * its feature is used, as the API server does under HEADROOM_PORT.
 */
function packagesReachedFrom(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const pending = [entry];

  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);

    const source = readFileSync(file, 'utf8');
    const specifiers = [...source.matchAll(/(?:\bfrom|^import)\s*['"]([^'"]+)['"]/gm)].map((match) => match[1] as string);
    for (const specifier of specifiers) {
      if (specifier.startsWith('.')) pending.push(resolve(dirname(file), specifier));
      else if (!specifier.startsWith('node:')) packages.add(specifier);
    }
  }
  return packages;
}

describe('core imports', () => {
  it('the scan finds packages where they are imported', () => {
    const reached = packagesReachedFrom(resolve(dirname(INDEX_PATH), 'adapters', 'http.js'));

    assert.ok(reached.has('ws'));
    assert.ok(reached.has('prom-client'));
  });

  for (const [name, entry] of [
    ['headroom', INDEX_PATH],
    ['headroom/register', REGISTER_PATH],
  ] as const) {
    it(`${name} reaches no optional package`, () => {
      const reached = packagesReachedFrom(entry);

      for (const optional of OPTIONAL_PACKAGES) assert.ok(!reached.has(optional), `${name} imports ${optional}`);
    });
  }
});
