/** A source of monotonic time in milliseconds. Tests pass a scripted clock. */
export interface Clock {
  /** Monotonic milliseconds, as `performance.now()` returns them. */
  now(): number;
  /** Wall-clock milliseconds since the epoch, used only to stamp events. */
  epochNow(): number;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  epochNow: () => Date.now(),
};
