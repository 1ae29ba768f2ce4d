import { EventEmitter } from 'node:events';
import type { PressureLevel } from '../analysis/levels.js';
import { createMemoryManager, type MemoryManager } from '../manager/manager.js';
import type { MemoryManagerOptions } from '../manager/options.js';
import type { SingleAction } from '../responses/responder.js';
import type { RelieveAction } from '../responses/relieve.js';
import { booleanOption, errorMessage } from '../responses/response-options.js';
import type { Sample } from '../sampling/sample.js';
import { systemClock, type Clock } from '../util/clock.js';
import { createDefaultLogger, type Logger } from '../util/logger.js';
import { durationOption, invalidOption, numberOption } from '../util/validate.js';
import { ETA, LAMBDA, QDT_INTERVAL_MS, QDT_THRESHOLDS } from './constants.js';
import { QdtHistory, type QdtHistorySummary } from './history.js';
import { computeQdtMetrics, type QdtMetrics } from './metrics.js';

export interface QDTMemoryManagerOptions extends Omit<MemoryManagerOptions, 'thresholds'> {
  /** Run `quantumTunneling()` when filament > LAMBDA and `gravitationalFunneling()` when coherence < ETA, on their own. Default true. */
  automatic?: boolean;
  /** The minimum time between two automatic tunnelings, on top of the forced GC's own cooldown. Default 30 s. */
  tunnelingCooldownMs?: number | string;
  /** The minimum time between two automatic funnelings. Default 60 s, because each one evicts cache entries. */
  funnelingCooldownMs?: number | string;
  /** QDT metrics kept for `analytics()`. Default 720: an hour at the 5 s interval. */
  historySize?: number;
}

export type QdtOperation = 'quantum-tunneling' | 'gravitational-funneling';

/** One run of tunneling or funneling, as the `optimization` event and the routes report it. */
export interface QdtOptimizationEvent {
  type: 'qdt-optimization';
  operation: QdtOperation;
  /** `automatic`, `manual`, or the trigger a caller passed. */
  trigger: string;
  /** Milliseconds since the epoch. */
  time: number;
  /** The metrics of the latest sample before the run, or null before the first sample. */
  before: QdtMetrics | null;
  /** headroom's own action: a forced GC for tunneling, `relieve()` for funneling. */
  action: SingleAction | RelieveAction;
}

/** Counters of one operation since the manager was created. */
export interface QdtOperationStats {
  runs: number;
  automatic: number;
  /** Runs that skipped their work: a forced GC refused by its guards. */
  skipped: number;
  reclaimedBytes: number;
  failures: number;
  lastAt: number | null;
}

/** Anything with `stats()`, such as an `ObjectPool`, a `BufferPool` or a `QDTEnhancedStorage`. */
export interface QdtPool {
  stats(): object;
  /** When present, the pool is trimmed under pressure through a releaser. */
  trim?(level: PressureLevel): { bytes: number | null };
}

export interface QDTMemoryManagerEvents {
  metrics: [QdtMetrics];
  optimization: [QdtOptimizationEvent];
}

const HOUR_MS = 3_600_000;
const QDT_KEYS = ['automatic', 'tunnelingCooldownMs', 'funnelingCooldownMs', 'historySize'] as const;

/**
 * The design's memory manager on headroom: a `MemoryManager` sampling every
 * 5 s with the `qdt` thresholds (critical at LAMBDA), the design's metrics
 * on every sample, forced GC as `quantumTunneling()` when filament > LAMBDA,
 * and `relieve()` as `gravitationalFunneling()` when coherence < ETA.
 */
export class QDTMemoryManager extends EventEmitter<QDTMemoryManagerEvents> {
  /** The headroom manager underneath: levels, releasers, forced GC, events. */
  readonly manager: MemoryManager;
  readonly history: QdtHistory;
  readonly #automatic: boolean;
  readonly #tunnelingCooldownMs: number;
  readonly #funnelingCooldownMs: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #pools = new Map<string, QdtPool>();
  readonly #poolReleasers = new Map<string, () => boolean>();
  readonly #stats: Record<QdtOperation, QdtOperationStats> = { 'quantum-tunneling': emptyStats(), 'gravitational-funneling': emptyStats() };
  #lastTunnelingMs = Number.NEGATIVE_INFINITY;
  #lastFunnelingMs = Number.NEGATIVE_INFINITY;
  /** True while a funneling runs, so an automatic one never overlaps a manual one. */
  #funneling = false;
  readonly #onSample = (sample: Sample): void => this.#handleSample(sample);

  constructor(options: QDTMemoryManagerOptions = {}) {
    super();
    if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options, 'type');
    if ('thresholds' in options) {
      throw invalidOption('thresholds', 'no value: the qdt profile sets them from LAMBDA (use createMemoryManager for other thresholds)', (options as Record<string, unknown>).thresholds, 'type');
    }

    const { automatic, tunnelingCooldownMs, funnelingCooldownMs, historySize, ...managerOptions } = options;
    this.#automatic = booleanOption('automatic', automatic, true);
    this.#tunnelingCooldownMs = durationOption('tunnelingCooldownMs', tunnelingCooldownMs, 30_000, 0, HOUR_MS);
    this.#funnelingCooldownMs = durationOption('funnelingCooldownMs', funnelingCooldownMs, 60_000, 0, HOUR_MS);
    this.history = new QdtHistory(numberOption('historySize', historySize, 720, 1, 1_000_000, true));
    this.#clock = managerOptions.clock ?? systemClock;
    this.#logger = managerOptions.logger ?? createDefaultLogger();

    this.manager = createMemoryManager({ intervalMs: QDT_INTERVAL_MS, ...managerOptions, thresholds: { ...QDT_THRESHOLDS } });
    this.manager.on('sample', this.#onSample);
  }

  get running(): boolean {
    return this.manager.running;
  }

  get level(): PressureLevel {
    return this.manager.level;
  }

  /** True while a gravitational funneling runs. */
  get funnelingRunning(): boolean {
    return this.#funneling;
  }

  /** Starts sampling. */
  start(): this {
    this.manager.start();
    return this;
  }

  /** Stops sampling and releases every timer the manager created. Listeners stay, so `start()` resumes. */
  stop(): this {
    this.manager.stop();
    return this;
  }

  /** Stops sampling for good and removes this wrapper's listener from the manager. */
  close(): void {
    this.stop();
    this.manager.off('sample', this.#onSample);
    for (const unregister of this.#poolReleasers.values()) unregister();
    this.#poolReleasers.clear();
  }

  /** Computes the metrics of the latest sample, or returns null before the first one. */
  metrics(): QdtMetrics | null {
    const sample = this.manager.latest;
    return sample ? computeQdtMetrics(sample) : null;
  }

  /** QDT metrics over the last `windowMs` of kept history, with the operation counters. */
  analytics(windowMs: number): QdtHistorySummary & { operations: Record<QdtOperation, QdtOperationStats> } {
    return { ...this.history.summarize(windowMs, this.#clock.epochNow()), operations: this.operationStats() };
  }

  operationStats(): Record<QdtOperation, QdtOperationStats> {
    return { 'quantum-tunneling': { ...this.#stats['quantum-tunneling'] }, 'gravitational-funneling': { ...this.#stats['gravitational-funneling'] } };
  }

  /**
   * Forces a full garbage collection through headroom's guards: it needs
   * `gc` (node `--expose-gc`, or `responses.forcedGc.enableAtRuntime`), waits
   * out the forced-GC cooldown and backs off when collections stop paying.
   * A skipped run returns `done: false` with the reason.
   */
  quantumTunneling(trigger = 'manual'): QdtOptimizationEvent {
    const before = this.metrics();
    const action = this.manager.forceGc(trigger);

    const stats = this.#stats['quantum-tunneling'];
    if (!action.done) stats.skipped++;
    stats.reclaimedBytes += action.reclaimedBytes;
    return this.#record('quantum-tunneling', trigger, before, action);
  }

  /**
   * Runs the releasers for the current level (at least moderate), then a
   * forced GC when one is available and paying: headroom's `relieve()`.
   * Rejects when another funneling is still running.
   */
  async gravitationalFunneling(trigger = 'manual'): Promise<QdtOptimizationEvent> {
    if (this.#funneling) throw new Error('Cannot start gravitational funneling: the previous one is still running');

    this.#funneling = true;
    const before = this.metrics();
    try {
      const action = await this.manager.relieve(undefined, trigger);
      this.#stats['gravitational-funneling'].reclaimedBytes += action.reclaimedBytes;
      return this.#record('gravitational-funneling', trigger, before, action);
    } finally {
      this.#funneling = false;
    }
  }

  /**
   * Adds a pool to `poolStats()` under `name`. A pool with `trim(level)` is
   * also trimmed under pressure, from moderate on. Returns the function that removes it.
   */
  registerPool(name: string, pool: QdtPool): () => void {
    if (typeof name !== 'string' || name.length === 0) throw invalidOption('name', 'a non-empty string', name, 'type');
    if (typeof pool?.stats !== 'function') throw invalidOption('pool', 'an object with a stats() method', pool, 'type');
    if (this.#pools.has(name)) throw new RangeError(`Cannot register pool ${JSON.stringify(name)}: a pool with this name is registered`);

    this.#pools.set(name, pool);
    if (typeof pool.trim === 'function') {
      const trim = pool.trim.bind(pool);
      this.#poolReleasers.set(name, this.manager.registerReleaser({ name: `pool:${name}`, minLevel: 'moderate', release: (level) => trim(level).bytes ?? undefined }));
    }

    return () => {
      this.#pools.delete(name);
      this.#poolReleasers.get(name)?.();
      this.#poolReleasers.delete(name);
    };
  }

  /** Collects the `stats()` of every registered pool, by name. */
  poolStats(): Record<string, object> {
    const result: Record<string, object> = {};
    for (const [name, pool] of this.#pools) result[name] = pool.stats();
    return result;
  }

  #handleSample(sample: Sample): void {
    const metrics = computeQdtMetrics(sample);
    this.history.record(metrics);
    this.emit('metrics', metrics);
    if (!this.#automatic) return;

    const nowMs = this.#clock.now();
    if (metrics.filament > LAMBDA && nowMs - this.#lastTunnelingMs >= this.#tunnelingCooldownMs) {
      this.#lastTunnelingMs = nowMs;
      this.#stats['quantum-tunneling'].automatic++;
      this.quantumTunneling('automatic');
    }

    if (metrics.coherence < ETA && !this.#funneling && nowMs - this.#lastFunnelingMs >= this.#funnelingCooldownMs) {
      this.#lastFunnelingMs = nowMs;
      this.#stats['gravitational-funneling'].automatic++;
      this.gravitationalFunneling('automatic').catch((err: unknown) => {
        this.#stats['gravitational-funneling'].failures++;
        this.#logger.error({ err, coherence: metrics.coherence }, `headroom: automatic gravitational funneling failed: ${errorMessage(err)}`);
      });
    }
  }

  #record(operation: QdtOperation, trigger: string, before: QdtMetrics | null, action: SingleAction | RelieveAction): QdtOptimizationEvent {
    const event: QdtOptimizationEvent = { type: 'qdt-optimization', operation, trigger, time: this.#clock.epochNow(), before, action };
    const stats = this.#stats[operation];
    stats.runs++;
    stats.lastAt = event.time;
    this.#logger.info({ operation, trigger, reclaimedBytes: action.reclaimedBytes }, `headroom: ${operation} (${trigger})`);

    try {
      this.emit('optimization', event);
    } catch (err) {
      this.#logger.error({ err, operation }, `headroom: an 'optimization' listener threw`);
    }
    return event;
  }
}

function emptyStats(): QdtOperationStats {
  return { runs: 0, automatic: 0, skipped: 0, reclaimedBytes: 0, failures: 0, lastAt: null };
}

/** Creates a QDT memory manager; call `start()` to begin sampling. Throws on an invalid option. */
export function createQDTMemoryManager(options: QDTMemoryManagerOptions = {}): QDTMemoryManager {
  return new QDTMemoryManager(options);
}
