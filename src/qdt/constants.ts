/**
 * The constants of the "QDT-Enhanced Memory Management" design and the
 * headroom settings derived from them. The names are the design's, and each
 * comment states what the constant decides in headroom's terms.
 */
import type { PressureThresholds } from '../analysis/pressure.js';

/** Coherence threshold: below it (heap used over heap allocated) the status reads UNSTABLE. */
export const GAMMA = 0.4497;

/** Filament threshold: above it (used share of the effective limit) the status reads CRITICAL and forced GC runs. */
export const LAMBDA = 0.867;

/** The golden ratio: at or above it, void over filament reads OPTIMAL (filament at most 1 / (1 + PHI), about 0.382). */
export const PHI = 1.618;

/** Funneling threshold: below it, coherence triggers `gravitationalFunneling()`, which runs the releasers. */
export const ETA = 0.52;

/** The design checks memory every 5 s. */
export const QDT_INTERVAL_MS = 5000;

/**
 * Spacing between headroom's levels, as in its defaults (0.7, 0.8, 0.9): the
 * `qdt` profile keeps it and moves critical to LAMBDA.
 */
const LEVEL_SPACING = 0.1;

/**
 * The `qdt` profile: critical at LAMBDA (0.867), high at 0.767 and moderate
 * at 0.667. The design names no threshold for high and moderate, so they
 * keep the spacing of headroom's defaults below critical.
 */
export const QDT_THRESHOLDS: Readonly<PressureThresholds> = Object.freeze({
  moderate: round(LAMBDA - 2 * LEVEL_SPACING),
  high: round(LAMBDA - LEVEL_SPACING),
  critical: LAMBDA,
});

/** The shedding ramp for the `qdt` profile: from its high threshold to its critical one, as headroom's default ramp does for its own thresholds. */
export const QDT_SHEDDING_RAMP = Object.freeze({ fromRatio: QDT_THRESHOLDS.high, toRatio: QDT_THRESHOLDS.critical });

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
