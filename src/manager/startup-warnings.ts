import type { EffectiveLimit } from '../analysis/limits.js';
import { formatBytes } from '../util/size.js';
import type { WarningEvent } from './events.js';

export const HEAP_ABOVE_LIMIT_CODE = 'HEADROOM_HEAP_LIMIT_ABOVE_PROCESS_LIMIT';

const emittedCodes = new Set<string>();

/**
 * Warns, once per process, when V8 may grow the heap to or past the process
 * limit: the kernel then kills the process (exit 137) before V8 reports
 * "heap out of memory", and nothing explains the death.
 */
export function checkHeapAgainstProcessLimit(heapLimitBytes: number, limit: EffectiveLimit, time: number): WarningEvent | null {
  if (limit.limitBytes === null || heapLimitBytes < limit.limitBytes) return null;
  if (emittedCodes.has(HEAP_ABOVE_LIMIT_CODE)) return null;
  emittedCodes.add(HEAP_ABOVE_LIMIT_CODE);

  const message =
    `V8's heap limit (${formatBytes(heapLimitBytes)}) is at or above the process limit ` +
    `(${formatBytes(limit.limitBytes)}, from ${limit.source}): the process can be killed before V8 reports ` +
    `"heap out of memory". Start node with --max-old-space-size below the limit, for example ` +
    `${Math.floor((limit.limitBytes * 0.75) / 2 ** 20)} (MiB).`;
  process.emitWarning(message, { type: 'HeadroomWarning', code: HEAP_ABOVE_LIMIT_CODE });
  return { type: 'warning', time, code: HEAP_ABOVE_LIMIT_CODE, message };
}

/** Forgets which warnings were emitted, so tests can check each case. */
export function resetStartupWarningsForTests(): void {
  emittedCodes.clear();
}
