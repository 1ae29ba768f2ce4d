import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Makes a temporary directory and returns it with a function that removes it. */
export function temporaryDirectory(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `headroom-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
