import type { Registry } from 'prom-client';
import { isAtLeast } from '../analysis/levels.js';
import type { MemoryManager } from '../manager/manager.js';
import { parseDurationMs } from '../util/size.js';
import type { SampleHistory } from './history.js';
import { buildMetricsSnapshot, type MetricsSources } from './metrics-snapshot.js';
import type { TriggerLevel } from './options.js';
import { badParameter, errorResponse, jsonResponse } from './responses.js';
import type { ApiRequest, ApiResponse, HeadroomHistory } from './types.js';

export const DEFAULT_ANALYTICS_WINDOW = '15m';
const MIN_WINDOW_MS = 1000;
const MAX_WINDOW_MS = 24 * 3_600_000;

export function metricsRoute(sources: MetricsSources): ApiResponse {
  return jsonResponse(200, buildMetricsSnapshot(sources));
}

export async function prometheusRoute(registry: Registry | null): Promise<ApiResponse> {
  if (!registry) return errorResponse(404, 'not_found', 'Prometheus export is turned off (option `prometheus: false`).');

  const text = await registry.metrics();
  return { status: 200, headers: { 'content-type': registry.contentType, 'cache-control': 'no-store' }, body: text };
}

export interface HealthSettings {
  unhealthyLevel: TriggerLevel;
  retryAfterSeconds: number;
}

/** Responds 200 below `unhealthyLevel` and 503 with `Retry-After` at it or worse, for readiness probes. */
export function healthRoute(manager: MemoryManager, settings: HealthSettings): ApiResponse {
  const sample = manager.latest;
  const level = manager.level;
  const body = {
    status: isAtLeast(level, settings.unhealthyLevel) ? 'unavailable' : 'ok',
    level,
    budget: sample?.budget ?? null,
    usageRatio: sample ? Math.max(sample.heapUsageRatio, sample.processUsageRatio ?? 0) : null,
    time: sample?.time ?? null,
  };

  if (body.status === 'ok') return jsonResponse(200, body);
  return jsonResponse(503, body, { 'retry-after': String(settings.retryAfterSeconds) });
}

/** Reads the `window` query parameter: a duration such as `15m`, from 1 s to 24 h. Returns milliseconds or the 400 to send. */
export function readWindowParameter(query: URLSearchParams): number | ApiResponse {
  const rule = 'one duration from 1s to 24h, such as "30s", "15m" or "1h"';
  const values = query.getAll('window');
  if (values.length > 1) return badParameter('window', rule, values);

  const text = values[0] ?? DEFAULT_ANALYTICS_WINDOW;
  const windowMs = /^\d+(\.\d+)?(ms|s|m|min|h)$/.test(text) ? parseDurationMs(text) : null;
  if (windowMs === null || windowMs < MIN_WINDOW_MS || windowMs > MAX_WINDOW_MS) return badParameter('window', rule, text);
  return windowMs;
}

export interface AnalyticsSources {
  /** A provider that replaces the built-in history, or null. */
  provider: HeadroomHistory | null;
  builtIn: SampleHistory;
  historySize: number;
  nowEpochMs: () => number;
}

/** Summarizes the last `window` of history: usage distribution, time per level, GC, actions, leaks. */
export async function analyticsRoute(request: ApiRequest, sources: AnalyticsSources): Promise<ApiResponse> {
  const windowMs = readWindowParameter(request.query);
  if (typeof windowMs !== 'number') return windowMs;

  if (sources.provider) return jsonResponse(200, await sources.provider.summarize(windowMs));

  const summary = sources.builtIn.summarize(windowMs, sources.nowEpochMs());
  return jsonResponse(200, { source: 'built-in', historySize: sources.historySize, ...summary });
}
