/**
 * A timer that a promise race can await and that is cancelled once the race is over, so that
 * no pending timeout holds the event loop open.
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
