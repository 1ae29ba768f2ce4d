import type { MemoryManager } from '../manager/manager.js';
import type { Sample } from '../sampling/sample.js';
import { formatBytes } from '../util/size.js';

const LEVEL_LABELS = { normal: 'NORMAL', moderate: 'MODERATE', high: 'HIGH', critical: 'CRITICAL' } as const;

function percent(ratio: number | null): string {
  return ratio === null ? 'n/a' : `${(ratio * 100).toFixed(0)} %`;
}

function clock(time: number): string {
  return new Date(time).toISOString().slice(11, 19);
}

function budgetLine(label: string, usedBytes: number, limitBytes: number | null): string {
  if (limitBytes === null) return `${label.padEnd(8)} ${formatBytes(usedBytes)} used, no limit`;

  const ratio = usedBytes / limitBytes;
  return `${label.padEnd(8)} ${formatBytes(usedBytes)} / ${formatBytes(limitBytes)}   ${percent(ratio)} used, ${percent(Math.max(0, 1 - ratio))} free`;
}

/** Renders the latest sample as the multi-line dashboard drawn on a terminal. */
export function renderDashboard(sample: Sample, title = 'headroom'): string[] {
  const { gc, eventLoop } = sample;
  return [
    `${title}  ${clock(sample.time)}  level ${LEVEL_LABELS[sample.level]} (${sample.budget} budget)`,
    `${budgetLine('heap', sample.liveBytes, sample.heapBudgetBytes)} (live set)   heap used ${formatBytes(sample.heapUsedBytes)}, V8 limit ${formatBytes(sample.heapLimitBytes)}`,
    budgetLine('process', sample.rssBytes, sample.limitBytes),
    `memory   heap total ${formatBytes(sample.heapTotalBytes)}, external ${formatBytes(sample.externalBytes)}, array buffers ${formatBytes(sample.arrayBuffersBytes)}`,
    `gc       ${gc.count} in ${(sample.intervalMs / 1000).toFixed(1)} s, ${gc.pauseMs.toFixed(1)} ms paused (${gc.byKind.major.count} major)`,
    `loop     delay p50 ${eventLoop.delayP50Ms.toFixed(1)} ms, p99 ${eventLoop.delayP99Ms.toFixed(1)} ms, ${percent(eventLoop.utilization)} busy`,
  ];
}

/** Renders the latest sample as one line, for logs and pipes. */
export function renderDashboardLine(sample: Sample): string {
  const process = sample.limitBytes === null ? formatBytes(sample.rssBytes) : `${formatBytes(sample.rssBytes)}/${formatBytes(sample.limitBytes)} (${percent(sample.processUsageRatio)})`;
  return (
    `[headroom] ${clock(sample.time)} ${LEVEL_LABELS[sample.level]} ` +
    `live ${formatBytes(sample.liveBytes)}/${formatBytes(sample.heapBudgetBytes)} (${percent(sample.heapUsageRatio)}) heap ${formatBytes(sample.heapUsedBytes)} ` +
    `rss ${process} ext ${formatBytes(sample.externalBytes)} ` +
    `gc ${sample.gc.count}/${sample.gc.pauseMs.toFixed(0)}ms loop p99 ${sample.eventLoop.delayP99Ms.toFixed(0)}ms`
  );
}

/**
 * Draws the dashboard on a stream: redrawn in place on a terminal, one line
 * per sample otherwise. Text written through `writeAbove` appears above it.
 */
export class DashboardWriter {
  readonly #stream: NodeJS.WritableStream & { isTTY?: boolean };
  readonly #inPlace: boolean;
  #drawnLines = 0;
  #lastLines: string[] = [];

  constructor(stream: NodeJS.WritableStream & { isTTY?: boolean }, inPlace = stream.isTTY === true) {
    this.#stream = stream;
    this.#inPlace = inPlace;
  }

  draw(sample: Sample, title?: string): void {
    if (!this.#inPlace) {
      this.#stream.write(`${renderDashboardLine(sample)}\n`);
      return;
    }

    this.#lastLines = renderDashboard(sample, title);
    this.#stream.write(this.#erase() + this.#lastLines.join('\n') + '\n');
    this.#drawnLines = this.#lastLines.length;
  }

  /**
   * Writes text above the dashboard, then draws the dashboard again below it.
   * `target` may be another stream on the same terminal, such as stdout.
   */
  writeAbove(text: string, target: NodeJS.WritableStream = this.#stream): void {
    if (!this.#inPlace || this.#drawnLines === 0) {
      target.write(text);
      return;
    }

    this.#stream.write(this.#erase());
    target.write(text.endsWith('\n') ? text : `${text}\n`);
    this.#stream.write(this.#lastLines.join('\n') + '\n');
  }

  /** Leaves the last drawing on screen and stops redrawing over it. */
  release(): void {
    this.#drawnLines = 0;
  }

  #erase(): string {
    // Cursor up one line and clear it, once per line drawn.
    return this.#drawnLines > 0 ? '\x1b[1A\x1b[2K'.repeat(this.#drawnLines) : '';
  }
}

/** Draws the console dashboard of a manager on each sample. Returns a function that stops it. */
export function attachConsoleDashboard(manager: MemoryManager, stream: NodeJS.WritableStream & { isTTY?: boolean }): () => void {
  const writer = new DashboardWriter(stream);
  const onSample = (sample: Sample): void => writer.draw(sample);
  manager.on('sample', onSample);

  return () => {
    manager.off('sample', onSample);
    writer.release();
  };
}
