import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FIXTURES, runToEnd } from '../helpers/cli.js';

const MB = 1_000_000;

interface BatchResult {
  mode: string;
  completed: number;
  peakExternalBytes: number;
  peakArrayBuffersBytes: number;
  durationMs: number;
}

/** Runs the 500-task fixture under a 128 MB heap cap; the child is killed if it runs past 60 s. */
async function runBatch(mode: 'unbounded' | 'governed'): Promise<BatchResult> {
  const result = await runToEnd(process.execPath, ['--max-old-space-size=128', join(FIXTURES, 'governed-batch.js'), mode], { timeoutMs: 60_000 });
  assert.equal(result.code, 0, `${mode} batch exited with ${result.code ?? result.signal}: ${result.stderr}`);

  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as BatchResult;
}

describe('500 tasks of 1 MB each', () => {
  test('governor keeps external memory flat', { timeout: 70_000 }, async () => {
    const [unbounded, governed] = await Promise.all([runBatch('unbounded'), runBatch('governed')]);
    const figures = JSON.stringify({ unbounded, governed });

    assert.equal(unbounded.completed, 500);
    assert.equal(governed.completed, 500);
    assert.ok(governed.peakArrayBuffersBytes < 20 * MB, `governed peak arrayBuffers must stay under 20 MB: ${figures}`);
    assert.ok(governed.peakExternalBytes < 20 * MB, `governed peak external must stay under 20 MB: ${figures}`);
    assert.ok(unbounded.peakArrayBuffersBytes > 100 * MB, `unbounded peak arrayBuffers should pass 100 MB: ${figures}`);
  });
});
