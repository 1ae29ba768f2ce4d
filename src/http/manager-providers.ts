import type { Budget } from '../analysis/levels.js';
import type { MemoryManager } from '../manager/manager.js';
import type { TriggerLevel } from './options.js';
import type { HeadroomActions, HeadroomAnalysis } from './types.js';

/**
 * The methods a manager offers once responses and leak detection are wired
 * into it. They are looked up at run time, so the API also serves a manager
 * without them.
 */
interface ManagerExtensions {
  relieve(level: TriggerLevel, trigger?: string): Promise<object>;
  forceGc(trigger?: string): object;
  writeSnapshot(trigger?: string): object;
  responses(): object;
  activeLeaks(): Array<{ kind: string; rateBytesPerSecond?: number; timeToLimitMs?: number | null; budget?: Budget | null }>;
}

/** The sample fields leak detection adds. */
interface AnalysedSample {
  liveBytes?: number;
  timeToLimitMs?: number | null;
}

/** The trigger recorded on actions started by a POST route. */
export const HTTP_TRIGGER = 'http';

/**
 * Returns the manager's own response methods as the POST routes' actions, or
 * null when it has none. The methods are looked up at run time, so with a
 * manager that lacks them the routes respond 501.
 */
export function actionsFromManager(manager: MemoryManager): HeadroomActions | null {
  const responses = manager as unknown as Partial<ManagerExtensions>;
  const actions: HeadroomActions = {};

  const { relieve, forceGc, writeSnapshot } = responses;
  if (typeof forceGc === 'function') actions.gc = async () => forceGc.call(manager, HTTP_TRIGGER);
  if (typeof relieve === 'function') actions.relieve = (level) => relieve.call(manager, level, HTTP_TRIGGER);
  if (typeof writeSnapshot === 'function') actions.snapshot = async () => writeSnapshot.call(manager, HTTP_TRIGGER);

  return Object.keys(actions).length > 0 ? actions : null;
}

/** Returns the manager's responses status (releasers, forced GC, snapshots), or null when it has none. */
export function responsesStatus(manager: MemoryManager): object | null {
  const responses = (manager as unknown as Partial<ManagerExtensions>).responses;
  return typeof responses === 'function' ? responses.call(manager) : null;
}

/**
 * Returns a provider of leak figures read from the manager: the live set and
 * forecast of its latest sample, and its active memory leaks. Returns null
 * when the manager has no leak detection.
 */
export function analysisFromManager(manager: MemoryManager): (() => HeadroomAnalysis | null) | null {
  const activeLeaks = (manager as unknown as Partial<ManagerExtensions>).activeLeaks;
  if (typeof activeLeaks !== 'function') return null;

  return () => {
    const sample = manager.latest as AnalysedSample | null;
    if (!sample) return null;

    // Resource leaks count handles, not bytes, so they have no byte rate to report.
    const memoryLeaks = activeLeaks.call(manager).filter((leak) => typeof leak.rateBytesPerSecond === 'number');
    let first: (typeof memoryLeaks)[number] | undefined;
    for (const leak of memoryLeaks) {
      if (typeof leak.timeToLimitMs === 'number' && (first === undefined || leak.timeToLimitMs < (first.timeToLimitMs ?? Infinity))) first = leak;
    }

    return {
      liveSetBytes: sample.liveBytes ?? null,
      leaks: memoryLeaks.map((leak) => ({ kind: leak.kind, rateBytesPerSecond: leak.rateBytesPerSecond as number })),
      timeToLimitMs: sample.timeToLimitMs ?? null,
      budget: first?.budget ?? null,
    };
  };
}
