import { isPressureLevel, type PressureLevel } from '../analysis/levels.js';
import { invalidOption } from '../util/validate.js';

/** The part of a `pressure` event that the governor reads. A `PressureEvent` from the manager fits. */
export interface PressureChange {
  to: PressureLevel;
}

export type PressureListener = (event: PressureChange) => void;

/**
 * Anything that reports a pressure level and emits `pressure` when it changes:
 * a `MemoryManager`, or a small object of your own. One of `off` or
 * `removeListener` is required, so that `stop()` can remove the listener.
 */
export interface PressureSource {
  readonly level: PressureLevel;
  on(event: 'pressure', listener: PressureListener): unknown;
  off?(event: 'pressure', listener: PressureListener): unknown;
  removeListener?(event: 'pressure', listener: PressureListener): unknown;
}

const RULE = 'an object with a `level` (normal, moderate, high or critical), `on(event, listener)` and `off` or `removeListener`, such as a MemoryManager';

/** Validates a pressure source option. */
export function pressureSourceOption(name: string, value: unknown): PressureSource | null {
  if (value === undefined || value === null) return null;

  const source = value as Partial<Record<'on' | 'off' | 'removeListener' | 'level', unknown>>;
  const canUnsubscribe = typeof source.off === 'function' || typeof source.removeListener === 'function';
  if (typeof value !== 'object' || typeof source.on !== 'function' || !canUnsubscribe || !isPressureLevel(source.level)) {
    throw invalidOption(name, RULE, value, 'type');
  }
  return value as PressureSource;
}

/** Subscribes `listener` to `pressure` events and returns the function that unsubscribes it. */
export function subscribeToPressure(source: PressureSource, listener: PressureListener): () => void {
  source.on('pressure', listener);

  return () => {
    if (typeof source.off === 'function') source.off('pressure', listener);
    else source.removeListener?.('pressure', listener);
  };
}
