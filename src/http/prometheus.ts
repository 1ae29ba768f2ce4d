import { collectDefaultMetrics, Counter, Gauge, Registry, type Aggregator } from 'prom-client';
import { levelRank } from '../analysis/levels.js';
import type { Sample } from '../sampling/sample.js';
import { readAnalysis, type MetricsSources } from './metrics-snapshot.js';
import { shareRegistryWithClusterPrimary } from './prometheus-cluster.js';
import { booleanOption, objectOption, rejectUnknownOptions } from './options.js';

export interface PrometheusOptions {
  /** Adds prom-client's default `nodejs_*` and `process_*` metrics to the registry. Default false. */
  defaultMetrics?: boolean;
  /** Registers the `headroom_*` metrics in this registry instead of a new one. */
  registry?: Registry;
  /**
   * In a cluster worker, responds to the primary's metric requests with this
   * registry (and prom-client's global one), for `collectClusterMetrics()`.
   * Default false.
   */
  cluster?: boolean;
}

export interface ResolvedPrometheusOptions {
  defaultMetrics: boolean;
  registry: Registry | null;
  cluster: boolean;
}

export function resolvePrometheusOptions(value: PrometheusOptions | undefined): ResolvedPrometheusOptions {
  const options = objectOption('prometheus', value);
  rejectUnknownOptions('prometheus', options, ['defaultMetrics', 'registry', 'cluster']);

  if (options.registry !== undefined && !(options.registry instanceof Registry)) {
    throw new TypeError('Invalid option `prometheus.registry`: expected a prom-client Registry from the same prom-client copy as headroom');
  }
  return {
    defaultMetrics: booleanOption('prometheus.defaultMetrics', options.defaultMetrics, false),
    registry: options.registry ?? null,
    cluster: booleanOption('prometheus.cluster', options.cluster, false),
  };
}

type SampleFigure = (sample: Sample) => number;

/**
 * A gauge that leaves out values set to NaN, so an unknown figure (before the
 * first sample, without an analysis provider, no process limit) is an absent
 * series instead of a made-up 0. prom-client would print NaN as `Nan`, and
 * +Inf would not survive cluster aggregation, whose IPC messages turn it into null.
 */
class OptionalGauge extends Gauge {
  override async get(): ReturnType<Gauge['get']> {
    const metric = await super.get();
    return { ...metric, values: metric.values.filter((value) => !Number.isNaN(value.value)) };
  }
}

/**
 * One gauge per sample figure, each read from the latest sample at scrape
 * time. `aggregator` sets how prom-client's cluster aggregation combines the
 * workers' values: bytes add up, levels and ratios take the worst worker.
 */
const SAMPLE_GAUGES: ReadonlyArray<{ name: string; help: string; aggregator: Aggregator; read: SampleFigure }> = [
  { name: 'headroom_heap_used_bytes', help: 'V8 heap used', aggregator: 'sum', read: (s) => s.heapUsedBytes },
  { name: 'headroom_heap_total_bytes', help: 'V8 heap reserved', aggregator: 'sum', read: (s) => s.heapTotalBytes },
  { name: 'headroom_heap_limit_bytes', help: "V8's heap_size_limit", aggregator: 'sum', read: (s) => s.heapLimitBytes },
  {
    name: 'headroom_heap_budget_bytes',
    help: 'Heap budget: 80 % of the old generation maximum, the denominator of the heap usage ratio',
    aggregator: 'sum',
    read: (s) => s.heapBudgetBytes,
  },
  { name: 'headroom_external_bytes', help: 'V8 external memory (Buffers and other ArrayBuffer backing stores)', aggregator: 'sum', read: (s) => s.externalBytes },
  { name: 'headroom_array_buffers_bytes', help: 'ArrayBuffer and Buffer memory', aggregator: 'sum', read: (s) => s.arrayBuffersBytes },
  { name: 'headroom_rss_bytes', help: 'Resident set size', aggregator: 'sum', read: (s) => s.rssBytes },
  {
    name: 'headroom_process_limit_bytes',
    help: 'Effective process limit: the smallest of cgroup, constrainedMemory and configured; absent without one',
    // Workers of one cluster usually share one cgroup limit, so adding them up would overstate it.
    aggregator: 'max',
    read: (s) => s.limitBytes ?? Number.NaN,
  },
  {
    name: 'headroom_event_loop_utilization_ratio',
    help: 'Share of the last sample interval the event loop was busy',
    aggregator: 'average',
    read: (s) => s.eventLoop.utilization,
  },
  {
    name: 'headroom_event_loop_delay_p99_seconds',
    help: '99th percentile event-loop delay over the last sample interval',
    aggregator: 'max',
    read: (s) => s.eventLoop.delayP99Ms / 1000,
  },
];

/**
 * Adds the `headroom_*` metrics to a registry. Every value is computed at
 * scrape time, in collect() callbacks, from the latest sample, the counters
 * and the analysis provider; nothing here samples the process. Figures that
 * are unknown (before the first sample, without a provider) are left out.
 */
export function registerHeadroomMetrics(registry: Registry, sources: MetricsSources): string[] {
  const before = new Set(registry.getMetricsAsArray().map((metric) => metric.name));
  const latest = (): Sample | null => sources.manager.latest;

  for (const figure of SAMPLE_GAUGES) {
    new OptionalGauge({
      name: figure.name,
      help: figure.help,
      registers: [registry],
      aggregator: figure.aggregator,
      collect() {
        const sample = latest();
        this.set(sample ? figure.read(sample) : Number.NaN);
      },
    });
  }

  registerPressureGauges(registry, sources);
  registerAnalysisGauges(registry, sources);
  registerCounters(registry, sources);
  return registry
    .getMetricsAsArray()
    .map((metric) => metric.name)
    .filter((name) => !before.has(name));
}

function registerPressureGauges(registry: Registry, sources: MetricsSources): void {
  new Gauge({
    name: 'headroom_level',
    help: 'Pressure level: 0 normal, 1 moderate, 2 high, 3 critical',
    registers: [registry],
    aggregator: 'max',
    collect() {
      this.set(levelRank(sources.manager.level));
    },
  });

  new Gauge({
    name: 'headroom_usage_ratio',
    help: 'Usage of each budget: heap used over the heap budget, RSS over the process limit',
    labelNames: ['budget'],
    registers: [registry],
    aggregator: 'max',
    collect() {
      this.reset();
      const sample = sources.manager.latest;
      if (!sample) return;

      this.set({ budget: 'heap' }, sample.heapUsageRatio);
      if (sample.processUsageRatio !== null) this.set({ budget: 'process' }, sample.processUsageRatio);
    },
  });

  new Gauge({
    name: 'headroom_shed_ratio',
    help: 'Share of requests the load shedder rejects until the next sample',
    registers: [registry],
    aggregator: 'max',
    collect() {
      this.set(sources.shedder?.shedRatio ?? 0);
    },
  });
}

function registerAnalysisGauges(registry: Registry, sources: MetricsSources): void {
  new OptionalGauge({
    name: 'headroom_live_bytes',
    help: 'Estimated heap that survives a full collection (the live set)',
    registers: [registry],
    aggregator: 'sum',
    collect() {
      this.set(readAnalysis(sources)?.liveSetBytes ?? Number.NaN);
    },
  });

  new Gauge({
    name: 'headroom_leak_rate_bytes_per_second',
    help: 'Growth rate of each memory kind currently reported as a leak',
    labelNames: ['kind'],
    registers: [registry],
    aggregator: 'sum',
    collect() {
      this.reset();
      for (const leak of readAnalysis(sources)?.leaks ?? []) this.set({ kind: leak.kind }, leak.rateBytesPerSecond);
    },
  });

  new OptionalGauge({
    name: 'headroom_seconds_to_limit',
    help: 'Forecast time until the first budget runs out at current growth rates; absent without a forecast',
    registers: [registry],
    aggregator: 'min',
    collect() {
      const timeToLimitMs = readAnalysis(sources)?.timeToLimitMs ?? null;
      this.set(timeToLimitMs === null ? Number.NaN : timeToLimitMs / 1000);
    },
  });
}

function registerCounters(registry: Registry, sources: MetricsSources): void {
  const { counters } = sources;

  // prom-client counters only go up by inc(), so each collect() resets them and adds the running total.
  new Counter({
    name: 'headroom_gc_collections_total',
    help: 'Garbage collections observed since the API was created',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(counters.gcCollections);
    },
  });

  new Counter({
    name: 'headroom_gc_pause_seconds_total',
    help: 'Time paused in garbage collections observed since the API was created',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(counters.gcPauseMs / 1000);
    },
  });

  new Counter({
    name: 'headroom_actions_total',
    help: 'Pressure-relief actions run, by action',
    labelNames: ['action'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [action, totals] of counters.actions) this.inc({ action }, totals.count);
    },
  });

  new Counter({
    name: 'headroom_reclaimed_bytes_total',
    help: 'Heap bytes the pressure-relief actions reclaimed, by action',
    labelNames: ['action'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [action, totals] of counters.actions) this.inc({ action }, totals.reclaimedBytes);
    },
  });

  new Counter({
    name: 'headroom_shed_requests_total',
    help: 'Requests the load shedder rejected with 503',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sources.shedder?.shedRequests ?? 0);
    },
  });
}

/** The registry behind GET /metrics/prometheus, and how to take headroom's metrics out of it again. */
export interface HeadroomRegistry {
  registry: Registry;
  /** Removes the metrics headroom added; a registry headroom created is cleared. */
  close(): void;
}

/**
 * Creates the registry behind GET /metrics/prometheus, or fills the one in
 * the options. With `defaultMetrics`, prom-client's default metrics are added;
 * with `cluster`, a cluster worker shares the registry with the primary.
 */
export function createHeadroomRegistry(sources: MetricsSources, options: ResolvedPrometheusOptions): HeadroomRegistry {
  const owned = options.registry === null;
  const registry = options.registry ?? new Registry();
  const names = registerHeadroomMetrics(registry, sources);

  // NOTE: prom-client 15 offers no way to stop its default metrics: the event-loop
  // delay histogram they enable stays on after the API is closed.
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  if (options.cluster) shareRegistryWithClusterPrimary(registry);

  return {
    registry,
    close: () => {
      if (owned) registry.clear();
      else for (const name of names) registry.removeSingleMetric(name);
    },
  };
}
