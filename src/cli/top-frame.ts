import { isPressureLevel } from '../analysis/levels.js';
import type { Sample } from '../sampling/sample.js';
import { formatBytes, formatDurationMs } from '../util/size.js';
import { renderDashboard } from './dashboard.js';

/** Source of the figures `headroom top` shows: the stream, polling, or none yet. */
export type TopConnection = 'connecting' | 'stream' | 'polling' | 'offline';

/** An event from the stream, as `headroom top` lists it. */
export interface TopEvent {
  type: string;
  /** Milliseconds since the epoch. */
  time: number;
  text: string;
}

/** Everything one frame of `headroom top` shows. Each field may be missing, or shaped by another headroom version. */
export interface TopState {
  url: string;
  connection: TopConnection;
  /** The last connection or request failure, shown while not streaming. */
  lastError: string | null;
  /** The latest sample, from the stream or rebuilt from GET /metrics. */
  sample: Record<string, unknown> | null;
  /** The latest GET /metrics body: forecast, leaks, shedding, pools and governor come from it. */
  metrics: Record<string, unknown> | null;
  /** Newest first. */
  events: TopEvent[];
}

/** Events listed under the figures. */
export const TOP_EVENTS_SHOWN = 5;
/** Pools listed, one line each. */
const POOLS_SHOWN = 4;
/** Fields listed per governor or pool line. */
const FIELDS_PER_LINE = 6;

const CONNECTION_LABELS: Record<TopConnection, string> = {
  connecting: 'connecting',
  stream: 'live',
  polling: 'polling /metrics',
  offline: 'offline, retrying',
};

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** Returns the value at `keys` inside `value`, or undefined when any step is missing. */
export function field(value: unknown, ...keys: string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function percent(ratio: number | null): string {
  return ratio === null ? 'n/a' : `${(ratio * 100).toFixed(0)} %`;
}

function clock(time: number): string {
  return new Date(time).toISOString().slice(11, 19);
}

/** True when `value` has every field `renderDashboard` reads, so it can draw it. */
export function isCompleteSample(value: unknown): value is Sample {
  const numbers = ['time', 'intervalMs', 'heapUsedBytes', 'heapTotalBytes', 'heapLimitBytes', 'heapBudgetBytes', 'externalBytes', 'arrayBuffersBytes', 'rssBytes', 'heapUsageRatio'];
  if (!numbers.every((name) => num(field(value, name)) !== null)) return false;

  const limit = field(value, 'limitBytes');
  const processRatio = field(value, 'processUsageRatio');
  const nested = [
    ['gc', 'count'],
    ['gc', 'pauseMs'],
    ['gc', 'byKind', 'major', 'count'],
    ['eventLoop', 'delayP50Ms'],
    ['eventLoop', 'delayP99Ms'],
    ['eventLoop', 'utilization'],
  ];
  return (
    (limit === null || num(limit) !== null) &&
    (processRatio === null || num(processRatio) !== null) &&
    isPressureLevel(field(value, 'level')) &&
    typeof field(value, 'budget') === 'string' &&
    nested.every((path) => num(field(value, ...path)) !== null)
  );
}

/**
 * Rebuilds a sample from a GET /metrics body, for polling. Fields the body
 * lacks stay missing, so an older or newer API still shows what it has.
 * Returns null before the service's first sample.
 */
export function sampleFromMetrics(metrics: unknown): Record<string, unknown> | null {
  const time = num(field(metrics, 'time'));
  if (time === null) return null;

  return {
    time,
    intervalMs: field(metrics, 'sampler', 'intervalMs'),
    level: field(metrics, 'level'),
    budget: field(metrics, 'budget'),
    heapUsedBytes: field(metrics, 'heap', 'usedBytes'),
    heapTotalBytes: field(metrics, 'heap', 'totalBytes'),
    heapLimitBytes: field(metrics, 'heap', 'limitBytes') ?? field(metrics, 'limits', 'heapLimitBytes'),
    heapBudgetBytes: field(metrics, 'limits', 'heapBudgetBytes'),
    externalBytes: field(metrics, 'heap', 'externalBytes'),
    arrayBuffersBytes: field(metrics, 'heap', 'arrayBuffersBytes'),
    rssBytes: field(metrics, 'process', 'rssBytes'),
    limitBytes: field(metrics, 'limits', 'processLimitBytes'),
    heapUsageRatio: field(metrics, 'budgets', 'heap', 'usageRatio'),
    processUsageRatio: field(metrics, 'budgets', 'process', 'usageRatio'),
    liveBytes: field(metrics, 'liveSet', 'liveBytes'),
    timeToLimitMs: field(metrics, 'forecast', 'timeToLimitMs'),
    gc: field(metrics, 'gc', 'lastInterval'),
    eventLoop: field(metrics, 'eventLoop'),
  };
}

function bytes(value: unknown): string {
  return formatBytes(num(value));
}

/** Renders a sample that lacks fields `renderDashboard` needs: each missing figure reads `n/a`. */
function renderPartialSample(sample: Record<string, unknown>, title: string): string[] {
  const time = num(sample.time);
  const level = str(sample.level);
  const limit = num(sample.limitBytes);
  return [
    `${title}  ${time === null ? '' : clock(time)}  level ${level === null ? 'n/a' : level.toUpperCase()}${str(sample.budget) ? ` (${String(sample.budget)} budget)` : ''}`,
    `heap     ${bytes(sample.heapUsedBytes)} used, budget ${bytes(sample.heapBudgetBytes)}, ${percent(num(sample.heapUsageRatio))} of it (live set); V8 limit ${bytes(sample.heapLimitBytes)}`,
    `process  ${bytes(sample.rssBytes)} RSS, ${limit === null ? 'no limit' : `limit ${formatBytes(limit)}, ${percent(num(sample.processUsageRatio))} used`}`,
    `memory   heap total ${bytes(sample.heapTotalBytes)}, external ${bytes(sample.externalBytes)}, array buffers ${bytes(sample.arrayBuffersBytes)}`,
    `gc       ${num(field(sample, 'gc', 'count')) ?? 'n/a'} collections, ${num(field(sample, 'gc', 'pauseMs'))?.toFixed(1) ?? 'n/a'} ms paused`,
    `loop     delay p99 ${num(field(sample, 'eventLoop', 'delayP99Ms'))?.toFixed(1) ?? 'n/a'} ms, ${percent(num(field(sample, 'eventLoop', 'utilization')))} busy`,
  ];
}

function forecastLine(state: TopState): string {
  const sample = state.sample;
  const timeToLimitMs = num(field(sample, 'timeToLimitMs')) ?? num(field(state.metrics, 'forecast', 'timeToLimitMs'));
  const live = num(field(sample, 'liveBytes')) ?? num(field(state.metrics, 'liveSet', 'liveBytes'));
  const budget = str(field(state.metrics, 'forecast', 'budget'));
  const leaks = field(state.metrics, 'leak', 'leaks');

  const growth = Array.isArray(leaks)
    ? leaks.map((leak) => `${str(field(leak, 'kind')) ?? '?'} +${bytes(field(leak, 'rateBytesPerSecond'))}/s`).join(', ')
    : '';
  const outlook = timeToLimitMs === null ? 'no growth reported' : `limit in ${formatDurationMs(timeToLimitMs)}${budget ? ` on the ${budget} budget` : ''}`;
  return `forecast live set ${formatBytes(live)}, ${outlook}${growth ? ` (${growth})` : ''}`;
}

function sheddingLine(metrics: Record<string, unknown> | null): string | null {
  const shedding = field(metrics, 'shedding');
  if (shedding === undefined) return null;
  if (shedding === null) return 'shedding off';

  const ratio = num(field(shedding, 'shedRatio'));
  const reason = str(field(shedding, 'reason'));
  const total = num(field(shedding, 'shedRequests'));
  const now = ratio === null || ratio === 0 ? 'none now' : `${percent(ratio)} of requests${reason ? ` (${reason})` : ''}`;
  return `shedding ${now}${total === null ? '' : `, ${total} shed in all`}`;
}

/** Formats a figure by the unit its name ends with. */
function figure(name: string, value: unknown): string {
  if (typeof value === 'number' && name.endsWith('Bytes')) return formatBytes(value);
  if (typeof value === 'number' && name.endsWith('Ms')) return formatDurationMs(value);
  if (typeof value === 'number' && name.endsWith('Ratio')) return percent(value);
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(2);
  return String(value);
}

/** Lists up to FIELDS_PER_LINE numbers and strings of an object as `name value`. */
function figures(value: unknown): string {
  if (value === null || typeof value !== 'object') return String(value);

  return Object.entries(value)
    .filter(([, item]) => typeof item === 'number' || typeof item === 'string')
    .slice(0, FIELDS_PER_LINE)
    .map(([name, item]) => `${name} ${figure(name, item)}`)
    .join(', ');
}

function componentLines(metrics: Record<string, unknown> | null): string[] {
  const lines: string[] = [];
  const governor = field(metrics, 'governor');
  if (governor !== undefined && governor !== null) lines.push(`governor ${figures(governor)}`);

  const pools = field(metrics, 'pools');
  if (pools !== null && typeof pools === 'object') {
    const entries = Array.isArray(pools) ? pools.map((pool, index) => [str(field(pool, 'name')) ?? String(index), pool] as const) : Object.entries(pools);
    for (const [name, pool] of entries.slice(0, POOLS_SHOWN)) lines.push(`pool     ${name}: ${figures(pool)}`);
    if (entries.length > POOLS_SHOWN) lines.push(`pool     and ${entries.length - POOLS_SHOWN} more`);
  }
  return lines;
}

/** Renders one frame of `headroom top`, without colours or cursor moves. */
export function renderTopFrame(state: TopState): string[] {
  const status = CONNECTION_LABELS[state.connection];
  const title = `headroom top · ${state.url} · ${status}`;
  const lines: string[] = [];

  if (state.sample === null) {
    lines.push(title, state.connection === 'connecting' ? 'waiting for the first sample' : 'no sample yet');
  } else if (isCompleteSample(state.sample)) {
    lines.push(...renderDashboard(state.sample, title));
  } else {
    lines.push(...renderPartialSample(state.sample, title));
  }
  if (state.connection !== 'stream' && state.lastError !== null) lines.push(`error    ${state.lastError}`);

  lines.push(forecastLine(state));
  const shedding = sheddingLine(state.metrics);
  if (shedding !== null) lines.push(shedding);
  lines.push(...componentLines(state.metrics));

  lines.push('events');
  if (state.events.length === 0) lines.push('  none yet');
  for (const event of state.events.slice(0, TOP_EVENTS_SHOWN)) lines.push(`  ${clock(event.time)} ${event.type.padEnd(12)} ${event.text}`);
  return lines;
}

function describeAction(data: unknown): string {
  const action = str(field(data, 'action')) ?? 'action';
  if (field(data, 'done') === false) return `${action} skipped: ${str(field(data, 'message')) ?? str(field(data, 'reason')) ?? 'no reason given'}`;
  if (action === 'heap-snapshot') return `heap snapshot written${str(field(data, 'path')) ? ` to ${String(field(data, 'path'))}` : ''}`;

  const level = str(field(data, 'level'));
  const reclaimed = num(field(data, 'reclaimedBytes'));
  const errors = field(data, 'errors');
  const failed = Array.isArray(errors) && errors.length > 0 ? `, ${errors.length} failed` : '';
  return `${action}${level ? ` at ${level}` : ''}${reclaimed === null ? '' : `, reclaimed ${formatBytes(reclaimed)}`}${failed}`;
}

function describeLeak(data: unknown): string {
  const kind = str(field(data, 'kind')) ?? 'memory';
  if (kind === 'resources') return `${str(field(data, 'resourceType')) ?? 'resource'} count growing`;

  const rate = num(field(data, 'rateBytesPerSecond'));
  const timeToLimitMs = num(field(data, 'timeToLimitMs'));
  return `${kind} growing${rate === null ? '' : ` by ${formatBytes(rate)}/s`}${timeToLimitMs === null ? '' : `, limit in ${formatDurationMs(timeToLimitMs)}`}`;
}

/** Returns one line about a stream event. Unknown types list their first figures. */
export function describeTopEvent(type: string, data: unknown): string {
  switch (type) {
    case 'pressure': {
      const budget = str(field(data, 'budget'));
      const ratio = num(field(data, 'usageRatio'));
      return `${str(field(data, 'from')) ?? '?'} → ${str(field(data, 'to')) ?? '?'}${budget ? ` on the ${budget} budget` : ''}${ratio === null ? '' : `, ${percent(ratio)} used`}`;
    }
    case 'leak':
      return describeLeak(data);
    case 'leak-cleared':
      return `${str(field(data, 'resourceType')) ?? str(field(data, 'kind')) ?? 'growth'}: ${field(data, 'reason') === 'freed' ? 'freed' : 'growth stopped'}`;
    case 'action':
      return describeAction(data);
    case 'warning':
      return `${str(field(data, 'code')) ?? 'warning'}: ${str(field(data, 'message')) ?? ''}`;
    default: {
      if (data === null || typeof data !== 'object') return String(data);
      const { type: _type, time: _time, ...rest } = data as Record<string, unknown>;
      return figures(rest);
    }
  }
}
