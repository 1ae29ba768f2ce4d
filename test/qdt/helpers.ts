import { QDTMemoryManager, type QDTMemoryManagerOptions } from '../../src/qdt/manager.js';
import type { Sample } from '../../src/sampling/sample.js';
import { emptyGcReading } from '../../src/sampling/sample.js';
import { silentLogger } from '../../src/util/logger.js';
import { ScriptedClock, ScriptedProbe } from '../helpers/scripted.js';

const MIB = 2 ** 20;

/** The process limit of scripted QDT managers: RSS is scripted against it. */
export const LIMIT_BYTES = 1024 * MIB;

export interface ScriptedQdt {
  qdt: QDTMemoryManager;
  clock: ScriptedClock;
  probe: ScriptedProbe;
  /** Advances the clock by `stepMs` and samples with RSS at `filament` of the limit and heap used over heap total at `coherence`. */
  sampleAt(filament: number, coherence?: number, stepMs?: number): Sample;
}

/**
 * Creates a started QDT manager on a scripted clock and probe with a 1 GiB
 * limit. Its one-hour interval keeps the real timer from firing, so only the
 * test takes samples; warm-up and headroom's own automatic responses are off.
 */
export function createScriptedQdt(options: QDTMemoryManagerOptions = {}): ScriptedQdt {
  const clock = new ScriptedClock();
  const probe = new ScriptedProbe();
  const qdt = new QDTMemoryManager({
    clock,
    probe,
    logger: silentLogger,
    intervalMs: '1h',
    pressureIntervalMs: '1h',
    warmUpMs: 0,
    limit: LIMIT_BYTES,
    responses: { automatic: false, forcedGc: false },
    ...options,
  }).start();

  return {
    qdt,
    clock,
    probe,
    sampleAt(filament, coherence = 0.8, stepMs = 1000) {
      probe.rss = Math.round(filament * LIMIT_BYTES);
      probe.heapReading.totalBytes = 20 * MIB;
      probe.heapReading.usedBytes = Math.round(coherence * 20 * MIB);
      clock.advance(stepMs);
      return qdt.manager.sampleNow();
    },
  };
}

/** Builds a sample with the figures the QDT metrics read. The other fields are plausible constants. */
export function sampleWith(figures: { heapUsageRatio?: number; processUsageRatio?: number | null; heapUsedBytes?: number; heapTotalBytes?: number }): Sample {
  return {
    time: 1_700_000_000_000,
    intervalMs: 5000,
    heapUsedBytes: figures.heapUsedBytes ?? 40 * MIB,
    heapTotalBytes: figures.heapTotalBytes ?? 50 * MIB,
    heapLimitBytes: 176 * MIB,
    heapBudgetBytes: 102.4 * MIB,
    externalBytes: 0,
    arrayBuffersBytes: 0,
    rssBytes: 120 * MIB,
    limitBytes: null,
    heapUsageRatio: figures.heapUsageRatio ?? 0.3,
    processUsageRatio: figures.processUsageRatio ?? null,
    liveBytes: 30 * MIB,
    timeToLimitMs: null,
    workers: { count: 0, heapUsedBytes: 0, heapLimitBytes: 0, liveBytes: 0 },
    level: 'normal',
    budget: 'heap',
    spaces: [],
    gc: emptyGcReading(),
    eventLoop: { delayP50Ms: 10, delayP99Ms: 12, utilization: 0.1 },
  };
}
