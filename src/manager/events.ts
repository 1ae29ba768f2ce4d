import type { LimitSource } from '../analysis/limits.js';
import type { Budget, PressureLevel } from '../analysis/levels.js';
import type { LeakClearedEvent, LeakEvent } from '../analysis/leak-events.js';
import type { ActionEvent } from '../responses/responder.js';
import type { ListenerWarning } from '../sampling/listener-warnings.js';
import type { Sample } from '../sampling/sample.js';
import type { WorkerErrorEvent } from '../sampling/worker-heaps.js';

/** Emitted when the pressure level changes. */
export interface PressureEvent {
  type: 'pressure';
  /** Milliseconds since the epoch. */
  time: number;
  from: PressureLevel;
  to: PressureLevel;
  budget: Budget;
  usageRatio: number;
  heapUsedBytes: number;
  /** The live-set estimate the heap budget is judged on. */
  liveBytes: number;
  heapLimitBytes: number;
  heapBudgetBytes: number;
  rssBytes: number;
  limitBytes: number | null;
}

/** A problem with the setup, emitted once per process with a stable code. */
export interface WarningEvent {
  type: 'warning';
  time: number;
  code: string;
  message: string;
}

/** The limits in force: V8's heap limit and the effective process limit with where it came from. */
export interface LimitsSnapshot {
  heapLimitBytes: number;
  limitBytes: number | null;
  limitSource: LimitSource | null;
  readings: {
    cgroupV2Bytes: number | null;
    cgroupV1Bytes: number | null;
    constrainedMemoryBytes: number | null;
    configuredBytes: number | null;
  };
}

/** Event names and their argument lists, for typed `on` and `emit`. */
export interface MemoryManagerEvents {
  sample: [Sample];
  pressure: [PressureEvent];
  warning: [WarningEvent];
  action: [ActionEvent];
  leak: [LeakEvent];
  'leak-cleared': [LeakClearedEvent];
  'listener-warning': [ListenerWarning];
  'worker-error': [WorkerErrorEvent];
}
