import { spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { constants } from 'node:os';
import { childEnvironment } from './child-env.js';
import { DashboardWriter } from './dashboard.js';
import { describeExit, exitReason, OutOfMemoryScanner, type ExitFacts, type ExitReason } from './exit-reason.js';
import { isIpcMessage, type HelloMessage } from './ipc.js';
import { RssWatchdog } from './rss-watchdog.js';
import { renderSummary, SummaryTracker, type RunSummary } from './summary.js';

export interface RunOptions {
  command: string;
  args: string[];
  limitBytes: number | null;
  intervalMs: number;
  eventsFile: string | null;
  exposeGc: boolean;
  /** 'auto' draws in place on a terminal and one line per sample otherwise. */
  dashboard: 'auto' | 'lines' | 'off';
  /** Kill the program with SIGKILL when its RSS passes `limitBytes`, as a container limit would. */
  killAtLimit: boolean;
  /** How often the watchdog reads the program's RSS. */
  watchdogPollMs: number;
  extraEnv?: Record<string, string>;
  /** Serve the HTTP API and dashboard from inside the program on 127.0.0.1 at this port. */
  port?: number | null;
  /** When aborted, the program is sent SIGTERM. */
  stopSignal?: AbortSignal;
  onHello?: (hello: HelloMessage) => void;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  reason: ExitReason;
  description: string;
  summary: RunSummary;
  /** The exit code for `headroom run` itself: the program's, or 128 + the signal number. */
  exitCode: number;
}

export interface RunStreams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/** Time a program gets to end after SIGTERM or SIGHUP before it is killed. */
export const KILL_GRACE_MS = 10_000;

/** Writes one JSON object per line; a full disk or a closed file is reported once, not thrown. */
class EventsFile {
  readonly #stream: WriteStream;
  #failed = false;

  constructor(path: string, onError: (err: Error) => void) {
    this.#stream = createWriteStream(path, { flags: 'w' });
    this.#stream.on('error', (err) => {
      if (!this.#failed) onError(err);
      this.#failed = true;
    });
  }

  write(record: object): void {
    if (!this.#failed) this.#stream.write(`${JSON.stringify(record)}\n`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#failed) return resolve();
      this.#stream.end(() => resolve());
    });
  }
}

/**
 * Runs a program with a memory manager preloaded, receives its samples over
 * IPC, draws the dashboard, writes the events file, and reports how it ended.
 */
export function runSupervised(options: RunOptions, streams: RunStreams = { stdout: process.stdout, stderr: process.stderr }): Promise<RunResult> {
  const startedAtMs = Date.now();
  const summary = new SummaryTracker(startedAtMs);
  const scanner = new OutOfMemoryScanner();
  const dashboard = options.dashboard === 'off' ? null : new DashboardWriter(streams.stderr, options.dashboard === 'auto' && streams.stderr.isTTY === true);
  const events = options.eventsFile ? new EventsFile(options.eventsFile, (err) => streams.stderr.write(`headroom: cannot write the events file ${options.eventsFile}: ${err.message}\n`)) : null;

  const child = spawn(options.command, options.args, {
    stdio: ['inherit', 'pipe', 'pipe', 'ipc'],
    env: childEnvironment(process.env, {
      limitBytes: options.limitBytes,
      intervalMs: options.intervalMs,
      exposeGc: options.exposeGc,
      commandArgs: options.args,
      extra: options.port === undefined || options.port === null ? options.extraEnv : { ...options.extraEnv, HEADROOM_PORT: String(options.port) },
    }),
  });

  const facts: ExitFacts = { code: null, signal: null, outOfMemory: false, killedAtLimit: false };

  child.stdout?.on('data', (chunk: Buffer) => {
    if (dashboard) dashboard.writeAbove(chunk.toString(), streams.stdout);
    else streams.stdout.write(chunk);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    scanner.scan(text);
    if (dashboard) dashboard.writeAbove(text, streams.stderr);
    else streams.stderr.write(chunk);
  });

  child.on('message', (message: unknown) => {
    if (!isIpcMessage(message)) return;

    switch (message.kind) {
      case 'hello':
        for (const warning of message.payload.warnings) events?.write(warning);
        options.onHello?.(message.payload);
        break;
      case 'sample':
        summary.addSample(message.payload);
        dashboard?.draw(message.payload, `headroom · pid ${child.pid}`);
        events?.write({ type: 'sample', ...message.payload });
        break;
      case 'server': {
        const line = `headroom: API and dashboard on http://${message.payload.host}:${message.payload.port}/\n`;
        if (dashboard) dashboard.writeAbove(line, streams.stderr);
        else streams.stderr.write(line);
        events?.write({ type: 'server', time: Date.now(), ...message.payload });
        break;
      }
      case 'event':
        if (message.payload.type === 'pressure') summary.addPressureChange(message.payload.to);
        if (message.payload.type === 'action') summary.addAction(message.payload.reclaimedBytes);
        if (message.payload.type === 'leak') summary.addLeak(message.payload);
        events?.write(message.payload);
        break;
    }
  });

  let watchdog: RssWatchdog | null = null;
  if (options.limitBytes !== null && options.killAtLimit && child.pid !== undefined) {
    const limitBytes = options.limitBytes;
    watchdog = new RssWatchdog(
      child.pid,
      limitBytes,
      options.watchdogPollMs,
      (rssBytes) => summary.addRss(rssBytes),
      (rssBytes) => {
        facts.killedAtLimit = true;
        events?.write({ type: 'limit-exceeded', time: Date.now(), rssBytes, limitBytes });
        child.kill('SIGKILL');
      },
    );
  }

  // A program that ignores SIGTERM gets SIGKILL after this grace period.
  let killTimer: NodeJS.Timeout | null = null;
  const terminate = (signal: NodeJS.Signals): void => {
    child.kill(signal);
    killTimer ??= setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
  };
  const stopProgram = (): void => terminate('SIGTERM');
  options.stopSignal?.addEventListener('abort', stopProgram, { once: true });

  // Ctrl-C reaches the whole process group, so the program gets SIGINT itself; SIGTERM and SIGHUP are passed on.
  const forward = (signal: NodeJS.Signals): void => terminate(signal);
  // The first Ctrl-C is the program's to handle; a second one kills it.
  let interrupts = 0;
  const ignoreInterrupt = (): void => {
    if (++interrupts >= 2) child.kill('SIGKILL');
  };
  process.on('SIGTERM', forward);
  process.on('SIGHUP', forward);
  process.on('SIGINT', ignoreInterrupt);

  return new Promise<RunResult>((resolve) => {
    let settled = false;
    const finish = async (): Promise<void> => {
      if (settled) return;
      settled = true;

      watchdog?.stop();
      if (killTimer) clearTimeout(killTimer);
      options.stopSignal?.removeEventListener('abort', stopProgram);
      process.off('SIGTERM', forward);
      process.off('SIGHUP', forward);
      process.off('SIGINT', ignoreInterrupt);
      dashboard?.release();

      facts.outOfMemory = scanner.found;
      const reason = exitReason(facts);
      const description = describeExit(reason, facts);
      const result: RunSummary = summary.finish(Date.now());
      events?.write({ type: 'exit', time: Date.now(), code: facts.code, signal: facts.signal, reason, description, summary: result });
      await events?.close();

      streams.stderr.write(`${renderSummary(result, description).join('\n')}\n`);
      resolve({ code: facts.code, signal: facts.signal, reason, description, summary: result, exitCode: processExitCode(facts) });
    };

    child.on('error', (err) => {
      facts.startError = err;
      void finish();
    });
    child.on('close', (code, signal) => {
      facts.code = code;
      facts.signal = signal;
      void finish();
    });
  });
}

function processExitCode(facts: ExitFacts): number {
  if (facts.startError) return 127;
  if (facts.code !== null) return facts.code;
  const number = facts.signal ? constants.signals[facts.signal] : undefined;
  return number === undefined ? 1 : 128 + number;
}
