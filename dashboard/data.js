/**
 * The dashboard's data: chart columns built from samples, history points and
 * `metrics` bodies, and the event list. Both are bounded.
 */
import { formatBytes, formatDuration, formatField, formatPercent, get, knownLevel, num, str } from './format.js';

/** Points kept for the charts: an hour at the default 1 s interval. Older points are dropped. */
const MAX_POINTS = 3600;
/** Events kept for the list and the chart markers. Older events are dropped. */
const MAX_EVENTS = 200;

/** Limits from the last `metrics` read, for history points that do not carry them. */
const knownLimits = { heapLimitBytes: null, heapBudgetBytes: null, limitBytes: null };
/** The last `metrics` body, for the tables, shedding and the process line. */
export let latestMetrics = null;

/**
 * Builds a point from a stream sample or a history point. Both use the
 * sample's field names; history points have flat GC and loop fields.
 * Returns null without a time.
 */
export function pointFromRecord(record) {
  const time = num(get(record, 'time'));
  if (time === null) return null;

  return {
    time,
    level: str(record.level),
    budget: str(record.budget),
    heapUsedBytes: num(record.heapUsedBytes),
    heapTotalBytes: num(record.heapTotalBytes),
    liveBytes: num(record.liveBytes),
    heapLimitBytes: num(record.heapLimitBytes) ?? knownLimits.heapLimitBytes,
    heapBudgetBytes: num(record.heapBudgetBytes) ?? knownLimits.heapBudgetBytes,
    rssBytes: num(record.rssBytes),
    externalBytes: num(record.externalBytes),
    arrayBuffersBytes: num(record.arrayBuffersBytes),
    // `null` means no process limit, which is not a missing field: only an absent field takes the known limit.
    limitBytes: record.limitBytes === null ? null : (num(record.limitBytes) ?? knownLimits.limitBytes),
    heapUsageRatio: num(record.heapUsageRatio),
    processUsageRatio: num(record.processUsageRatio),
    usageRatio: num(record.usageRatio),
    timeToLimitMs: num(record.timeToLimitMs),
    intervalMs: num(record.intervalMs),
    gcCount: num(get(record, 'gc', 'count')) ?? num(record.gcCount),
    gcPauseMs: num(get(record, 'gc', 'pauseMs')) ?? num(record.gcPauseMs),
    majorGcCount: num(get(record, 'gc', 'byKind', 'major', 'count')),
    majorGcPauseMs: num(get(record, 'gc', 'byKind', 'major', 'pauseMs')) ?? num(record.majorGcPauseMs),
    loopDelayP50Ms: num(get(record, 'eventLoop', 'delayP50Ms')),
    loopDelayP99Ms: num(get(record, 'eventLoop', 'delayP99Ms')) ?? num(record.eventLoopDelayP99Ms),
    loopUtilization: num(get(record, 'eventLoop', 'utilization')) ?? num(record.eventLoopUtilization),
  };
}

/** Builds a point from the body of GET `metrics`, or null before the service's first sample. */
export function pointFromMetrics(metrics) {
  const time = num(get(metrics, 'time'));
  if (time === null) return null;

  return pointFromRecord({
    time,
    level: get(metrics, 'level'),
    budget: get(metrics, 'budget'),
    heapUsedBytes: get(metrics, 'heap', 'usedBytes'),
    heapTotalBytes: get(metrics, 'heap', 'totalBytes'),
    liveBytes: get(metrics, 'liveSet', 'liveBytes'),
    heapLimitBytes: get(metrics, 'limits', 'heapLimitBytes') ?? get(metrics, 'heap', 'limitBytes'),
    heapBudgetBytes: get(metrics, 'limits', 'heapBudgetBytes'),
    rssBytes: get(metrics, 'process', 'rssBytes'),
    externalBytes: get(metrics, 'heap', 'externalBytes'),
    arrayBuffersBytes: get(metrics, 'heap', 'arrayBuffersBytes'),
    limitBytes: get(metrics, 'limits', 'processLimitBytes'),
    heapUsageRatio: get(metrics, 'budgets', 'heap', 'usageRatio'),
    processUsageRatio: get(metrics, 'budgets', 'process', 'usageRatio'),
    usageRatio: get(metrics, 'usageRatio'),
    timeToLimitMs: get(metrics, 'forecast', 'timeToLimitMs'),
    intervalMs: get(metrics, 'sampler', 'intervalMs'),
    gc: get(metrics, 'gc', 'lastInterval'),
    eventLoop: get(metrics, 'eventLoop'),
  });
}

/** Chart columns, oldest first; `time` is in seconds, as uPlot expects. */
export const columns = {
  time: [],
  heapUsedBytes: [],
  liveBytes: [],
  rssBytes: [],
  externalBytes: [],
  heapBudgetBytes: [],
  heapLimitBytes: [],
  limitBytes: [],
  gcPauseMs: [],
  majorGcPauseMs: [],
  loopDelayP99Ms: [],
  level: [],
};
/** The newest point, for the cards and the forecast. */
export let latest = null;
/** The budget behind the forecast, from the last `metrics` read. */
export let forecastBudget = null;

/** Appends a point. A point no newer than the last one (a repeat from another source) is ignored. */
export function addPoint(point) {
  if (point === null) return false;

  const lastTime = columns.time[columns.time.length - 1];
  if (lastTime !== undefined && point.time / 1000 <= lastTime) return false;

  for (const [name, column] of Object.entries(columns)) {
    column.push(name === 'time' ? point.time / 1000 : (point[name] ?? null));
  }
  const excess = columns.time.length - MAX_POINTS;
  if (excess > 0) for (const column of Object.values(columns)) column.splice(0, excess);

  latest = point;
  return true;
}

// ---------------------------------------------------------------------------
// Events

/** Newest first. */
export const events = [];
const eventKeys = new Set();

function categoryOf(type, data) {
  if (type === 'pressure') return `pressure-${knownLevel(get(data, 'to')) ?? 'normal'}`;
  if (type === 'leak' || type === 'leak-cleared' || type === 'warning') return type;
  if (type === 'action') return get(data, 'action') === 'heap-snapshot' ? 'snapshot' : 'action';
  if (/snapshot/i.test(type)) return 'snapshot';
  if (/shed/i.test(type)) return 'shedding';
  return 'other';
}

function describeAction(data) {
  const action = str(get(data, 'action')) ?? str(get(data, 'name')) ?? 'action';
  const level = str(get(data, 'level'));
  const trigger = str(get(data, 'trigger'));
  const reclaimed = num(get(data, 'reclaimedBytes'));
  const errors = Array.isArray(get(data, 'errors')) ? data.errors.length : 0;
  const context = [level && `at ${level}`, trigger && `(${trigger})`].filter(Boolean).join(' ');

  if (get(data, 'done') === false) {
    return `${action} skipped: ${str(get(data, 'message')) ?? str(get(data, 'reason')) ?? 'no reason given'}`;
  }
  if (action === 'heap-snapshot') return `heap snapshot written${str(get(data, 'path')) ? ` to ${data.path}` : ''}`;

  const parts = [`${action}${context ? ` ${context}` : ''}`];
  if (reclaimed !== null) parts.push(`reclaimed ${formatBytes(reclaimed)}`);
  if (num(get(data, 'durationMs')) !== null) parts.push(`in ${formatDuration(data.durationMs)}`);
  if (errors > 0) parts.push(`${errors} failed`);
  return parts.join(', ');
}

function describeLeak(data) {
  const kind = str(get(data, 'kind')) ?? 'memory';
  if (kind === 'resources') {
    const rate = num(get(data, 'ratePerSecond'));
    return `${str(get(data, 'resourceType')) ?? 'resource'} count growing${rate === null ? '' : ` by ${rate.toFixed(1)}/s`}`;
  }

  const rate = num(get(data, 'rateBytesPerSecond'));
  const timeToLimitMs = num(get(data, 'timeToLimitMs'));
  const budget = str(get(data, 'budget'));
  let text = `${kind} growing${rate === null ? '' : ` by ${formatBytes(rate)}/s`}`;
  if (timeToLimitMs !== null) text += `, ${budget === null ? 'limit' : `${budget} limit`} in ${formatDuration(timeToLimitMs)}`;
  return text;
}

/** Returns up to four scalar fields as `name=value`, for event types this page does not know. */
function describeFields(data) {
  if (data === null || typeof data !== 'object') return data === undefined ? '' : String(data);

  return Object.entries(data)
    .filter(([name, value]) => name !== 'type' && name !== 'time' && value !== null && typeof value !== 'object')
    .slice(0, 4)
    .map(([name, value]) => `${name}=${formatField(name, value)}`)
    .join(', ');
}

function describeEvent(type, data) {
  switch (type) {
    case 'pressure': {
      const ratio = num(get(data, 'usageRatio'));
      const budget = str(get(data, 'budget'));
      return `${str(get(data, 'from')) ?? '?'} → ${str(get(data, 'to')) ?? '?'}${budget ? ` on the ${budget} budget` : ''}${ratio === null ? '' : `, ${formatPercent(ratio)} used`}`;
    }
    case 'leak':
      return describeLeak(data);
    case 'leak-cleared': {
      const subject = str(get(data, 'resourceType')) ?? str(get(data, 'kind')) ?? 'growth';
      const reason = get(data, 'reason') === 'freed' ? 'freed' : 'growth stopped';
      const durationMs = num(get(data, 'durationMs'));
      return `${subject}: ${reason}${durationMs === null ? '' : ` after ${formatDuration(durationMs)}`}`;
    }
    case 'action':
      return describeAction(data);
    case 'warning':
      return `${str(get(data, 'code')) ?? 'warning'}: ${str(get(data, 'message')) ?? ''}`;
    default: {
      const shedRatio = num(get(data, 'shedRatio'));
      if (shedRatio !== null) return `shedding ${formatPercent(shedRatio)} of requests${str(get(data, 'reason')) ? ` (${data.reason})` : ''}`;
      return describeFields(data);
    }
  }
}

/** Adds an event to the list, once: the same event from the history and the stream is kept one time. */
export function addEvent(type, data) {
  const time = num(get(data, 'time')) ?? Date.now();
  const key = [type, time, get(data, 'kind'), get(data, 'action'), get(data, 'to'), get(data, 'code')].join('|');
  if (eventKeys.has(key)) return false;

  const entry = { type, time, category: categoryOf(type, data), text: describeEvent(type, data), key };
  // Events arrive nearly in order, so the scan for the insertion point stops at once.
  let index = 0;
  while (index < events.length && events[index].time > time) index++;
  if (index >= MAX_EVENTS) return false;

  events.splice(index, 0, entry);
  eventKeys.add(key);
  while (events.length > MAX_EVENTS) eventKeys.delete(events.pop().key);
  return true;
}

/** Keeps a `metrics` body for the tables, and its limits and forecast budget for the points and the forecast line. */
export function rememberMetrics(metrics) {
  latestMetrics = metrics;
  knownLimits.heapLimitBytes = num(get(metrics, 'limits', 'heapLimitBytes')) ?? knownLimits.heapLimitBytes;
  knownLimits.heapBudgetBytes = num(get(metrics, 'limits', 'heapBudgetBytes')) ?? knownLimits.heapBudgetBytes;
  const processLimit = get(metrics, 'limits', 'processLimitBytes');
  if (processLimit === null || num(processLimit) !== null) knownLimits.limitBytes = processLimit;
  forecastBudget = str(get(metrics, 'forecast', 'budget'));
}

/**
 * Adds the points and events of a GET `analytics` body. Points come from a
 * `points` array of samples or history points. Events come from an `events`
 * array of `{ name, time, payload }`, and from `leaks`: an array of leak
 * events in the built-in history, `{ events: [...] }` in the store.
 */
export function addHistory(summary) {
  const points = get(summary, 'points');
  if (Array.isArray(points)) {
    const sorted = points.map(pointFromRecord).filter((point) => point !== null).sort((a, b) => a.time - b.time);
    for (const point of sorted) addPoint(point);
  }

  const listed = get(summary, 'events');
  if (Array.isArray(listed)) {
    for (const event of listed) {
      const payload = get(event, 'payload') ?? event;
      const type = str(get(event, 'name')) ?? str(get(event, 'type')) ?? str(get(payload, 'type')) ?? 'event';
      addEvent(type, { time: get(event, 'time'), ...payload });
    }
  }

  const leaks = get(summary, 'leaks');
  const leakEvents = Array.isArray(leaks) ? leaks : get(leaks, 'events');
  if (Array.isArray(leakEvents)) {
    for (const leak of leakEvents) addEvent(str(get(leak, 'type')) ?? 'leak', leak);
  }
}
