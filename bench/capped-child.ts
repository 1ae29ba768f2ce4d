/**
 * Runs a bench program again as a child process under a heap cap and a time
 * bound, and returns its stdout. Benchmarks that allocate a lot run their
 * measurement this way, so a mistake cannot grow without limit.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export interface CappedChildOptions {
  /** The compiled bench file to run. */
  file: string;
  args: string[];
  /** `--max-old-space-size` in MiB. */
  maxOldSpaceMiB: number;
  /** The child is killed after this long. */
  timeoutMs: number;
  /** Starts the child with `--expose-gc`, so it can collect before it reads memory. */
  exposeGc?: boolean;
}

export async function runCappedChild(options: CappedChildOptions): Promise<string> {
  const flags = [`--max-old-space-size=${options.maxOldSpaceMiB}`, ...(options.exposeGc ? ['--expose-gc'] : [])];
  const { stdout } = await promisify(execFile)(process.execPath, [...flags, options.file, ...options.args], {
    timeout: options.timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}
