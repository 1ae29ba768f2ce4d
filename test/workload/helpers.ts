import { EventEmitter } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { PressureLevel } from '../../src/analysis/levels.js';
import type { JobDefinition } from '../../src/workload/job-record.js';

/** A job the test finishes or fails by hand. It rejects with the abort reason when its signal aborts. */
export interface ControlledJob {
  definition: JobDefinition;
  signal: AbortSignal | null;
  runs: number;
  finish(): void;
  fail(error: unknown): void;
}

export function controlledJob(kind = 'job', priority = 0): ControlledJob {
  let resolveRun: () => void = () => {};
  let rejectRun: (error: unknown) => void = () => {};

  const job: ControlledJob = {
    signal: null,
    runs: 0,
    definition: {
      kind,
      priority,
      run: (signal) => {
        job.runs++;
        job.signal = signal;
        return new Promise<void>((resolve, reject) => {
          resolveRun = resolve;
          rejectRun = reject;
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        });
      },
    },
    finish: () => resolveRun(),
    fail: (error) => rejectRun(error),
  };
  return job;
}

/** A pressure source of the plain-object kind: a level and `pressure` events. */
export class TestPressureSource extends EventEmitter {
  level: PressureLevel;

  constructor(level: PressureLevel = 'normal') {
    super();
    this.level = level;
  }

  set(level: PressureLevel): void {
    this.level = level;
    this.emit('pressure', { to: level });
  }
}

/** Lets settled jobs run their callbacks and the governor refill, which it does on the next turn of the event loop. */
export async function settle(): Promise<void> {
  await nextTurn();
  await nextTurn();
}
