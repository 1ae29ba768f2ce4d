import type { CancelSource } from './job-record.js';

/**
 * The abort reason a cancelled job's `AbortSignal` carries, so
 * `signal.throwIfAborted()` throws it. Its name is `AbortError`, as for any
 * abort in Node, and its code is `HEADROOM_JOB_CANCELLED`.
 */
export class JobCancelledError extends Error {
  override readonly name = 'AbortError';
  readonly code = 'HEADROOM_JOB_CANCELLED';
  readonly jobId: string;
  readonly cancelledBy: CancelSource;

  constructor(jobId: string, cancelledBy: CancelSource, reason: string) {
    super(`Job ${jobId} was cancelled: ${reason}`);
    this.jobId = jobId;
    this.cancelledBy = cancelledBy;
  }
}
