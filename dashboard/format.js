/** Readers of fields that may be missing or of another type, and formatters for the dashboard. */

export const LEVELS = ['normal', 'moderate', 'high', 'critical'];

export function num(value) {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

export function str(value) {
  return typeof value === 'string' ? value : null;
}

/** Returns the value at `keys` inside `object`, or undefined when any step is missing. */
export function get(object, ...keys) {
  let value = object;
  for (const key of keys) {
    if (value === null || typeof value !== 'object') return undefined;
    value = value[key];
  }
  return value;
}

export function knownLevel(value) {
  return LEVELS.includes(value) ? value : null;
}

export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) return '–';

  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let index = 0;
  while (Math.abs(value) >= 1024 && index < units.length - 1) {
    value /= 1024;
    index++;
  }
  return index === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[index]}`;
}

export function formatDuration(ms) {
  if (ms === null) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m ${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}s`;
  return `${Math.floor(ms / 3_600_000)}h ${String(Math.floor((ms % 3_600_000) / 60_000)).padStart(2, '0')}m`;
}

export function formatPercent(ratio) {
  return ratio === null ? '–' : `${Math.round(ratio * 100)} %`;
}

export function formatMs(ms) {
  return ms === null ? '–' : `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
}

export function formatClock(timeMs) {
  return new Date(timeMs).toLocaleTimeString([], { hour12: false });
}

function formatCell(value) {
  if (value === null || value === undefined) return '–';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(2);
  if (typeof value === 'string' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `${value.length} items`;
  return '…';
}

/** Cell text for a table column: byte, millisecond and ratio fields get their unit. */
export function formatField(name, value) {
  if (typeof value === 'number' && /Bytes$/.test(name)) return formatBytes(value);
  if (typeof value === 'number' && /Ms$/.test(name)) return formatDuration(value);
  if (typeof value === 'number' && /Ratio$/.test(name)) return formatPercent(value);
  if (typeof value === 'number' && /At$/.test(name) && value > 1e12) return formatClock(value);
  return formatCell(value);
}
