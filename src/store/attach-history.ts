import type { MemoryManager } from '../manager/manager.js';
import type { HistoryStore } from './history-store.js';

/** Event names whose events are kept in the history, beside every sample. */
const RECORDED_EVENTS = ['pressure', 'action', 'leak', 'leak-cleared', 'warning', 'listener-warning', 'worker-error'] as const;

/**
 * Records every sample and event of a manager in a history store, and
 * registers the store's in-memory buffer as a releaser. Returns a function
 * that detaches it.
 */
export function attachHistory(manager: MemoryManager, history: HistoryStore): () => void {
  const onSample = (sample: Parameters<HistoryStore['recordSample']>[0]): void => history.recordSample(sample);
  const onEvent = (event: { type: string; time: number }): void => history.recordEvent(event);

  manager.on('sample', onSample);
  for (const name of RECORDED_EVENTS) manager.on(name, onEvent);
  const unregister = manager.registerReleaser({
    name: 'history-buffer',
    priority: 20,
    minLevel: 'high',
    release: (level) => history.trim(level).bytes ?? undefined,
  });

  return () => {
    manager.off('sample', onSample);
    for (const name of RECORDED_EVENTS) manager.off(name, onEvent);
    unregister();
  };
}
