/**
 * Time, as the poller and the stop loop see it: tests replace it with a clock they move by
 * hand.
 *
 * @module
 */

/** Reads the time and waits. */
export interface Clock {
  /** Milliseconds since some fixed point. */
  now(): number;
  /**
   * Resolves after `ms` milliseconds, or at once when `signal` is aborted (never rejects).
   *
   * @param ms how long to wait
   * @param signal ends the wait early
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock: `performance.now()` and timers. */
export const realClock: Clock = {
  now: () => performance.now(),
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
    });
  },
};
