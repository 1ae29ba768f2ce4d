import { PRESSURE_LEVELS, levelRank, type Budget, type PressureLevel } from './levels.js';

/** Usage ratios (0 to 1 of a budget) at which each level starts. */
export interface PressureThresholds {
  moderate: number;
  high: number;
  critical: number;
}

export const DEFAULT_THRESHOLDS: PressureThresholds = { moderate: 0.7, high: 0.8, critical: 0.9 };

export interface PressureTrackerOptions {
  thresholds: PressureThresholds;
  /** A level is left only once usage falls below its threshold minus this ratio. */
  hysteresisRatio: number;
  /** During this time after start, levels below critical read as normal. */
  warmUpMs: number;
}

/** Usage of both budgets at one moment. */
export interface BudgetUsage {
  heapUsageRatio: number;
  /** Null when the process has no limit. */
  processUsageRatio: number | null;
}

export interface PressureUpdate {
  level: PressureLevel;
  previous: PressureLevel;
  changed: boolean;
  budget: Budget;
  usageRatio: number;
}

/**
 * Turns budget usage into a pressure level with hysteresis and a warm-up grace.
 *
 * Both budgets share the thresholds, so the level is that of the higher usage
 * ratio. Critical is never held back by the warm-up, because a process that
 * reaches 90 % of its limit while starting can die while starting.
 */
export class PressureTracker {
  readonly #options: PressureTrackerOptions;
  #level: PressureLevel = 'normal';

  constructor(options: PressureTrackerOptions) {
    this.#options = options;
  }

  get level(): PressureLevel {
    return this.#level;
  }

  /** Applies one reading taken `elapsedMs` after start and returns the resulting level. */
  update(usage: BudgetUsage, elapsedMs: number): PressureUpdate {
    const processRatio = usage.processUsageRatio;
    const budget: Budget = processRatio !== null && processRatio > usage.heapUsageRatio ? 'process' : 'heap';
    const usageRatio = budget === 'process' ? (processRatio as number) : usage.heapUsageRatio;

    let next = this.#nextLevel(usageRatio);
    if (elapsedMs < this.#options.warmUpMs && next !== 'critical') next = 'normal';

    const previous = this.#level;
    this.#level = next;
    return { level: next, previous, changed: next !== previous, budget, usageRatio };
  }

  #nextLevel(usageRatio: number): PressureLevel {
    const current = levelRank(this.#level);
    const entered = this.#highestLevelAt(usageRatio, 0);
    if (entered >= current) return PRESSURE_LEVELS[entered] as PressureLevel;

    // Going down: stay at any level whose threshold minus the hysteresis is still reached.
    const kept = this.#highestLevelAt(usageRatio, this.#options.hysteresisRatio);
    return PRESSURE_LEVELS[Math.min(kept, current)] as PressureLevel;
  }

  #highestLevelAt(usageRatio: number, margin: number): number {
    const { moderate, high, critical } = this.#options.thresholds;
    if (usageRatio >= critical - margin) return 3;
    if (usageRatio >= high - margin) return 2;
    if (usageRatio >= moderate - margin) return 1;
    return 0;
  }
}
