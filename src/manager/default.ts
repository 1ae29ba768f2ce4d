import type { MemoryManager } from './manager.js';

// A registry symbol, so copies of headroom loaded from two paths still share one default manager.
const DEFAULT_KEY = Symbol.for('headroom.defaultManager');

type Holder = { [DEFAULT_KEY]?: MemoryManager };

/** Returns the manager started by `headroom/register` or `headroom run`, or null when none was. */
export function getDefaultManager(): MemoryManager | null {
  return (globalThis as Holder)[DEFAULT_KEY] ?? null;
}

export function setDefaultManager(manager: MemoryManager | null): void {
  if (manager === null) delete (globalThis as Holder)[DEFAULT_KEY];
  else (globalThis as Holder)[DEFAULT_KEY] = manager;
}
