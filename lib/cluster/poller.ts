/**
 * Watching many jobs with one scheduler call per interval: each watcher hears of its job's
 * changes (a new queue reason or position, running on a node, ended and how, gone). On a big
 * cluster every `squeue` is a call to the one controller, so the poller asks about all its
 * jobs at once. While the scheduler cannot be reached it asks less and less often (the
 * interval doubles up to a ceiling) and tells no watcher anything: unknown is not a change.
 *
 * @module
 */

import type { BatchSystem, JobRef, JobStatus } from "./batch_system.ts";
import { type Clock, realClock } from "./clock.ts";

/** Hears of a job's new status. */
export type JobListener = (status: JobStatus) => void;

/** Settings of {@linkcode JobPoller}. */
export interface PollerOptions {
  /** Milliseconds between two polls. @default 1000 */
  intervalMs?: number;
  /** The longest wait between polls while the scheduler cannot be reached. @default 30000 */
  maxIntervalMs?: number;
  /** Time, for tests. @default realClock */
  clock?: Clock;
  /**
   * Hears of each failed poll (a `BatchSystemUnavailableError` when the scheduler
   * cannot be reached) and how long until the next.
   */
  onError?: (error: Error, retryInMs: number) => void;
}

interface Watched {
  job: JobRef;
  listeners: Set<JobListener>;
  last?: JobStatus;
  lastKey?: string;
}

/** What makes a status different for a watcher. */
function changeKey(s: JobStatus): string {
  const where = s.phase === "running" ? s.nodes.join(",") : s.phase === "ended" ? s.node : "";
  const extra = s.phase === "queued" ? s.position : s.phase === "ended" ? s.settled : "";
  return JSON.stringify([s.phase, s.batchState, s.batchReason, where, extra]);
}

/** Calls a listener; its failure is its own, and the poller goes on. */
function tell(listener: JobListener, status: JobStatus): void {
  try {
    listener(status);
  } catch {
    // The other listeners and jobs are still watched.
  }
}

/** Polls a batch system for the jobs being watched. */
export class JobPoller {
  readonly #system: BatchSystem;
  readonly #interval: number;
  readonly #maxInterval: number;
  readonly #clock: Clock;
  readonly #onError?: PollerOptions["onError"];
  readonly #watched = new Map<string, Watched>();
  readonly #stop = new AbortController();
  #wake?: () => void;
  #loop?: Promise<void>;
  #round: Promise<void> = Promise.resolve();
  /** A poll asked for and not started yet, which later requests share. */
  #next?: Promise<void>;
  #delay: number;

  /**
   * Makes the poller; it polls only while some job is watched.
   *
   * @param system the scheduler
   * @param options interval, back-off ceiling, clock, error hook
   */
  constructor(system: BatchSystem, options: PollerOptions = {}) {
    this.#system = system;
    this.#interval = options.intervalMs ?? 1000;
    this.#maxInterval = Math.max(this.#interval, options.maxIntervalMs ?? 30_000);
    this.#clock = options.clock ?? realClock;
    this.#onError = options.onError;
    this.#delay = this.#interval;
  }

  /** The jobs being watched. */
  get jobs(): JobRef[] {
    return [...this.#watched.values()].map((w) => w.job);
  }

  /**
   * Watches a job until it is gone (ended, nothing of it left) or `unwatch` is called. A
   * job already watched gets one more listener, which first hears the last status known.
   *
   * @param job the job
   * @param listener hears every change
   * @returns unwatch: stops this listener
   */
  watch(job: JobRef, listener: JobListener): () => void {
    if (this.#stop.signal.aborted) throw new Error("the job poller is closed");
    let entry = this.#watched.get(job.id);
    if (!entry) {
      entry = { job, listeners: new Set() };
      this.#watched.set(job.id, entry);
    }
    entry.listeners.add(listener);
    const known = entry.last;
    if (known) queueMicrotask(() => entry.listeners.has(listener) && tell(listener, known));
    this.#loop ??= this.#run();
    this.#wake?.();
    return () => {
      entry.listeners.delete(listener);
      if (entry.listeners.size === 0 && this.#watched.get(job.id) === entry) {
        this.#watched.delete(job.id);
      }
    };
  }

  /**
   * Polls now, after any poll under way, and tells the watchers what changed.
   *
   * @returns once done; a failure (an unreachable scheduler) goes to `onError`, never thrown
   */
  poll(): Promise<void> {
    this.#round = this.#round.then(() => this.#pollOnce());
    return this.#round;
  }

  /**
   * Polls soon, after any poll under way: every call made before that poll starts shares it,
   * so that many jobs wanting news at once (their apps printed their ready lines together)
   * cost one scheduler call.
   *
   * @returns once that poll is done; a failure goes to `onError`, never thrown
   */
  pollSoon(): Promise<void> {
    if (!this.#next) {
      this.#next = this.#round.then(() => {
        this.#next = undefined;
        return this.#pollOnce();
      });
      this.#round = this.#next;
    }
    return this.#next;
  }

  async #pollOnce(): Promise<void> {
    const entries = [...this.#watched.values()];
    if (entries.length === 0) return;
    let statuses: Map<string, JobStatus>;
    try {
      statuses = await this.#system.query(entries.map((e) => e.job));
    } catch (err) {
      this.#delay = Math.min(this.#delay * 2, this.#maxInterval);
      this.#onError?.(err as Error, this.#delay);
      return;
    }
    this.#delay = this.#interval;
    for (const entry of entries) {
      const status = statuses.get(entry.job.id);
      if (status) this.#update(entry, status);
    }
  }

  /** Records a status and tells the listeners if it changed; forgets a job that is gone. */
  #update(entry: Watched, status: JobStatus): void {
    const key = changeKey(status);
    if (key === entry.lastKey) return;
    entry.last = status;
    entry.lastKey = key;
    if (status.phase === "ended" && status.settled && this.#watched.get(entry.job.id) === entry) {
      this.#watched.delete(entry.job.id);
    }
    for (const listener of [...entry.listeners]) tell(listener, status);
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      if (this.#watched.size === 0) {
        await new Promise<void>((resolve) => this.#wake = resolve);
        this.#wake = undefined;
        continue;
      }
      await this.#clock.sleep(this.#delay, signal);
      if (!signal.aborted) await this.poll();
    }
  }

  /** Stops polling and waits for a poll under way to end. */
  async close(): Promise<void> {
    this.#stop.abort();
    this.#wake?.();
    await this.#loop;
    await this.#round;
  }
}
