import type { CancelSource, JobDefinition, JobRecord } from './job-record.js';

/** A job as the governor tracks it. `record` is private state: callers get copies. */
export interface JobEntry {
  readonly record: JobRecord;
  /** The work to run. Dropped when the job ends done or failed, so its closure can be collected; kept for a cancelled job so it can be re-queued. */
  definition: JobDefinition | null;
  /** Present while the job runs. */
  controller: AbortController | null;
  /** Set when a cancel was requested for a running job; it ends cancelled when its promise settles. */
  cancelRequest: { by: CancelSource; reason: string } | null;
  /** Queue order among jobs of equal priority. */
  sequence: number;
}

/**
 * Holds every job of the governor: queued ones in priority order, running
 * ones, and the latest finished ones. Queued and running jobs are bounded by
 * `maxQueued` and the governor's `maxActive`. Finished ones by
 * `maxFinishedRecords`: the oldest are dropped first, after their `job` event
 * has been emitted.
 */
export class JobBook {
  readonly #maxQueued: number;
  readonly #maxFinished: number;
  /** Sorted by priority, highest first, then by sequence. */
  readonly #queue: JobEntry[] = [];
  readonly #running = new Set<JobEntry>();
  /** Insertion order is finish order, so the first key is the oldest. */
  readonly #finished = new Map<string, JobEntry>();
  #nextSequence = 0;

  constructor(maxQueued: number, maxFinished: number) {
    this.#maxQueued = maxQueued;
    this.#maxFinished = maxFinished;
  }

  get queuedCount(): number {
    return this.#queue.length;
  }

  get runningCount(): number {
    return this.#running.size;
  }

  get finishedCount(): number {
    return this.#finished.size;
  }

  get maxQueued(): number {
    return this.#maxQueued;
  }

  get queueFull(): boolean {
    return this.#queue.length >= this.#maxQueued;
  }

  /** Returns the entry with this id, or undefined when it is unknown or its record was dropped. */
  get(id: string): JobEntry | undefined {
    return this.#finished.get(id) ?? this.#queue.find((entry) => entry.record.id === id) ?? [...this.#running].find((entry) => entry.record.id === id);
  }

  /** Adds a queued entry in priority order. The caller checks `queueFull` first. */
  enqueue(entry: JobEntry): void {
    entry.sequence = this.#nextSequence++;
    this.#finished.delete(entry.record.id);

    // Binary search for the first entry that should come after this one.
    let low = 0;
    let high = this.#queue.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const other = this.#queue[middle] as JobEntry;
      if (other.record.priority >= entry.record.priority) low = middle + 1;
      else high = middle;
    }
    this.#queue.splice(low, 0, entry);
  }

  /** Removes and returns the next job to start. */
  dequeue(): JobEntry | undefined {
    return this.#queue.shift();
  }

  /** Removes a queued entry, as when it is cancelled before it starts. */
  removeQueued(entry: JobEntry): boolean {
    const index = this.#queue.indexOf(entry);
    if (index === -1) return false;

    this.#queue.splice(index, 1);
    return true;
  }

  addRunning(entry: JobEntry): void {
    this.#running.add(entry);
  }

  /** Moves an entry to the finished records and returns how many old records were dropped to stay within the bound. */
  addFinished(entry: JobEntry): number {
    this.#running.delete(entry);
    this.#finished.set(entry.record.id, entry);
    return this.dropFinished(this.#finished.size - this.#maxFinished);
  }

  /** Drops up to `count` finished records, oldest first, and returns how many it dropped. */
  dropFinished(count: number): number {
    let dropped = 0;
    for (const id of this.#finished.keys()) {
      if (dropped >= count) break;
      this.#finished.delete(id);
      dropped++;
    }
    return dropped;
  }

  queued(): readonly JobEntry[] {
    return this.#queue;
  }

  running(): JobEntry[] {
    return [...this.#running];
  }

  /**
   * Returns the running jobs not yet asked to stop, in the order they should be
   * cancelled: lowest priority first, and among equals the latest started
   * first, because it has done the least work.
   */
  cancellationOrder(): JobEntry[] {
    return this.running()
      .filter((entry) => entry.cancelRequest === null)
      .sort((a, b) => a.record.priority - b.record.priority || (b.record.startedAt ?? 0) - (a.record.startedAt ?? 0) || b.sequence - a.sequence);
  }

  /** Copies of every record held: queued, running, then finished, oldest finished first. */
  records(): JobRecord[] {
    return [...this.#queue, ...this.#running, ...this.#finished.values()].map((entry) => ({ ...entry.record }));
  }
}
