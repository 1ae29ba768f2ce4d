/**
 * The headroom dashboard: memory against its limits, the pressure level over
 * time, GC pauses, events with what headroom did, the forecast, and the pool,
 * governor and releaser tables.
 *
 * The page is served at `<prefix>/`, so every API call is relative to it:
 * `metrics`, `analytics?window=15m` and the WebSocket `stream`. It loads the
 * recent history first, then follows the stream, polls `metrics` while the
 * stream is down, and reconnects with a capped back-off. Every field is read
 * defensively: a missing field leaves a gap or a dash, and unknown fields and
 * event types are shown as they come.
 *
 * Plain ES modules for the browser, with no build step. This one starts the
 * page and follows the data sources. format.js reads and formats fields,
 * data.js keeps the points and events, charts.js draws the charts and
 * view.js the cards, event list and tables. uPlot comes from
 * uPlot.iife.min.js, loaded before these modules as the global `uPlot`.
 */

import { chartLength, createCharts, updateCharts, uPlot } from './charts.js';
import { addEvent, addHistory, addPoint, columns, events, latest, pointFromMetrics, pointFromRecord, rememberMetrics } from './data.js';
import { renderCards, renderEvents, renderMetricsCards, renderTables } from './view.js';

const HISTORY_WINDOW = '15m';
const FETCH_TIMEOUT_MS = 5000;
/** Time between `metrics` polls while the stream is down. */
const POLL_MS = 2000;
/** Time between `metrics` reads while the stream is up, for the tables, shedding and limits. */
const METRICS_REFRESH_MS = 5000;
const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 15_000;

let renderScheduled = false;
let renderErrors = 0;

/** Schedules a render in 100 ms unless one is pending, so a burst of messages renders once. */
function scheduleRender() {
  if (renderScheduled) return;
  renderScheduled = true;
  setTimeout(render, 100);
}

function render() {
  renderScheduled = false;
  const steps = [
    updateCharts,
    renderCards,
    renderMetricsCards,
    renderEvents,
    renderTables,
  ];
  // One failing step, such as an unexpected value, leaves the others drawn.
  for (const step of steps) {
    try {
      step();
    } catch (err) {
      renderErrors++;
      console.error('headroom dashboard: a render step failed', err);
    }
  }
}

// ---------------------------------------------------------------------------
// Data sources

const baseUrl = new URL('./', location.href);
let connection = 'connecting';
let socket = null;
let reconnectDelayMs = RECONNECT_MIN_MS;
let reconnectTimer = null;
let pollTimer = null;
let refreshTimer = null;
let badMessages = 0;

function setConnection(state, detail = state) {
  connection = state;
  const element = document.getElementById('connection');
  element.dataset.state = state;
  element.textContent = detail;
}

async function fetchJson(path) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), FETCH_TIMEOUT_MS);
  try {
    const response = await fetch(new URL(path, baseUrl), { signal: controller.signal, cache: 'no-store', headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`GET ${path} responded ${response.status}`);
    return await response.json();
  } finally {
    clearTimeout(timer);
  }
}

function ingestMetrics(metrics) {
  if (metrics === null || typeof metrics !== 'object') return;

  rememberMetrics(metrics);
  addPoint(pointFromMetrics(metrics));
  scheduleRender();
}

function ingestHistory(summary) {
  addHistory(summary);
  scheduleRender();
}

function handleMessage(text) {
  let message;
  try {
    message = JSON.parse(text);
  } catch {
    badMessages++;
    return;
  }
  if (message === null || typeof message !== 'object' || typeof message.type !== 'string') {
    badMessages++;
    return;
  }

  if (message.type === 'sample') addPoint(pointFromRecord(message.data));
  else addEvent(message.type, message.data);
  scheduleRender();
}

async function loadHistory() {
  try {
    ingestHistory(await fetchJson(`analytics?window=${HISTORY_WINDOW}`));
  } catch (err) {
    console.warn('headroom dashboard: no history loaded', err);
  }
}

async function refreshMetrics() {
  try {
    ingestMetrics(await fetchJson('metrics'));
    return true;
  } catch {
    return false;
  }
}

function streamUrl() {
  const url = new URL('stream', baseUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url;
}

function connectStream() {
  reconnectTimer = null;
  let opened = false;
  let ws;
  try {
    ws = new WebSocket(streamUrl());
  } catch (err) {
    console.warn('headroom dashboard: the stream URL was rejected', err);
    startPolling();
    return;
  }
  socket = ws;

  ws.addEventListener('open', () => {
    opened = true;
    reconnectDelayMs = RECONNECT_MIN_MS;
    stopPolling();
    setConnection('stream', 'live');
    // The service may have restarted while the stream was down: its history fills the gap.
    void loadHistory();
  });
  ws.addEventListener('message', (event) => handleMessage(event.data));
  ws.addEventListener('close', () => {
    if (socket === ws) socket = null;
    if (opened) setConnection('polling', 'reconnecting');
    startPolling();
    scheduleReconnect();
  });
}

function scheduleReconnect() {
  if (reconnectTimer !== null) return;

  // Jitter spreads the reconnects of many open pages after a restart.
  const delay = reconnectDelayMs * (0.8 + Math.random() * 0.4);
  reconnectDelayMs = Math.min(reconnectDelayMs * 2, RECONNECT_MAX_MS);
  reconnectTimer = setTimeout(connectStream, delay);
}

function startPolling() {
  if (pollTimer !== null) return;

  const poll = async () => {
    const ok = await refreshMetrics();
    if (pollTimer === null) return;
    if (socket === null || socket.readyState !== WebSocket.OPEN) setConnection(ok ? 'polling' : 'offline', ok ? 'polling metrics' : 'offline, retrying');
    pollTimer = setTimeout(poll, POLL_MS);
  };
  pollTimer = setTimeout(poll, 0);
}

function stopPolling() {
  clearTimeout(pollTimer);
  pollTimer = null;
}

/** Reads `metrics` every few seconds while the stream is up: pools, governor and shedding come only from there. */
function startRefreshing() {
  const refresh = async () => {
    if (socket !== null && socket.readyState === WebSocket.OPEN) await refreshMetrics();
    refreshTimer = setTimeout(refresh, METRICS_REFRESH_MS);
  };
  refreshTimer = setTimeout(refresh, METRICS_REFRESH_MS);
}

// ---------------------------------------------------------------------------
// Start

/** Read-only state for tests and for a look from the browser console. */
Object.defineProperty(globalThis, '__headroomDashboard', {
  value: Object.freeze({
    get pointCount() {
      return columns.time.length;
    },
    get chartLength() {
      return chartLength();
    },
    get events() {
      return events.map(({ type, time, category, text }) => ({ type, time, category, text }));
    },
    get connection() {
      return connection;
    },
    get lastSampleTime() {
      return latest === null ? null : latest.time;
    },
    get errors() {
      return { render: renderErrors, badMessages };
    },
  }),
});

async function start() {
  if (typeof uPlot === 'function') {
    createCharts();
  } else {
    const message = document.getElementById('chart-message');
    message.textContent = 'The chart library (uPlot.iife.min.js) did not load, so only the figures and events are shown.';
    message.hidden = false;
  }

  // The metrics come first: they carry the limits that history points lack.
  const metrics = await fetchJson('metrics').catch(() => null);
  const history = await fetchJson(`analytics?window=${HISTORY_WINDOW}`).catch(() => null);
  if (metrics !== null && typeof metrics === 'object') rememberMetrics(metrics);
  if (history !== null) ingestHistory(history);
  if (metrics !== null) ingestMetrics(metrics);
  render();

  connectStream();
  startRefreshing();
}

void start();
