/** Stable codes of the errors a pool throws when an object is released wrongly. */
export type PoolErrorCode = 'HEADROOM_POOL_FOREIGN_OBJECT' | 'HEADROOM_POOL_DOUBLE_RELEASE';

/**
 * Thrown when `release()` gets an object the pool did not hand out, or one
 * already released. Either would put one object in two hands, which corrupts
 * data silently, so the pool rejects the call and keeps its state unchanged.
 */
export class PoolError extends Error {
  override readonly name = 'PoolError';
  readonly code: PoolErrorCode;

  constructor(code: PoolErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
