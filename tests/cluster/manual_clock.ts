/**
 * A clock the test moves: `sleep()` waits until the test ends that sleep, so a loop that
 * polls at an interval runs one round per {@linkcode ManualClock.tick}, whatever the
 * interval.
 *
 * @module
 */

import type { Clock } from "../../lib/cluster/mod.ts";

/** A clock whose sleeps end when the test says. */
export class ManualClock implements Clock {
  /** The current time, in milliseconds. */
  time = 0;
  /** The length of every sleep asked for, in order. */
  readonly sleeps: number[] = [];
  #current?: { ms: number; end: () => void };
  #onSleep?: () => void;

  /** {@inheritDoc Clock.now} */
  now(): number {
    return this.time;
  }

  /** {@inheritDoc Clock.sleep} */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    return new Promise((resolve) => {
      const end = () => {
        if (this.#current?.end === end) this.#current = undefined;
        resolve();
      };
      this.#current = { ms, end };
      signal?.addEventListener("abort", end, { once: true });
      this.#onSleep?.();
    });
  }

  /** Resolves with the length of the sleep under way, once there is one. */
  sleeping(): Promise<number> {
    if (this.#current) return Promise.resolve(this.#current.ms);
    return new Promise((resolve) => {
      this.#onSleep = () => {
        this.#onSleep = undefined;
        resolve(this.#current!.ms);
      };
    });
  }

  /**
   * Ends the sleep under way (time moves by its length) and lets everything that follows
   * run (the fakes answer at once: it all happens before the next macrotask).
   *
   * @returns the length of the next sleep, or undefined when nothing sleeps
   */
  async tick(): Promise<number | undefined> {
    const ms = await this.sleeping();
    this.time += ms;
    this.#current!.end();
    await new Promise((resolve) => setTimeout(resolve, 0));
    return this.#current?.ms;
  }

  /** Ends sleeps, one after the other, until `promise` settles; returns its value. */
  async drive<T>(promise: Promise<T>): Promise<T> {
    const done = promise.then(() => true, () => true);
    while (!(await Promise.race([done, this.sleeping().then(() => false)]))) {
      this.time += this.#current!.ms;
      this.#current!.end();
    }
    return await promise;
  }
}
