/**
 * The design's metrics, each defined in standard terms and computed from one
 * headroom sample. Pure functions, so every status rule is tested on scripted samples.
 */
import type { Sample } from '../sampling/sample.js';
import { GAMMA, LAMBDA, PHI } from './constants.js';

export const QDT_STATUSES = ['CRITICAL', 'UNSTABLE', 'OPTIMAL', 'BALANCED'] as const;

export type QdtStatus = (typeof QDT_STATUSES)[number];

export interface QdtMetrics {
  /** Milliseconds since the epoch, from the sample. */
  time: number;
  /**
   * Used share of the effective limit: the larger of the heap usage ratio
   * (live set over the heap budget) and the process usage ratio (RSS over the
   * process limit), the ratio headroom's levels are judged on. It can pass 1 near the limit.
   */
  filament: number;
  /** The share left: `1 - filament`, and 0 once filament passes 1. */
  void: number;
  /** `void / filament`, or null while filament is 0 (no usage measured). */
  vfRatio: number | null;
  /** Heap used over heap allocated (`heapUsed / heapTotal`): low after a collection leaves the heap mostly empty. */
  coherence: number;
  /** Heap used in MiB (2^20 bytes). */
  heapMB: number;
  status: QdtStatus;
  /** The budget that set `filament`: `heap` or `process`. */
  budget: Sample['budget'];
  /** headroom's pressure level for the same sample. */
  level: Sample['level'];
}

const MIB = 2 ** 20;

/**
 * Returns the status by the design's rules, first match wins: CRITICAL when
 * filament > LAMBDA, UNSTABLE when coherence < GAMMA, OPTIMAL when the V/F
 * ratio >= PHI (a null ratio, filament 0, counts as OPTIMAL), BALANCED otherwise.
 */
export function qdtStatus(filament: number, coherence: number, vfRatio: number | null): QdtStatus {
  if (filament > LAMBDA) return 'CRITICAL';
  if (coherence < GAMMA) return 'UNSTABLE';
  if (vfRatio === null || vfRatio >= PHI) return 'OPTIMAL';
  return 'BALANCED';
}

/** Computes the design's metrics from one sample. */
export function computeQdtMetrics(sample: Sample): QdtMetrics {
  const filament = Math.max(0, sample.heapUsageRatio, sample.processUsageRatio ?? 0);
  const voidShare = Math.max(0, 1 - filament);
  const vfRatio = filament > 0 ? voidShare / filament : null;
  // heapTotal is 0 only on a scripted or broken reading; a heap with nothing allocated is not fragmented.
  const coherence = sample.heapTotalBytes > 0 ? sample.heapUsedBytes / sample.heapTotalBytes : 1;

  return {
    time: sample.time,
    filament,
    void: voidShare,
    vfRatio,
    coherence,
    heapMB: sample.heapUsedBytes / MIB,
    status: qdtStatus(filament, coherence, vfRatio),
    budget: sample.budget,
    level: sample.level,
  };
}
