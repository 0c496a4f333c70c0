/**
 * The last few launch requests that failed, and sessions whose batch job ended under them,
 * for the dashboard: a bounded ring fed as a {@linkcode LaunchObserver}, so the session table
 * stays unaware of it.
 *
 * Each entry keeps only what the client itself was told (the message of the JSON error
 * answer), never the error object, a command line or a secret. Bad requests are left out:
 * anyone who can reach the endpoint can make them by the thousand, and they would push the
 * launches that really failed out of the ring; `/metrics` still counts them.
 *
 * @example
 * ```ts
 * import { RecentFailures } from "./recent_failures.ts";
 * import { LaunchError } from "../errors/mod.ts";
 *
 * const failures = new RecentFailures({ capacity: 50 });
 * failures.launched("viz", "timeout", undefined, new LaunchError("no ready line", "timeout"));
 * failures.list(); // [{ at: ..., application: "viz", outcome: "timeout", error: "no ready line" }]
 * ```
 *
 * @module
 */

import { publicMessage } from "../errors/mod.ts";
import type { LaunchObserver, LaunchOutcome } from "../http/mod.ts";

/** One failed launch request. */
export interface LaunchFailureEntry {
  /** When it failed, in ms since the epoch. */
  at: number;
  /** The application asked for, or "" when none was valid. */
  application: string;
  /** How it ended. */
  outcome: LaunchOutcome;
  /** What the client was told. */
  error: string;
}

/** How the ring is built. */
export interface RecentFailuresOptions {
  /** How many failures are kept; older ones are forgotten. @default 50 */
  capacity?: number;
  /** The wall clock, in ms since the epoch. @default Date.now */
  now?: () => number;
  /** Longest message kept, in characters; longer ones are cut. @default 500 */
  maxMessageLength?: number;
}

/** Outcomes that are not failures of the launcher or of an application. */
const IGNORED: ReadonlySet<LaunchOutcome> = new Set(["ready", "bad_request"]);

/** The most recent failed launches, newest first, in a bounded ring. */
export class RecentFailures implements LaunchObserver {
  readonly #ring: (LaunchFailureEntry | undefined)[];
  readonly #now: () => number;
  readonly #maxMessageLength: number;
  #next = 0;
  #version = 0;

  /**
   * Makes an empty ring.
   *
   * @param options its capacity and clock
   * @throws {RangeError} when the capacity is not a whole number of at least 1
   */
  constructor(options: RecentFailuresOptions = {}) {
    const capacity = options.capacity ?? 50;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a whole number of at least 1, got ${capacity}`);
    }
    this.#ring = new Array(capacity).fill(undefined);
    this.#now = options.now ?? Date.now;
    this.#maxMessageLength = options.maxMessageLength ?? 500;
  }

  /**
   * Records a launch request that failed; successes and bad requests are ignored.
   *
   * @param application the application asked for, or "" when none was valid
   * @param outcome how it ended
   * @param _readySeconds ignored
   * @param error what the launch threw
   */
  launched(
    application: string,
    outcome: LaunchOutcome,
    _readySeconds?: number,
    error?: unknown,
  ): void {
    if (IGNORED.has(outcome)) return;
    this.#record(application, outcome, error === undefined ? outcome : publicMessage(error));
  }

  /**
   * Records a session that ended because its batch job ended (a time limit, a node failure,
   * preemption, its app's exit): the dashboard says how.
   *
   * @param application its application
   * @param message how its job ended, such as `job 41 on n1 was killed at its time limit`
   */
  jobEnded(application: string, message: string): void {
    this.#record(application, "job_ended", message);
  }

  #record(application: string, outcome: LaunchOutcome, message: string): void {
    if (message.length > this.#maxMessageLength) {
      message = `${message.slice(0, this.#maxMessageLength - 1)}…`;
    }
    this.#ring[this.#next] = { at: this.#now(), application, outcome, error: message };
    this.#next = (this.#next + 1) % this.#ring.length;
    this.#version++;
  }

  /** Counts the failures recorded so far; it changes whenever {@linkcode list} does. */
  get version(): number {
    return this.#version;
  }

  /**
   * The failures kept, newest first.
   *
   * @returns copies of the entries
   */
  list(): LaunchFailureEntry[] {
    const out: LaunchFailureEntry[] = [];
    const n = this.#ring.length;
    for (let i = 1; i <= n; i++) {
      const entry = this.#ring[(this.#next - i + n) % n];
      if (entry) out.push({ ...entry });
    }
    return out;
  }
}
