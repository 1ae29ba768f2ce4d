import type { LeakClearedEvent, LeakEvent } from '../analysis/leak-events.js';
import type { LimitsSnapshot, PressureEvent, WarningEvent } from '../manager/events.js';
import type { ActionEvent } from '../responses/responder.js';
import type { MemoryManager } from '../manager/manager.js';
import type { Sample } from '../sampling/sample.js';

/** Sent once by the child when its manager starts. */
export interface HelloMessage {
  pid: number;
  nodeVersion: string;
  execArgv: string[];
  intervalMs: number;
  limits: LimitsSnapshot;
  /** Warnings given at start, before this message could be sent. */
  warnings: WarningEvent[];
}

/** Messages from a child under `headroom run` to its parent, tagged so an app's own IPC is left alone. */
export type IpcMessage =
  | { headroom: 1; kind: 'hello'; payload: HelloMessage }
  | { headroom: 1; kind: 'sample'; payload: Sample }
  | { headroom: 1; kind: 'event'; payload: PressureEvent | WarningEvent | ActionEvent | LeakEvent | LeakClearedEvent }
  | { headroom: 1; kind: 'server'; payload: { host: string; port: number } };

/** True once `attachIpcReporter` runs: only then is the IPC parent `headroom run`. */
let reporterAttached = false;

/** Tells the parent where the API server listens, or logs it when there is no parent. */
export function reportServer(host: string, port: number): void {
  if (reporterAttached && process.connected && typeof process.send === 'function') {
    try {
      process.send({ headroom: 1, kind: 'server', payload: { host, port } } satisfies IpcMessage);
      return;
    } catch {
      // The channel closed: fall through and print it.
    }
  }
  process.stderr.write(`headroom: API and dashboard on http://${host}:${port}/\n`);
}

export function isIpcMessage(value: unknown): value is IpcMessage {
  return typeof value === 'object' && value !== null && (value as { headroom?: unknown }).headroom === 1;
}

/**
 * Sends every sample and event to the parent over Node's IPC channel.
 * The channel is unref'd so it never keeps the program alive.
 */
export function attachIpcReporter(manager: MemoryManager): void {
  const send = (message: IpcMessage): void => {
    if (!process.connected) return;

    try {
      process.send?.(message);
    } catch {
      // The parent went away (channel closed mid-send): the program goes on without reporting.
    }
  };

  process.channel?.unref();
  reporterAttached = true;

  // `headroom run` never closes the channel while it waits for the program, so a
  // disconnect means it died (SIGKILL cannot be caught there). Without it no one
  // enforces --limit or records the exit, so the program stops too, through
  // SIGTERM so that its own handlers still run.
  process.once('disconnect', () => {
    process.kill(process.pid, 'SIGTERM');
  });

  send({
    headroom: 1,
    kind: 'hello',
    payload: {
      pid: process.pid,
      nodeVersion: process.version,
      execArgv: process.execArgv,
      intervalMs: manager.intervalMs,
      limits: manager.limits(),
      warnings: [...manager.warnings],
    },
  });
  manager.on('sample', (sample) => send({ headroom: 1, kind: 'sample', payload: sample }));
  manager.on('pressure', (event) => send({ headroom: 1, kind: 'event', payload: event }));
  manager.on('warning', (event) => send({ headroom: 1, kind: 'event', payload: event }));
  manager.on('action', (event) => send({ headroom: 1, kind: 'event', payload: event }));
  manager.on('leak', (event) => send({ headroom: 1, kind: 'event', payload: event }));
  manager.on('leak-cleared', (event) => send({ headroom: 1, kind: 'event', payload: event }));
}
