import type { MemoryManager } from '../manager/manager.js';
import type { Logger } from '../util/logger.js';
import type { HeadroomCounters } from './counters.js';
import { responsesStatus } from './manager-providers.js';
import type { LoadShedder } from './shedder.js';
import type { HeadroomAnalysis } from './types.js';

/** Sources of the figures of GET /metrics and the Prometheus collectors. */
export interface MetricsSources {
  manager: MemoryManager;
  shedder: LoadShedder | null;
  counters: HeadroomCounters;
  analysis: (() => HeadroomAnalysis | null) | null;
  extraMetrics: (() => Record<string, unknown>) | null;
  logger: Logger;
}

/** Calls the analysis provider. A provider that throws is logged and reads as absent, so the metrics routes still respond. */
export function readAnalysis(sources: MetricsSources): HeadroomAnalysis | null {
  if (!sources.analysis) return null;

  try {
    return sources.analysis();
  } catch (err) {
    sources.logger.error({ err }, 'headroom: the analysis provider threw; metrics are served without leak figures');
    return null;
  }
}

function readExtraMetrics(sources: MetricsSources): Record<string, unknown> {
  if (!sources.extraMetrics) return {};

  try {
    return sources.extraMetrics();
  } catch (err) {
    sources.logger.error({ err }, 'headroom: the extraMetrics provider threw; metrics are served without its sections');
    return {};
  }
}

/**
 * Builds the body of GET /metrics from the latest sample and state. Before
 * the first sample the sample-based sections are null. Sections from
 * `extraMetrics` (such as `pools` or `governor`) are added at the top level
 * and cannot replace the built-in ones.
 */
export function buildMetricsSnapshot(sources: MetricsSources): Record<string, unknown> {
  const { manager, shedder, counters } = sources;
  const sample = manager.latest;
  const limits = manager.limits();
  const analysis = readAnalysis(sources);

  const builtIn: Record<string, unknown> = {
    time: sample?.time ?? null,
    level: manager.level,
    budget: sample?.budget ?? null,
    usageRatio: sample ? Math.max(sample.heapUsageRatio, sample.processUsageRatio ?? 0) : null,
    budgets: sample
      ? {
          heap: { usedBytes: sample.heapUsedBytes, budgetBytes: sample.heapBudgetBytes, usageRatio: sample.heapUsageRatio },
          process: { usedBytes: sample.rssBytes, limitBytes: sample.limitBytes, usageRatio: sample.processUsageRatio },
        }
      : null,
    limits: {
      heapLimitBytes: limits.heapLimitBytes,
      heapBudgetBytes: sample?.heapBudgetBytes ?? null,
      processLimitBytes: limits.limitBytes,
      processLimitSource: limits.limitSource,
      readings: limits.readings,
    },
    heap: sample
      ? {
          usedBytes: sample.heapUsedBytes,
          totalBytes: sample.heapTotalBytes,
          limitBytes: sample.heapLimitBytes,
          externalBytes: sample.externalBytes,
          arrayBuffersBytes: sample.arrayBuffersBytes,
          spaces: sample.spaces,
        }
      : null,
    process: { pid: process.pid, uptimeSeconds: process.uptime(), rssBytes: sample?.rssBytes ?? null },
    liveSet: analysis ? { liveBytes: analysis.liveSetBytes } : null,
    gc: { lastInterval: sample?.gc ?? null, total: { count: counters.gcCollections, pauseMs: counters.gcPauseMs } },
    eventLoop: sample?.eventLoop ?? null,
    leak: analysis ? { leaks: analysis.leaks } : null,
    forecast: analysis ? { timeToLimitMs: analysis.timeToLimitMs, budget: analysis.budget } : null,
    actions: Object.fromEntries(counters.actions),
    responses: responsesStatus(manager),
    shedding: shedder?.state ?? null,
    sampler: { intervalMs: manager.intervalMs, running: manager.running, ...manager.stats },
  };

  return { ...readExtraMetrics(sources), ...builtIn };
}
