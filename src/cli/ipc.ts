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
  | { headroom: 1; kind: 'event'; payload: PressureEvent | WarningEvent | ActionEvent };

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
}
