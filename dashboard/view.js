/** The cards, the event list and the tables of releasers, pools and the governor. */
import { events, forecastBudget, latest, latestMetrics } from './data.js';
import { formatBytes, formatClock, formatDuration, formatField, formatMs, formatPercent, get, knownLevel, num, str } from './format.js';

const TABLE_MAX_ROWS = 50;
const TABLE_MAX_COLUMNS = 12;

function setCard(id, value, detail, level) {
  const card = document.getElementById(id);
  card.querySelector('.value').textContent = value;
  card.querySelector('.detail').textContent = detail;
  if (level === undefined) return;
  if (level === null) card.removeAttribute('data-level');
  else card.dataset.level = level;
}

/**
 * Colours a budget's card by its own usage ratio.
 * NOTE: these are headroom's default thresholds (0.7, 0.8, 0.9). The API does
 * not report configured ones, so with other thresholds these colours can
 * disagree with the level card near a threshold.
 */
function levelForRatio(ratio) {
  if (ratio === null) return null;
  if (ratio >= 0.9) return 'critical';
  if (ratio >= 0.8) return 'high';
  if (ratio >= 0.7) return 'moderate';
  return 'normal';
}

function setMeter(id, ratio) {
  const bar = document.querySelector(`#${id} .meter span`);
  bar.style.width = `${Math.round(Math.min(1, Math.max(0, ratio ?? 0)) * 100)}%`;
  const level = levelForRatio(ratio);
  if (level === null) bar.removeAttribute('data-level');
  else bar.dataset.level = level;
}

export function renderCards() {
  const point = latest;
  if (point === null) return;

  const usage = point.usageRatio ?? Math.max(point.heapUsageRatio ?? 0, point.processUsageRatio ?? 0);
  setCard('card-level', (point.level ?? '–').toUpperCase(), point.budget ? `${point.budget} budget, ${formatPercent(usage)} used` : '', knownLevel(point.level));

  const heapRatio = point.heapUsageRatio;
  setCard('card-heap', formatPercent(heapRatio), `live ${formatBytes(point.liveBytes)} of ${formatBytes(point.heapBudgetBytes)}`, levelForRatio(heapRatio));
  setMeter('card-heap', heapRatio);

  const processRatio = point.processUsageRatio;
  const processDetail = point.limitBytes === null ? `RSS ${formatBytes(point.rssBytes)}, no limit` : `RSS ${formatBytes(point.rssBytes)} of ${formatBytes(point.limitBytes)}`;
  setCard('card-process', point.limitBytes === null ? 'no limit' : formatPercent(processRatio), processDetail, levelForRatio(processRatio));
  setMeter('card-process', processRatio);

  setCard('card-live', formatBytes(point.liveBytes), `heap used ${formatBytes(point.heapUsedBytes)}, external ${formatBytes(point.externalBytes)}`);

  const leaks = get(latestMetrics, 'leak', 'leaks');
  const growth = Array.isArray(leaks) && leaks.length > 0 ? leaks.map((leak) => `${str(leak?.kind) ?? '?'} +${formatBytes(num(leak?.rateBytesPerSecond))}/s`).join(', ') : null;
  if (point.timeToLimitMs !== null) {
    setCard('card-forecast', `limit in ${formatDuration(point.timeToLimitMs)}`, growth ?? `${forecastBudget ?? point.budget ?? ''} budget at the current growth`, point.timeToLimitMs < 300_000 ? 'critical' : 'high');
  } else {
    setCard('card-forecast', 'no growth', growth ?? 'no leak reported', 'normal');
  }

  const interval = point.intervalMs === null ? '' : ` in ${formatDuration(point.intervalMs)}`;
  setCard('card-gc', point.gcCount === null ? '–' : `${point.gcCount}${interval}`, `${formatMs(point.gcPauseMs)} paused${point.majorGcCount === null ? '' : `, ${point.majorGcCount} major`}`);
  setCard('card-loop', `p99 ${formatMs(point.loopDelayP99Ms)}`, `p50 ${formatMs(point.loopDelayP50Ms)}, ${formatPercent(point.loopUtilization)} busy`);
}

export function renderMetricsCards() {
  const shedding = get(latestMetrics, 'shedding');
  if (shedding === null) setCard('card-shedding', 'off', 'no shedder configured', null);
  else if (shedding !== undefined) {
    const ratio = num(get(shedding, 'shedRatio'));
    const total = num(get(shedding, 'shedRequests'));
    const reason = str(get(shedding, 'reason'));
    setCard('card-shedding', ratio === 0 ? 'none' : formatPercent(ratio), `${reason && ratio ? `${reason}, ` : ''}${total === null ? '' : `${total} shed in all`}`, ratio ? 'high' : 'normal');
  }

  const pid = num(get(latestMetrics, 'process', 'pid'));
  const uptime = num(get(latestMetrics, 'process', 'uptimeSeconds'));
  const source = str(get(latestMetrics, 'limits', 'processLimitSource'));
  const parts = [pid === null ? null : `pid ${pid}`, uptime === null ? null : `up ${formatDuration(uptime * 1000)}`, source ? `limit from ${source}` : null];
  document.getElementById('process').textContent = parts.filter(Boolean).join(' · ');
}

export function renderEvents() {
  const list = document.getElementById('events');
  const items = events.map((event) => {
    const item = document.createElement('li');
    item.dataset.type = event.type;
    const time = document.createElement('time');
    time.dateTime = new Date(event.time).toISOString();
    time.textContent = formatClock(event.time);
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.dataset.category = event.category;
    badge.textContent = event.type;
    const text = document.createElement('span');
    text.className = 'text';
    text.textContent = event.text;
    item.append(time, badge, text);
    return item;
  });
  list.replaceChildren(...items);
  document.getElementById('events-empty').hidden = events.length > 0;
  document.getElementById('event-count').textContent = events.length > 0 ? `(${events.length})` : '';
}

/** Turns an array of objects, or an object of objects keyed by name, into rows; null for anything else. */
function tableRows(value) {
  if (Array.isArray(value)) return value.filter((row) => row !== null && typeof row === 'object');
  if (value === null || typeof value !== 'object') return null;

  const entries = Object.entries(value);
  if (entries.length > 0 && entries.every(([, row]) => row !== null && typeof row === 'object' && !Array.isArray(row))) {
    return entries.map(([name, row]) => ({ name, ...row }));
  }
  // An object of plain figures is shown as one name/value row each.
  return entries.map(([name, figure]) => ({ name, value: figure }));
}

function renderTable(blockId, value) {
  const block = document.getElementById(blockId);
  const rows = tableRows(value);
  if (rows === null || rows.length === 0) {
    block.hidden = true;
    return;
  }

  const names = [];
  for (const row of rows.slice(0, TABLE_MAX_ROWS)) {
    for (const [name, cell] of Object.entries(row)) {
      if (!names.includes(name) && (cell === null || typeof cell !== 'object' || Array.isArray(cell))) names.push(name);
    }
  }
  const columnNames = names.slice(0, TABLE_MAX_COLUMNS);

  const table = document.createElement('table');
  const head = table.createTHead().insertRow();
  for (const name of columnNames) {
    const cell = document.createElement('th');
    cell.textContent = name;
    head.append(cell);
  }
  const body = table.createTBody();
  for (const row of rows.slice(0, TABLE_MAX_ROWS)) {
    const line = body.insertRow();
    for (const name of columnNames) line.insertCell().textContent = formatField(name, row[name]);
  }

  block.querySelector('.table-wrap').replaceChildren(table);
  block.hidden = false;
}

export function renderTables() {
  renderTable('releasers-block', get(latestMetrics, 'responses', 'releasers'));
  renderTable('pools-block', get(latestMetrics, 'pools'));
  renderTable('governor-block', get(latestMetrics, 'governor'));
}
