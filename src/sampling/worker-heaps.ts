import { BroadcastChannel, isMainThread, threadId, type Worker } from 'node:worker_threads';

/** The channel on which managers in worker threads publish their heap figures. */
export const WORKER_HEAPS_CHANNEL = 'headroom:worker-heaps';

/** The maximum number of worker threads tracked at once; more are counted in `dropped`. */
const MAX_WORKERS = 256;

/** One worker thread's latest heap figures. */
export interface WorkerHeap {
  threadId: number;
  heapUsedBytes: number;
  heapLimitBytes: number;
  liveBytes: number;
  /** Epoch milliseconds of the figures. */
  time: number;
}

/** Heap figures summed over the worker threads whose managers reported recently. */
export interface WorkerHeapTotals {
  count: number;
  heapUsedBytes: number;
  heapLimitBytes: number;
  liveBytes: number;
}

/** Emitted when a watched worker thread fails, such as `ERR_WORKER_OUT_OF_MEMORY`. */
export interface WorkerErrorEvent {
  type: 'worker-error';
  time: number;
  threadId: number;
  /** The error code, `ERR_WORKER_OUT_OF_MEMORY` when the worker's heap ran out. */
  code: string | null;
  message: string;
  outOfMemory: boolean;
}

/**
 * Shares heap figures between the managers of one process. A manager in a
 * worker thread publishes each sample; the main thread's manager keeps the
 * latest per thread and sums them. Figures older than `staleMs` are dropped,
 * so an exited worker leaves the totals.
 */
export class WorkerHeapBoard {
  readonly #channel: BroadcastChannel;
  readonly #latest = new Map<number, WorkerHeap>();
  readonly #staleMs: number;
  readonly #epochNow: () => number;
  #dropped = 0;

  constructor(staleMs: number, epochNow: () => number) {
    this.#staleMs = staleMs;
    this.#epochNow = epochNow;
    this.#channel = new BroadcastChannel(WORKER_HEAPS_CHANNEL);
    // The channel must never keep a thread alive.
    this.#channel.unref();

    if (isMainThread) {
      this.#channel.onmessage = (event: unknown) => this.#receive((event as { data: unknown }).data);
    }
  }

  /** Publishes this thread's figures, from a worker thread; does nothing on the main thread. */
  publish(heap: Omit<WorkerHeap, 'threadId'>): void {
    if (isMainThread) return;
    this.#channel.postMessage({ ...heap, threadId });
  }

  totals(): WorkerHeapTotals {
    const oldest = this.#epochNow() - this.#staleMs;
    const totals: WorkerHeapTotals = { count: 0, heapUsedBytes: 0, heapLimitBytes: 0, liveBytes: 0 };
    for (const [id, heap] of this.#latest) {
      if (heap.time < oldest) {
        this.#latest.delete(id);
        continue;
      }
      totals.count++;
      totals.heapUsedBytes += heap.heapUsedBytes;
      totals.heapLimitBytes += heap.heapLimitBytes;
      totals.liveBytes += heap.liveBytes;
    }
    return totals;
  }

  get dropped(): number {
    return this.#dropped;
  }

  close(): void {
    this.#channel.close();
  }

  #receive(data: unknown): void {
    const heap = data as Partial<WorkerHeap> | null;
    if (!heap || typeof heap.threadId !== 'number' || typeof heap.heapUsedBytes !== 'number') return;
    if (!this.#latest.has(heap.threadId) && this.#latest.size >= MAX_WORKERS) {
      this.#dropped++;
      return;
    }
    this.#latest.set(heap.threadId, heap as WorkerHeap);
  }
}

/**
 * Listens for a worker's `error` so that a worker that runs out of heap
 * (`ERR_WORKER_OUT_OF_MEMORY`) is reported instead of crashing the host. With
 * this listener no worker error reaches the host as an uncaught exception;
 * each one is passed to `onError` instead. Returns a function that stops it.
 */
export function watchWorker(worker: Worker, epochNow: () => number, onError: (event: WorkerErrorEvent) => void): () => void {
  const workerThreadId = worker.threadId;
  const listener = (err: Error & { code?: string }): void => {
    const code = typeof err.code === 'string' ? err.code : null;
    onError({
      type: 'worker-error',
      time: epochNow(),
      threadId: workerThreadId,
      code,
      message: err.message,
      outOfMemory: code === 'ERR_WORKER_OUT_OF_MEMORY',
    });
  };

  worker.on('error', listener);
  return () => worker.off('error', listener);
}
