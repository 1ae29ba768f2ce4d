/**
 * The design's console dashboard, as text. Rendering is a pure function;
 * `startQdtDashboard` writes it to a stream on every sample, because library
 * code writes to no console of its own.
 */
import type { QDTMemoryManager } from './manager.js';
import type { QdtMetrics } from './metrics.js';

const WIDTH = 46;

/** Renders the dashboard for one set of metrics, in the design's order: coherence, void, filament, V/F ratio, heap, status. */
export function renderQdtDashboard(metrics: QdtMetrics | null): string {
  const rows: Array<[string, string]> = metrics
    ? [
        ['Coherence', percent(metrics.coherence)],
        ['Void', percent(metrics.void)],
        ['Filament', percent(metrics.filament)],
        ['V/F Ratio', metrics.vfRatio === null ? 'n/a' : metrics.vfRatio.toFixed(3)],
        ['Heap', `${metrics.heapMB.toFixed(1)} MB`],
        ['Status', metrics.status],
      ]
    : [['Status', 'waiting for the first sample']];

  const border = `+${'-'.repeat(WIDTH - 2)}+`;
  const title = '| QDT Memory Dashboard'.padEnd(WIDTH - 1) + '|';
  const lines = rows.map(([label, value]) => `| ${label.padEnd(12)}${value}`.padEnd(WIDTH - 1) + '|');
  return [border, title, border, ...lines, border].join('\n');
}

export interface QdtDashboardOptions {
  /** The stream the dashboard is written to. Default `process.stdout`. */
  stream?: NodeJS.WritableStream;
  /** Draw every this many samples. Default 1: every 5 s at the QDT interval. */
  everySamples?: number;
}

/** Writes the dashboard to a stream after every `everySamples` samples. Returns the function that stops it. */
export function startQdtDashboard(qdt: QDTMemoryManager, options: QdtDashboardOptions = {}): () => void {
  const stream = options.stream ?? process.stdout;
  const everySamples = options.everySamples ?? 1;
  if (!Number.isInteger(everySamples) || everySamples < 1) {
    throw new RangeError(`Invalid option \`everySamples\`: expected an integer from 1 up, got ${String(everySamples)} (${typeof everySamples})`);
  }

  let seen = 0;
  const onMetrics = (metrics: QdtMetrics): void => {
    seen++;
    if (seen % everySamples === 0) stream.write(`${renderQdtDashboard(metrics)}\n`);
  };
  qdt.on('metrics', onMetrics);
  return () => qdt.off('metrics', onMetrics);
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)} %`;
}
