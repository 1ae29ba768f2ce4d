import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

export interface LoadOptions {
  /** Only loopback addresses are accepted: the load never leaves the machine. */
  host: string;
  port: number;
  pathFor: (index: number) => string;
  ratePerSecond: number;
  concurrency: number;
  durationMs: number;
  maxRequests: number;
  signal?: AbortSignal;
}

export interface LoadResult {
  sent: number;
  completed: number;
  failed: number;
  byStatus: Record<string, number>;
  durationMs: number;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1|\[::1\])$/;

/** Waits until a TCP port accepts connections, for at most `timeoutMs`. */
export async function waitForPort(host: string, port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return true;
    await delay(100);
  }
  return false;
}

/**
 * Sends paced GET requests to a loopback server, bounded by count and time.
 * Requests start at `ratePerSecond` across `concurrency` connections.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (!LOOPBACK.test(options.host)) throw new RangeError(`load target must be a loopback address, got "${options.host}"`);

  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const result: LoadResult = { sent: 0, completed: 0, failed: 0, byStatus: {}, durationMs: 0 };
  const startedAt = Date.now();
  const deadline = startedAt + options.durationMs;
  const spacingMs = 1000 / options.ratePerSecond;
  let next = 0;

  const worker = async (): Promise<void> => {
    while (!options.signal?.aborted && Date.now() < deadline && next < options.maxRequests) {
      const index = next++;
      const due = startedAt + index * spacingMs;
      if (due > Date.now()) await delay(due - Date.now());
      if (Date.now() >= deadline || options.signal?.aborted) return;

      result.sent++;
      const status = await send(agent, options.host, options.port, options.pathFor(index));
      if (status === null) result.failed++;
      else {
        result.completed++;
        result.byStatus[status] = (result.byStatus[status] ?? 0) + 1;
      }
    }
  };

  await Promise.all(Array.from({ length: options.concurrency }, worker));
  agent.destroy();
  result.durationMs = Date.now() - startedAt;
  return result;
}

function send(agent: Agent, host: string, port: number, path: string): Promise<number | null> {
  return new Promise((resolve) => {
    const req = request({ host, port, path, agent, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? null));
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}
