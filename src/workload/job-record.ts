/** The states of a job, in order: a job ends done, failed or cancelled, and only a cancelled one can be queued again. */
export const JOB_STATUSES = ['queued', 'running', 'done', 'failed', 'cancelled'] as const;

export type JobStatus = (typeof JOB_STATUSES)[number];

/** The source of a cancellation: the governor at critical pressure, `stop()`, or the application through `cancel()`. */
export type CancelSource = 'pressure' | 'stop' | 'caller';

/** One unit of work for the governor. */
export interface JobDefinition {
  /** A label for records, logs and figures. Default `'job'`. */
  kind?: string;
  /** Jobs with a higher priority start first and are cancelled last. Default 0. */
  priority?: number;
  /**
   * Does the work. It should stop when `signal` aborts: the governor keeps the
   * job's slot until the returned promise settles, so a job that ignores the
   * signal keeps holding its memory and its slot.
   */
  run: (signal: AbortSignal) => unknown;
}

/** The state of one job. The governor hands out copies, so a record never changes under its reader. */
export interface JobRecord {
  /** A random UUID, unique across processes, so records from several runs can share one store. */
  id: string;
  kind: string;
  priority: number;
  status: JobStatus;
  /** The reason the job failed (the error message) or was cancelled, or null while it is queued, running or done. */
  reason: string | null;
  /** The source of the cancellation, or null when the job was not cancelled. */
  cancelledBy: CancelSource | null;
  /** 1 for the first run; each re-queue after a cancellation adds 1. */
  attempt: number;
  /** Milliseconds since the epoch, from the injected clock. */
  queuedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

/** The three end states. */
export type FinishedStatus = Extract<JobStatus, 'done' | 'failed' | 'cancelled'>;

export function isFinished(status: JobStatus): status is FinishedStatus {
  return status === 'done' || status === 'failed' || status === 'cancelled';
}
