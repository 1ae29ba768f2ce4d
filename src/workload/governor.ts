import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { PressureLevel } from '../analysis/levels.js';
import { errorMessage, pressureLevelArgument } from '../responses/response-options.js';
import { itemsToTrim, type TrimResult } from '../util/trim.js';
import { DailyQuota } from './daily-quota.js';
import { queueFullError, resolveGovernorOptions, validateJobDefinition, type ResolvedGovernorOptions, type WorkloadGovernorOptions } from './governor-options.js';
import { JobBook, type JobEntry } from './job-book.js';
import { JobCancelledError } from './job-cancelled-error.js';
import type { CancelSource, JobDefinition, JobRecord } from './job-record.js';
import { subscribeToPressure, type PressureChange } from './pressure-source.js';
import { windowSize } from './window.js';

/** Figures about the governor, all counted since it was created. */
export interface GovernorStats {
  level: PressureLevel;
  /** Jobs that may run at the current level; 0 at critical. */
  windowSize: number;
  /** Jobs whose `run()` has not settled, including cancelled ones still winding down. */
  active: number;
  queued: number;
  done: number;
  failed: number;
  cancelled: number;
  /** Runs started, re-queued attempts included. */
  started: number;
  requeued: number;
  /** Starts left today, or null without a daily limit. */
  quotaLeft: number | null;
  /** When the next start frees up, in epoch ms, or null when no start is counted or there is no limit. */
  quotaResetsAt: number | null;
  factoryErrors: number;
  /** Event listeners that threw; each is logged and the others still run. */
  listenerErrors: number;
  /** Finished records dropped from memory by `maxFinishedRecords` or `trim()`, after their `job` event. */
  droppedRecords: number;
  healthChecks: number;
  /** Epoch ms of the latest health check, or null before the first. */
  lastHealthCheckAt: number | null;
}

/** Emitted when the number of jobs allowed to run changes with the level. */
export interface WindowEvent {
  type: 'window';
  /** Milliseconds since the epoch. */
  time: number;
  level: PressureLevel;
  from: number;
  to: number;
}

export interface WorkloadGovernorEvents {
  /** A copy of the record after every change of status. */
  job: [JobRecord];
  window: [WindowEvent];
}

const CRITICAL_REASON = 'cancelled at critical memory pressure';
const STOP_REASON = 'the governor was stopped';
const CALLER_REASON = 'cancelled by the application';

/**
 * Runs background jobs within a window that shrinks with memory pressure:
 * `maxActive` at normal, `activeAtModerate` at moderate, `minActive` at high,
 * and no new job at critical, where running jobs past `keepAtCritical` are
 * cancelled through their `AbortSignal`, lowest priority first. A daily limit
 * caps the starts. Every job keeps a record from queued to its end.
 */
export class WorkloadGovernor extends EventEmitter<WorkloadGovernorEvents> {
  readonly #options: ResolvedGovernorOptions;
  readonly #book: JobBook;
  readonly #quota: DailyQuota | null;
  #level: PressureLevel = 'normal';
  #started = false;
  #unsubscribe: (() => void) | null = null;
  #healthTimer: NodeJS.Timeout | null = null;
  #fillImmediate: NodeJS.Immediate | null = null;
  /** True while #fill runs, so a job or listener that submits during it does not re-enter the loop. */
  #filling = false;
  #fillAgain = false;
  /** True after the factory returned nothing or threw; it is called again after a job ends or at the next health check. */
  #factoryPaused = false;
  #quotaExhaustedLogged = false;
  #idleWaiters: Array<() => void> = [];
  readonly #stats = {
    done: 0,
    failed: 0,
    cancelled: 0,
    started: 0,
    requeued: 0,
    factoryErrors: 0,
    listenerErrors: 0,
    droppedRecords: 0,
    healthChecks: 0,
    lastHealthCheckAt: null as number | null,
  };

  constructor(options: WorkloadGovernorOptions = {}) {
    super();
    this.#options = resolveGovernorOptions(options);
    this.#book = new JobBook(this.#options.maxQueued, this.#options.maxFinishedRecords);

    const limit = this.#options.dailyLimit;
    this.#quota =
      limit === null ? null : new DailyQuota({ limit, window: this.#options.quotaWindow, timeZone: this.#options.quotaTimeZone }, this.#options.clock);
  }

  get running(): boolean {
    return this.#started;
  }

  get level(): PressureLevel {
    return this.#level;
  }

  get windowSize(): number {
    return windowSize(this.#options.window, this.#level);
  }

  /** Subscribes to the pressure source, arms the health check and starts what may start. Calling it while running does nothing. */
  start(): this {
    if (this.#started) return this;

    this.#started = true;
    const source = this.#options.pressure;
    if (source) {
      this.#unsubscribe = subscribeToPressure(source, this.#onPressure);
      this.#applyLevel(source.level);
    }

    this.#armHealthCheck();
    this.#fill();
    return this;
  }

  /**
   * Removes the pressure listener and every timer, and cancels running jobs
   * through their signal. Queued jobs stay queued until the next `start()`.
   * Listeners added by the caller stay.
   */
  stop(): this {
    if (!this.#started) return this;

    this.#started = false;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    if (this.#healthTimer) clearTimeout(this.#healthTimer);
    this.#healthTimer = null;
    if (this.#fillImmediate) clearImmediate(this.#fillImmediate);
    this.#fillImmediate = null;

    for (const entry of this.#book.running()) this.#requestCancel(entry, 'stop', STOP_REASON);
    this.#checkIdle();
    return this;
  }

  /** Queues a job and starts it at once when the window and the quota allow. Throws when the queue is full or the definition is invalid. */
  submit(definition: JobDefinition): JobRecord {
    const valid = validateJobDefinition('job', definition);
    if (this.#book.queueFull) throw queueFullError(this.#book.maxQueued, this.#book.runningCount, valid.kind);

    const entry = this.#enqueueNew(valid);
    this.#fill();
    return { ...entry.record };
  }

  /**
   * Cancels a job: a queued one ends cancelled at once, a running one has its
   * signal aborted and ends cancelled when its `run()` settles. Throws when the
   * id is unknown or the job has already ended.
   */
  cancel(id: string, reason: string = CALLER_REASON): JobRecord {
    const entry = this.#book.get(id);
    if (!entry) throw new RangeError(`Cannot cancel job ${JSON.stringify(id)}: no such job is queued, running or among the finished records kept`);

    const { status } = entry.record;
    if (status === 'queued') {
      this.#book.removeQueued(entry);
      this.#finish(entry, 'cancelled', reason, 'caller');
    } else if (status === 'running') {
      this.#requestCancel(entry, 'caller', reason);
    } else {
      throw new RangeError(`Cannot cancel job ${JSON.stringify(id)}: it has already ended ${status}`);
    }

    this.#checkIdle();
    return { ...entry.record };
  }

  /** Queues a cancelled job again, as its next attempt. Throws unless the job ended cancelled and its record is still kept. */
  requeue(id: string): JobRecord {
    const entry = this.#book.get(id);
    if (!entry) throw new RangeError(`Cannot re-queue job ${JSON.stringify(id)}: no such job among the records kept (maxFinishedRecords ${this.#options.maxFinishedRecords})`);
    if (entry.record.status !== 'cancelled' || entry.definition === null) {
      throw new RangeError(`Cannot re-queue job ${JSON.stringify(id)}: only a cancelled job can be re-queued, and it is ${entry.record.status}`);
    }
    if (this.#book.queueFull) throw queueFullError(this.#book.maxQueued, this.#book.runningCount, entry.record.kind);

    const record = entry.record;
    record.status = 'queued';
    record.reason = null;
    record.cancelledBy = null;
    record.attempt++;
    record.queuedAt = this.#options.clock.epochNow();
    record.startedAt = null;
    record.finishedAt = null;
    entry.cancelRequest = null;
    this.#book.enqueue(entry);
    this.#stats.requeued++;
    this.#emitJob(entry);

    this.#fill();
    return { ...entry.record };
  }

  /** Returns a copy of a job's record, or undefined when the id is unknown or its record was dropped. */
  get(id: string): JobRecord | undefined {
    const entry = this.#book.get(id);
    return entry ? { ...entry.record } : undefined;
  }

  /** Copies of the records kept: queued, running, then finished, oldest finished first. */
  records(): JobRecord[] {
    return this.#book.records();
  }

  stats(): GovernorStats {
    return {
      level: this.#level,
      windowSize: this.windowSize,
      active: this.#book.runningCount,
      queued: this.#book.queuedCount,
      done: this.#stats.done,
      failed: this.#stats.failed,
      cancelled: this.#stats.cancelled,
      started: this.#stats.started,
      requeued: this.#stats.requeued,
      quotaLeft: this.#quota ? this.#quota.left() : null,
      quotaResetsAt: this.#quota ? this.#quota.resetsAt() : null,
      factoryErrors: this.#stats.factoryErrors,
      listenerErrors: this.#stats.listenerErrors,
      droppedRecords: this.#stats.droppedRecords,
      healthChecks: this.#stats.healthChecks,
      lastHealthCheckAt: this.#stats.lastHealthCheckAt,
    };
  }

  /**
   * Runs the health check now: re-reads the source's level (a `pressure` event
   * may have been missed), applies it, calls the factory again if it had
   * paused, and starts what may start.
   */
  checkNow(): void {
    this.#stats.healthChecks++;
    this.#stats.lastHealthCheckAt = this.#options.clock.epochNow();

    const source = this.#options.pressure;
    if (source) this.#applyLevel(source.level);

    this.#factoryPaused = false;
    this.#fill();
    this.#checkIdle();
  }

  /**
   * Drops finished records from memory under pressure: half at moderate, all
   * at high and critical. Their `job` events were emitted already. Queued and
   * running jobs are never dropped.
   */
  trim(level: PressureLevel): TrimResult {
    pressureLevelArgument('level', level);

    const dropped = this.#book.dropFinished(itemsToTrim(level, this.#book.finishedCount));
    this.#stats.droppedRecords += dropped;
    return { items: dropped, bytes: null };
  }

  /** Resolves when no job runs and none can start now: the queue is empty or blocked by the level or the quota, and the factory has nothing. */
  onIdle(): Promise<void> {
    if (this.#book.runningCount === 0 && !this.#fillImmediate && !this.#canStartMore()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  readonly #onPressure = (event: PressureChange): void => {
    try {
      this.#applyLevel(pressureLevelArgument('event.to', event.to));
      this.#fill();
    } catch (err) {
      this.#options.logger.error({ err, event }, 'headroom: the workload governor failed to apply a pressure event');
    }
  };

  /**
   * Arms the next health check after the previous one ended, so checks never
   * overlap. A new timer rather than refresh(), which Node 20's mock timers
   * ignore.
   */
  #armHealthCheck(): void {
    this.#healthTimer = setTimeout(() => this.#healthTick(), this.#options.healthCheckMs);
    this.#healthTimer.unref();
  }

  #healthTick(): void {
    this.#healthTimer = null;
    try {
      this.checkNow();
    } catch (err) {
      this.#options.logger.error({ err }, 'headroom: the workload governor health check failed');
    }

    if (this.#started) this.#armHealthCheck();
  }

  #applyLevel(level: PressureLevel): void {
    const from = this.windowSize;
    this.#level = level;
    const to = this.windowSize;

    if (from !== to) {
      const event: WindowEvent = { type: 'window', time: this.#options.clock.epochNow(), level, from, to };
      this.#options.logger.info({ ...event, active: this.#book.runningCount, queued: this.#book.queuedCount }, `headroom: job window ${from} -> ${to} at ${level}`);
      this.#emitSafely('window', event);
    }

    if (level === 'critical') this.#cancelPastKeep();
  }

  /** At critical, cancels running jobs past `keepAtCritical`, lowest priority first. */
  #cancelPastKeep(): void {
    const candidates = this.#book.cancellationOrder();
    const excess = candidates.length - this.#options.window.keepAtCritical;

    for (const entry of candidates.slice(0, Math.max(0, excess))) {
      this.#requestCancel(entry, 'pressure', CRITICAL_REASON);
    }
  }

  #canStartMore(): boolean {
    if (!this.#started || this.#book.runningCount >= this.windowSize) return false;
    if (this.#quota && this.#quota.left() <= 0) return false;
    return this.#book.queuedCount > 0 || (this.#options.factory !== null && !this.#factoryPaused);
  }

  /** Starts queued jobs, then factory jobs, while the window and the quota have room. */
  #fill(): void {
    if (this.#filling) {
      this.#fillAgain = true;
      return;
    }

    this.#filling = true;
    try {
      do {
        this.#fillAgain = false;
        this.#fillOnce();
      } while (this.#fillAgain);
    } finally {
      this.#filling = false;
    }
  }

  #fillOnce(): void {
    while (this.#started && this.#book.runningCount < this.windowSize) {
      if (!this.#quotaAllowsStart()) return;

      const entry = this.#book.dequeue() ?? this.#fromFactory();
      if (!entry) return;

      this.#quota?.take();
      this.#startJob(entry);
    }
  }

  #quotaAllowsStart(): boolean {
    if (!this.#quota || this.#quota.left() > 0) {
      this.#quotaExhaustedLogged = false;
      return true;
    }

    if (!this.#quotaExhaustedLogged) {
      this.#quotaExhaustedLogged = true;
      this.#options.logger.warn(
        { dailyLimit: this.#quota.limit, quotaWindow: this.#quota.window, timeZone: this.#quota.timeZone, resetsAt: this.#quota.resetsAt(), queued: this.#book.queuedCount },
        `headroom: daily job limit of ${this.#quota.limit} reached, no job starts until the quota frees up`,
      );
    }
    return false;
  }

  /** Calls the factory for one job. Returns undefined, and pauses the factory, when it has nothing or fails. */
  #fromFactory(): JobEntry | undefined {
    const factory = this.#options.factory;
    if (!factory || this.#factoryPaused) return undefined;

    try {
      const definition = factory();
      if (definition === null || definition === undefined) {
        this.#factoryPaused = true;
        return undefined;
      }

      return this.#enqueueNew(validateJobDefinition('factory()', definition), false);
    } catch (err) {
      this.#factoryPaused = true;
      this.#stats.factoryErrors++;
      this.#options.logger.error({ err, factoryErrors: this.#stats.factoryErrors }, 'headroom: the job factory threw; it is called again after the next job ends or health check');
      return undefined;
    }
  }

  /** Creates the record of a new job and emits it queued. With `intoQueue` false the caller starts it at once. */
  #enqueueNew(definition: Required<JobDefinition>, intoQueue = true): JobEntry {
    const entry: JobEntry = {
      record: {
        id: randomUUID(),
        kind: definition.kind,
        priority: definition.priority,
        status: 'queued',
        reason: null,
        cancelledBy: null,
        attempt: 1,
        queuedAt: this.#options.clock.epochNow(),
        startedAt: null,
        finishedAt: null,
      },
      definition,
      controller: null,
      cancelRequest: null,
      sequence: 0,
    };

    if (intoQueue) this.#book.enqueue(entry);
    this.#emitJob(entry);
    return entry;
  }

  #startJob(entry: JobEntry): void {
    const definition = entry.definition as JobDefinition;
    const controller = new AbortController();
    entry.controller = controller;
    entry.record.status = 'running';
    entry.record.startedAt = this.#options.clock.epochNow();
    this.#book.addRunning(entry);
    this.#stats.started++;
    this.#emitJob(entry);

    let result: unknown;
    try {
      result = definition.run(controller.signal);
    } catch (err) {
      result = Promise.reject(err);
    }

    // Settling always goes through a promise, so a job that throws at once ends after submit() has returned its record.
    Promise.resolve(result).then(
      () => this.#settle(entry, null),
      (err: unknown) => this.#settle(entry, { err }),
    );
  }

  #requestCancel(entry: JobEntry, by: CancelSource, reason: string): void {
    if (entry.cancelRequest || !entry.controller) return;

    entry.cancelRequest = { by, reason };
    this.#options.logger.info({ jobId: entry.record.id, kind: entry.record.kind, priority: entry.record.priority, by, pressureLevel: this.#level }, `headroom: cancelling job: ${reason}`);
    entry.controller.abort(new JobCancelledError(entry.record.id, by, reason));
  }

  #settle(entry: JobEntry, failure: { err: unknown } | null): void {
    entry.controller = null;
    const request = entry.cancelRequest;

    if (request) {
      this.#finish(entry, 'cancelled', request.reason, request.by);
    } else if (failure) {
      const reason = errorMessage(failure.err);
      this.#options.logger.warn({ err: failure.err, jobId: entry.record.id, kind: entry.record.kind, attempt: entry.record.attempt }, `headroom: job failed: ${reason}`);
      this.#finish(entry, 'failed', reason, null);
    } else {
      this.#finish(entry, 'done', null, null);
    }

    this.#factoryPaused = false;
    this.#scheduleFill();
    this.#checkIdle();
  }

  #finish(entry: JobEntry, status: 'done' | 'failed' | 'cancelled', reason: string | null, by: CancelSource | null): void {
    const record = entry.record;
    record.status = status;
    record.reason = reason;
    record.cancelledBy = by;
    record.finishedAt = this.#options.clock.epochNow();

    // A cancelled job keeps its definition so requeue() can run it again; the others let it be collected.
    if (status !== 'cancelled') entry.definition = null;
    this.#stats[status]++;
    this.#stats.droppedRecords += this.#book.addFinished(entry);
    this.#emitJob(entry);
  }

  /**
   * Refills on the next turn of the event loop rather than in the settle
   * callback, so jobs that fail at once cannot keep the loop in a microtask
   * cycle. The immediate is not unref'd: a batch must go on to its end.
   */
  #scheduleFill(): void {
    if (!this.#started || this.#fillImmediate) return;

    this.#fillImmediate = setImmediate(() => {
      this.#fillImmediate = null;
      this.#fill();
      this.#checkIdle();
    });
  }

  #checkIdle(): void {
    if (this.#idleWaiters.length === 0 || this.#book.runningCount > 0 || this.#fillImmediate || this.#canStartMore()) return;

    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #emitJob(entry: JobEntry): void {
    this.#emitSafely('job', { ...entry.record });
  }

  /** Calls each listener in its own try/catch, so one failing listener neither stops the others nor the governor. */
  #emitSafely<K extends keyof WorkloadGovernorEvents>(name: K, ...args: WorkloadGovernorEvents[K]): void {
    // rawListeners() keeps the wrappers that once() installs, so a once() listener removes itself.
    for (const listener of this.rawListeners(name) as Array<(...values: WorkloadGovernorEvents[K]) => void>) {
      try {
        listener.apply(this, args);
      } catch (err) {
        this.#stats.listenerErrors++;
        this.#options.logger.error({ err, event: name, listenerErrors: this.#stats.listenerErrors }, `headroom: a '${name}' listener threw`);
      }
    }
  }
}

/** Creates a workload governor; call `start()` to begin running jobs. Throws on an invalid option. */
export function createWorkloadGovernor(options: WorkloadGovernorOptions = {}): WorkloadGovernor {
  return new WorkloadGovernor(options);
}
