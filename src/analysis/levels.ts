/** Pressure levels, from no pressure to about to die. */
export const PRESSURE_LEVELS = ['normal', 'moderate', 'high', 'critical'] as const;

export type PressureLevel = (typeof PRESSURE_LEVELS)[number];

/** The heap budget is heap used against V8's heap limit; the process budget is RSS against the process limit. */
export type Budget = 'heap' | 'process';

/** Returns the rank of a level: 0 for normal up to 3 for critical. */
export function levelRank(level: PressureLevel): number {
  return PRESSURE_LEVELS.indexOf(level);
}

/** Returns true when `level` is `threshold` or worse. */
export function isAtLeast(level: PressureLevel, threshold: PressureLevel): boolean {
  return levelRank(level) >= levelRank(threshold);
}

export function isPressureLevel(value: unknown): value is PressureLevel {
  return typeof value === 'string' && (PRESSURE_LEVELS as readonly string[]).includes(value);
}
