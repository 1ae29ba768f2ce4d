const BYTE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
  k: 2 ** 10,
  m: 2 ** 20,
  g: 2 ** 30,
};

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
};

/**
 * Parses a byte size such as `536870912`, `"512MiB"`, `"1.5GB"` or `"256m"`.
 * Bare `k`, `m`, `g` are binary units, as in Node's own `--max-old-space-size` habits.
 * Returns null when the text is not a size.
 */
export function parseBytes(input: string | number): number | null {
  if (typeof input === 'number') {
    return Number.isFinite(input) && input >= 0 ? Math.floor(input) : null;
  }

  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(input);
  if (!match) return null;

  const unit = (match[2] ?? '').toLowerCase() || 'b';
  const factor = BYTE_UNITS[unit];
  if (factor === undefined) return null;

  return Math.floor(Number(match[1]) * factor);
}

/** Parses a duration such as `1000`, `"250ms"`, `"30s"` or `"5m"` into milliseconds, or null. */
export function parseDurationMs(input: string | number): number | null {
  if (typeof input === 'number') {
    return Number.isFinite(input) && input >= 0 ? input : null;
  }

  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(input);
  if (!match) return null;

  const unit = (match[2] ?? '').toLowerCase() || 'ms';
  const factor = DURATION_UNITS[unit];
  if (factor === undefined) return null;

  return Number(match[1]) * factor;
}

/** Formats bytes for people: `"181.3 MiB"`. */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return 'n/a';

  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let index = 0;
  while (Math.abs(value) >= 1024 && index < units.length - 1) {
    value /= 1024;
    index++;
  }

  return index === 0 ? `${value} B` : `${value.toFixed(1)} ${units[index]}`;
}

/** Formats a duration in milliseconds for people: `"850 ms"`, `"12.4 s"`, `"3m 05s"`. */
export function formatDurationMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;

  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.floor((ms % 60_000) / 1000);
  return `${minutes}m ${String(seconds).padStart(2, '0')}s`;
}
