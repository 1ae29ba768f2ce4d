import type { PressureLevel } from '../analysis/levels.js';

/** How many jobs may run at each level. */
export interface ActiveWindow {
  /** Jobs that may run at normal. */
  maxActive: number;
  /** Jobs that may run at moderate. */
  activeAtModerate: number;
  /** Jobs that may run at high. */
  minActive: number;
  /**
   * Jobs that keep running at critical, where no job starts. Running jobs past
   * this count are cancelled, lowest priority first.
   */
  keepAtCritical: number;
}

/** Returns how many jobs may run at `level`; at critical no job may start, so it returns 0. */
export function windowSize(window: ActiveWindow, level: PressureLevel): number {
  switch (level) {
    case 'normal':
      return window.maxActive;
    case 'moderate':
      return window.activeAtModerate;
    case 'high':
      return window.minActive;
    case 'critical':
      return 0;
  }
}

/** Returns the default window at moderate: halfway between `minActive` and `maxActive`, rounded down (3 for the defaults 2 and 5). */
export function defaultActiveAtModerate(minActive: number, maxActive: number): number {
  return Math.floor((minActive + maxActive) / 2);
}
