import type { Sample } from '../sampling/sample.js';
import { actionName, type ActionTotals } from './history.js';

/** Actions past this many distinct names are counted under `other`, so a buggy emitter cannot grow the map or the metric's label set without bound. */
export const MAX_ACTION_NAMES = 64;

/** Running totals since the API was created, fed by manager events: the source of the Prometheus counters. */
export class HeadroomCounters {
  samples = 0;
  gcCollections = 0;
  gcPauseMs = 0;
  readonly actions = new Map<string, ActionTotals>();

  recordSample(sample: Sample): void {
    this.samples++;
    this.gcCollections += sample.gc.count;
    this.gcPauseMs += sample.gc.pauseMs;
  }

  recordAction(payload: unknown): void {
    let name = actionName(payload);
    if (!this.actions.has(name) && this.actions.size >= MAX_ACTION_NAMES) name = 'other';

    const event = payload as { reclaimedBytes?: unknown; durationMs?: unknown } | null;
    const totals = this.actions.get(name) ?? { count: 0, reclaimedBytes: 0, durationMs: 0 };
    totals.count++;
    if (typeof event?.reclaimedBytes === 'number' && event.reclaimedBytes > 0) totals.reclaimedBytes += event.reclaimedBytes;
    if (typeof event?.durationMs === 'number' && event.durationMs > 0) totals.durationMs += event.durationMs;
    this.actions.set(name, totals);
  }
}
