/**
 * What a promise race waits on besides its event: a timer that is cancelled once the race is
 * over, so that no pending timeout holds the event loop open, and the abort of a signal.
 *
 * @module
 */

/**
 * A timer that can be awaited and cancelled.
 *
 * @param ms delay in milliseconds
 * @returns the promise (resolving to `"timeout"`) and its cancel function
 */
export function timer(ms: number): { promise: Promise<"timeout">; cancel: () => void } {
  let id: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<"timeout">((resolve) => {
    id = setTimeout(() => resolve("timeout"), ms);
  });
  return { promise, cancel: () => clearTimeout(id) };
}

/**
 * Settles when `signal` aborts (at once if it has); never rejects.
 *
 * @param signal the signal
 * @returns a promise resolving to `"halted"`
 */
export function whenAborted(signal: AbortSignal): Promise<"halted"> {
  if (signal.aborted) return Promise.resolve("halted");
  return new Promise((resolve) => {
    signal.addEventListener("abort", () => resolve("halted"), { once: true });
  });
}
