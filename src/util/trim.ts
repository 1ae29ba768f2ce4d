import type { PressureLevel } from '../analysis/levels.js';

/**
 * A count of what one `trim(level)` call dropped. `bytes` is an estimate, or null when the
 * component cannot size what it dropped. A releaser can return `bytes ?? undefined`.
 */
export interface TrimResult {
  /** Items dropped: idle objects, buffers, or records kept in memory. */
  items: number;
  bytes: number | null;
}

/**
 * Returns how many of `count` droppable items to drop at `level`: none at
 * normal, half (rounded up) at moderate, all at high and critical.
 */
export function itemsToTrim(level: PressureLevel, count: number): number {
  if (level === 'normal') return 0;
  if (level === 'moderate') return Math.ceil(count / 2);
  return count;
}
