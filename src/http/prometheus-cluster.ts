import cluster from 'node:cluster';
import { AggregatorRegistry, register as globalRegistry, type PrometheusContentType, type Registry } from 'prom-client';
import { errorMessage } from './options.js';
import { errorResponse } from './responses.js';
import type { ApiResponse } from './types.js';

let aggregator: AggregatorRegistry<PrometheusContentType> | null = null;

/** prom-client installs its cluster message listeners when the first AggregatorRegistry is constructed. */
function clusterAggregator(): AggregatorRegistry<PrometheusContentType> {
  aggregator ??= new AggregatorRegistry();
  return aggregator;
}

/**
 * Makes this cluster worker respond to the primary's metric requests with
 * `registry` and `others`. prom-client keeps one process-wide list of
 * registries for this, so the call replaces any earlier list; `others`
 * defaults to prom-client's global registry, the one it responds with by
 * default. Does nothing outside a cluster worker.
 */
export function shareRegistryWithClusterPrimary(registry: Registry, others: readonly Registry[] = [globalRegistry]): void {
  if (!cluster.isWorker) return;

  clusterAggregator();
  AggregatorRegistry.setRegistries([registry, ...others.filter((other) => other !== registry)]);
}

/**
 * Collects the metrics of every cluster worker in the primary, aggregated
 * by each metric's `aggregator` (headroom's byte gauges add up, levels and
 * ratios take the worst worker). prom-client rejects after 5 s when a
 * worker does not respond.
 */
export async function collectClusterMetrics(): Promise<{ contentType: string; text: string }> {
  if (!cluster.isPrimary) throw new Error('collectClusterMetrics() runs in the cluster primary only; in a worker, serve GET /metrics/prometheus');

  const registry = clusterAggregator();
  return { contentType: registry.contentType, text: await registry.clusterMetrics() };
}

/** Returns the aggregated cluster metrics as a response, or a JSON 500 when a worker failed to respond. */
export async function clusterMetricsResponse(): Promise<ApiResponse> {
  try {
    const { contentType, text } = await collectClusterMetrics();
    return { status: 200, headers: { 'content-type': contentType, 'cache-control': 'no-store' }, body: text };
  } catch (err) {
    return errorResponse(500, 'internal_error', `Failed to collect metrics from the cluster workers: ${errorMessage(err)}`);
  }
}
