/** The memory and GC charts, drawn with uPlot (the global from uPlot.iife.min.js), with the level band, event markers and forecast line. */
import { columns, events, forecastBudget, latest } from './data.js';
import { formatBytes, formatClock, formatDuration, formatMs } from './format.js';

/** A gap between two samples longer than this (a restart, a lost connection) is not painted in the level band. */
const MAX_BAND_GAP_S = 60;

const COLORS = {
  text: '#dfe5ec',
  muted: '#8b96a5',
  grid: '#2a323e',
  normal: '#3fb27f',
  moderate: '#d9b43a',
  high: '#e8833a',
  critical: '#e5484d',
  accent: '#5aa9e6',
  snapshot: '#b48ee6',
};
/** Fill of the level band: a light tint over the plot and a solid strip along its bottom. */
const BAND_RGB = { moderate: '217, 180, 58', high: '232, 131, 58', critical: '229, 72, 77' };
const MIB = 2 ** 20;

export const uPlot = globalThis.uPlot;
let memoryChart = null;
let gcChart = null;

function byteTicks() {
  const increments = [];
  for (let exponent = 10; exponent <= 44; exponent++) increments.push(2 ** exponent);
  return increments;
}

/** Labels time ticks with the local time of day; uPlot's default adds dates that overlap on short windows. */
function timeTicks(_chart, ticks) {
  return ticks.map((tick) => formatClock(tick * 1000));
}

function axis(values, extra = {}) {
  return {
    stroke: COLORS.muted,
    grid: { stroke: COLORS.grid, width: 1 },
    ticks: { stroke: COLORS.grid, width: 1 },
    values,
    ...extra,
  };
}

/** Paints the pressure level behind the series: a light tint per sample interval and a solid strip at the bottom. */
function drawLevelBand(chart) {
  const times = chart.data[0];
  if (times.length === 0) return;

  const { ctx } = chart;
  const { left, top, width, height } = chart.bbox;
  const strip = Math.round(6 * uPlot.pxRatio);
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, width, height);
  ctx.clip();

  for (let index = 0; index < times.length; index++) {
    const rgb = BAND_RGB[columns.level[index]];
    if (rgb === undefined) continue;

    // A sample's level covers the interval that ended at its time.
    const previous = index > 0 ? times[index - 1] : times[index] - 1;
    if (times[index] - previous > MAX_BAND_GAP_S) continue;

    const x0 = chart.valToPos(previous, 'x', true);
    const x1 = chart.valToPos(times[index], 'x', true);
    ctx.fillStyle = `rgba(${rgb}, 0.13)`;
    ctx.fillRect(x0, top, Math.max(1, x1 - x0), height);
    ctx.fillStyle = `rgba(${rgb}, 0.9)`;
    ctx.fillRect(x0, top + height - strip, Math.max(1, x1 - x0), strip);
  }
  ctx.restore();
}

function markerColor(category) {
  if (category.startsWith('pressure-')) return COLORS[category.slice('pressure-'.length)] ?? COLORS.muted;
  if (category === 'leak') return COLORS.critical;
  if (category === 'leak-cleared') return COLORS.normal;
  if (category === 'action') return COLORS.accent;
  if (category === 'snapshot') return COLORS.snapshot;
  if (category === 'shedding') return COLORS.high;
  if (category === 'warning') return COLORS.moderate;
  return COLORS.muted;
}

/** Draws one dashed vertical line per event in view, with a small triangle at the top. */
function drawEventMarkers(chart) {
  const [minimum, maximum] = [chart.scales.x.min, chart.scales.x.max];
  if (minimum === null || maximum === null) return;

  const { ctx } = chart;
  const { top, height } = chart.bbox;
  const ratio = uPlot.pxRatio;
  ctx.save();
  ctx.lineWidth = ratio;
  ctx.setLineDash([4 * ratio, 3 * ratio]);

  for (const event of events) {
    const seconds = event.time / 1000;
    if (seconds < minimum || seconds > maximum) continue;

    const x = Math.round(chart.valToPos(seconds, 'x', true)) + 0.5;
    const color = markerColor(event.category);
    ctx.strokeStyle = color;
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + height);
    ctx.stroke();

    ctx.fillStyle = color;
    ctx.beginPath();
    ctx.moveTo(x - 5 * ratio, top);
    ctx.lineTo(x + 5 * ratio, top);
    ctx.lineTo(x, top + 7 * ratio);
    ctx.fill();
  }
  ctx.restore();
}

/** Returns the forecast as a line from the latest figure to where it reaches its limit at the current growth, or null without a forecast. */
function forecastLine() {
  if (latest === null || latest.timeToLimitMs === null) return null;

  const budget = forecastBudget ?? latest.budget;
  const from = budget === 'process' ? latest.rssBytes : (latest.liveBytes ?? latest.heapUsedBytes);
  const to = budget === 'process' ? latest.limitBytes : latest.heapBudgetBytes;
  if (from === null || to === null) return null;

  const start = latest.time / 1000;
  return { x0: start, y0: from, x1: start + latest.timeToLimitMs / 1000, y1: to };
}

function drawForecast(chart) {
  const line = forecastLine();
  if (line === null) return;

  const { ctx } = chart;
  const { left, top, width, height } = chart.bbox;
  const ratio = uPlot.pxRatio;
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, width, height);
  ctx.clip();
  ctx.strokeStyle = COLORS.critical;
  ctx.lineWidth = 2 * ratio;
  ctx.setLineDash([8 * ratio, 5 * ratio]);
  ctx.beginPath();
  ctx.moveTo(chart.valToPos(line.x0, 'x', true), chart.valToPos(line.y0, 'y', true));
  ctx.lineTo(chart.valToPos(line.x1, 'x', true), chart.valToPos(line.y1, 'y', true));
  ctx.stroke();

  ctx.setLineDash([]);
  ctx.fillStyle = COLORS.critical;
  ctx.font = `${12 * ratio}px system-ui, sans-serif`;
  ctx.textAlign = 'right';
  ctx.fillText(`forecast: limit in ${formatDuration(latest.timeToLimitMs)}`, left + width - 6 * ratio, top + 16 * ratio);
  ctx.restore();
}

/** Widens the time axis past the last sample so that part of the forecast line shows. */
function timeRange(_chart, minimum, maximum) {
  if (minimum === null || maximum === null) return [minimum, maximum];

  const span = Math.max(maximum - minimum, 60);
  const line = forecastLine();
  const extension = line === null ? 0 : Math.min(line.x1 - line.x0, span * 0.25);
  return [Math.min(minimum, maximum - 60), maximum + extension];
}

function timeValue(_chart, value) {
  return value === null || value === undefined ? '–' : formatClock(value * 1000);
}

function bytesValue(_chart, value) {
  return value === null || value === undefined ? '–' : formatBytes(value);
}

function msValue(_chart, value) {
  return value === null || value === undefined ? '–' : formatMs(value);
}

const MEMORY_CHART_HEIGHT = 320;
const GC_CHART_HEIGHT = 170;

/** Returns a chart's size: its container's width and a fixed height, because the container grows with the chart and its legend. */
function chartSize(element, height) {
  return { width: Math.max(300, element.clientWidth), height };
}

export function createCharts() {
  const memoryElement = document.getElementById('memory-chart');
  const gcElement = document.getElementById('gc-chart');
  const cursor = { sync: { key: 'headroom' } };

  memoryChart = new uPlot(
    {
      ...chartSize(memoryElement, MEMORY_CHART_HEIGHT),
      cursor,
      scales: { x: { time: true, range: timeRange }, y: { range: (_chart, _minimum, maximum) => [0, Math.max(MIB, (maximum ?? 0) * 1.08)] } },
      axes: [axis(timeTicks), axis((_chart, ticks) => ticks.map((tick) => formatBytes(tick)), { size: 80, incrs: byteTicks() })],
      series: [
        { label: 'time', value: timeValue },
        { label: 'heap used', points: { show: false }, stroke: COLORS.accent, width: 1.5, value: bytesValue },
        { label: 'live set', points: { show: false }, stroke: COLORS.normal, width: 2, value: bytesValue },
        { label: 'RSS', points: { show: false }, stroke: '#c678dd', width: 1.5, value: bytesValue },
        { label: 'external', points: { show: false }, stroke: COLORS.muted, width: 1, value: bytesValue },
        { label: 'heap budget', points: { show: false }, stroke: COLORS.moderate, width: 1.5, dash: [6, 4], value: bytesValue },
        { label: 'heap limit', points: { show: false }, stroke: COLORS.high, width: 1, dash: [2, 4], value: bytesValue },
        { label: 'effective limit', points: { show: false }, stroke: COLORS.critical, width: 1.5, dash: [8, 4], value: bytesValue },
      ],
      hooks: { drawClear: [drawLevelBand], draw: [drawEventMarkers, drawForecast] },
    },
    memoryData(),
    memoryElement,
  );

  const bars = uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.6, 12] }) : undefined;
  gcChart = new uPlot(
    {
      ...chartSize(gcElement, GC_CHART_HEIGHT),
      cursor,
      // The same time range as the memory chart, so the two line up under a shared cursor.
      scales: { x: { time: true, range: timeRange }, y: { range: (_chart, _minimum, maximum) => [0, Math.max(1, (maximum ?? 0) * 1.1)] } },
      axes: [axis(timeTicks), axis((_chart, ticks) => ticks.map((tick) => formatMs(tick)), { size: 60 })],
      series: [
        { label: 'time', value: timeValue },
        { label: 'GC pause', stroke: COLORS.accent, fill: 'rgba(90, 169, 230, 0.45)', paths: bars, points: { show: false }, value: msValue },
        { label: 'major GC pause', points: { show: false }, stroke: COLORS.high, width: 1.5, value: msValue },
        { label: 'loop delay p99', points: { show: false }, stroke: COLORS.moderate, width: 1, value: msValue },
      ],
    },
    gcData(),
    gcElement,
  );

  let width = memoryElement.clientWidth;
  const observer = new ResizeObserver(() => {
    if (memoryElement.clientWidth === width) return;

    width = memoryElement.clientWidth;
    memoryChart.setSize(chartSize(memoryElement, MEMORY_CHART_HEIGHT));
    gcChart.setSize(chartSize(gcElement, GC_CHART_HEIGHT));
  });
  observer.observe(memoryElement);
}

function memoryData() {
  return [
    columns.time,
    columns.heapUsedBytes,
    columns.liveBytes,
    columns.rssBytes,
    columns.externalBytes,
    columns.heapBudgetBytes,
    columns.heapLimitBytes,
    columns.limitBytes,
  ];
}

function gcData() {
  return [columns.time, columns.gcPauseMs, columns.majorGcPauseMs, columns.loopDelayP99Ms];
}

/** Sets a chart's data. While the pointer is off the plot, the legend shows the newest values instead of dashes. */
function updateChart(chart, data) {
  if (chart === null) return;

  chart.setData(data);
  const last = data[0].length - 1;
  if (last >= 0 && !(chart.cursor.left >= 0)) chart.setLegend({ idx: last });
}

export function updateCharts() {
  updateChart(memoryChart, memoryData());
  updateChart(gcChart, gcData());
}

/** Returns the number of points the memory chart draws, or 0 without charts. */
export function chartLength() {
  return memoryChart === null ? 0 : memoryChart.data[0].length;
}
