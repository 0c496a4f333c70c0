/**
 * Warm pools: for each application with `warm: N`, N processes already started and ready,
 * waiting to be handed out at once on a POST, so that a client does not wait for the app's
 * own start (imports, a GPU context: seconds for ParaView). The pool only keeps count and
 * decides when to start another; the session manager starts, hands out and stops them.
 *
 * A process that fails to start, or dies soon after it began to wait, is retried after a
 * back-off that doubles up to a ceiling (an app that keeps failing is not restarted in a
 * tight loop); a process that waited long enough before it died is replaced at once.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { SessionRecord } from "./record.ts";

/** What the pool needs of the session manager. */
export interface WarmPoolDeps {
  /**
   * Starts a warm process of an application.
   *
   * @returns its record once it waits (it printed its ready line); `undefined` when it was
   *   stopped on purpose before that (room was needed); rejects when it failed
   */
  start(application: string): Promise<SessionRecord | undefined>;
  /** Whether one more process may start now: a free port, and room under `max_session`. */
  hasRoom(): boolean;
  /** The monotonic clock, in ms. */
  now(): number;
}

/** How retries are spaced. */
export interface WarmPoolOptions {
  /** The first delay after a failure, in ms. @default 1000 */
  firstRetryMs?: number;
  /** The longest delay between retries, in ms. @default 60000 */
  maxRetryMs?: number;
  /** A process that waited this long before it died was no failure of its app, in ms. @default 60000 */
  stableMs?: number;
}

/** What a pool holds of one application, for the metrics and the dashboard. */
export interface WarmCounts {
  /** The application. */
  application: string;
  /** How many processes it keeps waiting. */
  target: number;
  /** Processes waiting to be handed out. */
  waiting: number;
  /** Processes starting, to wait. */
  starting: number;
  /** POSTs that got a waiting process. */
  hits: number;
  /** POSTs that found none waiting and started cold. */
  misses: number;
  /** Failures in a row (the back-off grows with them). */
  failures: number;
}

interface AppPool {
  target: number;
  waiting: { rec: SessionRecord; since: number }[];
  starting: number;
  hits: number;
  misses: number;
  failures: number;
  retry?: ReturnType<typeof setTimeout>;
}

const logger = () => getLogger(["pvw-launcher", "warm"]);

/**
 * The warm processes of every application that asks for some.
 *
 * @example
 * ```ts ignore
 * const warm = new WarmPool(new Map([["viz", 2]]), { start, hasRoom, now: performance.now });
 * warm.fill();                  // starts two processes of "viz"
 * const rec = warm.take("viz"); // a waiting one, or undefined (a miss)
 * ```
 */
export class WarmPool {
  readonly #deps: WarmPoolDeps;
  readonly #apps = new Map<string, AppPool>();
  readonly #firstRetryMs: number;
  readonly #maxRetryMs: number;
  readonly #stableMs: number;
  #closed = false;
  #soon: ReturnType<typeof setTimeout> | undefined;

  /**
   * Makes the pools; nothing starts before {@linkcode WarmPool.fill}.
   *
   * @param targets how many processes each application keeps waiting (0: none)
   * @param deps what starts processes, and whether there is room
   * @param options how retries are spaced
   */
  constructor(targets: Map<string, number>, deps: WarmPoolDeps, options: WarmPoolOptions = {}) {
    this.#deps = deps;
    this.#firstRetryMs = options.firstRetryMs ?? 1000;
    this.#maxRetryMs = options.maxRetryMs ?? 60_000;
    this.#stableMs = options.stableMs ?? 60_000;
    for (const [application, target] of targets) {
      if (target <= 0) continue;
      this.#apps.set(application, {
        target,
        waiting: [],
        starting: 0,
        hits: 0,
        misses: 0,
        failures: 0,
      });
    }
  }

  /**
   * Whether an application keeps processes waiting.
   *
   * @param application the application
   * @returns true when its `warm` is above 0
   */
  has(application: string): boolean {
    return this.#apps.has(application);
  }

  /** Starts processes wherever a pool is short and there is room (after a session ended). */
  fill(): void {
    for (const application of this.#apps.keys()) this.#refill(application);
  }

  /** Fills the pools on the next turn of the event loop, after what is being answered now. */
  fillSoon(): void {
    if (this.#closed || this.#soon !== undefined) return;
    this.#soon = setTimeout(() => {
      this.#soon = undefined;
      this.fill();
    }, 0);
  }

  /**
   * Hands out the longest-waiting process of an application. Its replacement starts with
   * {@linkcode WarmPool.fill}, once the hand-out is answered: a spawn and its state-file write
   * would delay the answer.
   *
   * @param application the application
   * @returns the process's record, or undefined when none waits (counted as a miss)
   */
  take(application: string): SessionRecord | undefined {
    const pool = this.#apps.get(application);
    if (!pool) return undefined;
    const entry = pool.waiting.shift();
    if (entry) {
      pool.hits++;
      pool.failures = 0;
    } else {
      pool.misses++;
    }
    return entry?.rec;
  }

  /**
   * Counts a POST that could not use a waiting process (it sent its own secret).
   *
   * @param application the application
   * @returns undefined: nothing is handed out
   */
  miss(application: string): undefined {
    const pool = this.#apps.get(application);
    if (pool) pool.misses++;
    return undefined;
  }

  /**
   * Takes a waiting process a previous launcher left, as if this pool had started it.
   *
   * @param rec its record, in state `waiting`
   * @returns false when its application keeps no processes waiting (any more): stop it
   */
  adopt(rec: SessionRecord): boolean {
    const pool = this.#apps.get(rec.application);
    if (!pool || pool.waiting.length + pool.starting >= pool.target) return false;
    pool.waiting.push({ rec, since: this.#deps.now() });
    return true;
  }

  /**
   * Gives up a waiting process, to make room for a session that needs its place: the
   * longest-waiting one of the application with the most waiting.
   *
   * @returns its record (the caller stops it), or undefined when none waits
   */
  evict(): SessionRecord | undefined {
    let most: AppPool | undefined;
    for (const pool of this.#apps.values()) {
      if (pool.waiting.length > (most?.waiting.length ?? 0)) most = pool;
    }
    return most?.waiting.shift()?.rec;
  }

  /**
   * A waiting process ended by itself: it is replaced, at once when it had waited long, else
   * after a back-off.
   *
   * @param rec its record
   */
  lost(rec: SessionRecord): void {
    const pool = this.#apps.get(rec.application);
    const at = pool?.waiting.findIndex((w) => w.rec === rec) ?? -1;
    if (!pool || at < 0) return;
    const [{ since }] = pool.waiting.splice(at, 1);
    if (this.#deps.now() - since >= this.#stableMs) {
      pool.failures = 0;
      this.#refill(rec.application);
    } else {
      this.#failed(rec.application, pool, "its process ended while it waited");
    }
  }

  /** What each pool holds, for the metrics and the dashboard. */
  counts(): WarmCounts[] {
    return [...this.#apps].map(([application, p]) => ({
      application,
      target: p.target,
      waiting: p.waiting.length,
      starting: p.starting,
      hits: p.hits,
      misses: p.misses,
      failures: p.failures,
    }));
  }

  /** Stops starting processes (those started go on to their end) and cancels retries. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#soon);
    for (const pool of this.#apps.values()) clearTimeout(pool.retry);
  }

  #refill(application: string): void {
    const pool = this.#apps.get(application);
    if (!pool || this.#closed || pool.retry !== undefined) return;
    while (pool.waiting.length + pool.starting < pool.target && this.#deps.hasRoom()) {
      pool.starting++;
      this.#startOne(application, pool);
    }
  }

  async #startOne(application: string, pool: AppPool): Promise<void> {
    let rec: SessionRecord | undefined;
    try {
      rec = await this.#deps.start(application);
    } catch (err) {
      pool.starting--;
      this.#failed(application, pool, (err as Error).message);
      return;
    }
    pool.starting--;
    if (rec) pool.waiting.push({ rec, since: this.#deps.now() });
  }

  #failed(application: string, pool: AppPool, why: string): void {
    // Failures of processes started together count once: the back-off is already running.
    if (this.#closed || pool.retry !== undefined) return;
    pool.failures++;
    const delay = Math.min(this.#maxRetryMs, this.#firstRetryMs * 2 ** (pool.failures - 1));
    logger().warn(
      "warm process of {application} failed ({failures} in a row): {why}; next try in {seconds} s",
      { application, failures: pool.failures, why, seconds: delay / 1000 },
    );
    clearTimeout(pool.retry);
    pool.retry = setTimeout(() => {
      pool.retry = undefined;
      this.#refill(application);
    }, delay);
  }
}
