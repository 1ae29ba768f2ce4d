/** Values at or above this are "no limit": cgroup v1 reports about 2^63 and `constrainedMemory()` 2^64 - 1. */
export const NO_LIMIT_FLOOR_BYTES = 2 ** 62;

export type LimitSource = 'cgroup-v2' | 'cgroup-v1' | 'constrained-memory' | 'configured';

/** Every process limit headroom reads, each null when absent or unlimited. */
export interface LimitReadings {
  cgroupV2Bytes: number | null;
  cgroupV1Bytes: number | null;
  constrainedMemoryBytes: number | null;
  configuredBytes: number | null;
}

export interface EffectiveLimit {
  limitBytes: number | null;
  source: LimitSource | null;
}

/** Returns null for readings that mean "no limit": missing, not finite, 0, or at least 2^62. */
export function normalizeLimit(value: number | bigint | null | undefined): number | null {
  if (value === null || value === undefined) return null;

  const bytes = Number(value);
  if (!Number.isFinite(bytes) || bytes <= 0 || bytes >= NO_LIMIT_FLOOR_BYTES) return null;
  return bytes;
}

/** Picks the smallest limit among the readings: the one the process hits first. */
export function effectiveLimit(readings: LimitReadings): EffectiveLimit {
  const candidates: Array<[LimitSource, number | null]> = [
    ['cgroup-v2', normalizeLimit(readings.cgroupV2Bytes)],
    ['cgroup-v1', normalizeLimit(readings.cgroupV1Bytes)],
    ['constrained-memory', normalizeLimit(readings.constrainedMemoryBytes)],
    ['configured', normalizeLimit(readings.configuredBytes)],
  ];

  let best: EffectiveLimit = { limitBytes: null, source: null };
  for (const [source, bytes] of candidates) {
    if (bytes === null) continue;
    if (best.limitBytes === null || bytes < best.limitBytes) best = { limitBytes: bytes, source };
  }

  return best;
}
