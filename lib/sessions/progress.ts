/**
 * A session's progress while it starts, for clients that asked not to wait for it
 * (`Prefer: respond-async`): it is `queued` (a batch job waiting, with the scheduler's reason
 * and the job's place in the queue), then `starting` (its process runs, on a node for a job),
 * then `ready` with the client's full answer, or `failed` with the error the client would
 * have been answered. Each session has one {@linkcode Progress}; clients that follow it get
 * what happened so far, then every change.
 *
 * What happened so far is kept short: only the latest event of each kind (a job's queue
 * reason and position change while it waits; a follower needs only the latest). Progress
 * ends with `ready` or `failed`; the failed progress of a session a client was told of is
 * kept a while by a {@linkcode ProgressBoard}, so that a client that asks after the failure
 * still learns why.
 *
 * @module
 */

/** The job waits in the batch system's queue. */
export interface QueuedEvent {
  /** Discriminant. */
  type: "queued";
  /** What the client is told. */
  data: {
    /** The session id. */
    id: string;
    /** The batch job id. */
    job: string;
    /** Why it waits, in words (`waiting for resources`). */
    reason: string;
    /** 1 when it is the next job of its partition to start, when known. */
    position?: number;
    /** Its partition, when known. */
    partition?: string;
  };
}

/** The session's process runs and the launcher waits for its ready line. */
export interface StartingEvent {
  /** Discriminant. */
  type: "starting";
  /** What the client is told. */
  data: {
    /** The session id. */
    id: string;
    /** The cluster node it runs on, for a batch job. */
    node?: string;
    /** The host the proxy reaches it at. */
    host: string;
    /** Its port. */
    port: number;
  };
}

/** The session is ready: its data is the answer a POST would have got. */
export interface ReadyEvent {
  /** Discriminant. */
  type: "ready";
  /** The session's answer (`id`, `sessionURL`, `secret`, ...). */
  data: Record<string, unknown>;
}

/** The launch failed: its data is the error a POST would have got. */
export interface FailedEvent {
  /** Discriminant. */
  type: "failed";
  /** What the client is told. */
  data: {
    /** The session id. */
    id: string;
    /** What went wrong, as the POST's `{"error": ...}` would say. */
    error: string;
    /** The HTTP status the POST would have had. */
    status: number;
  };
}

/** One step of a session's start. */
export type ProgressEvent = QueuedEvent | StartingEvent | ReadyEvent | FailedEvent;

/** Hears each new event. */
export type ProgressListener = (event: ProgressEvent) => void;

const ORDER: ProgressEvent["type"][] = ["queued", "starting", "ready", "failed"];

/** One session's progress: what happened so far, and who follows it. */
export class Progress {
  readonly #latest = new Map<ProgressEvent["type"], { event: ProgressEvent; json: string }>();
  readonly #listeners = new Set<ProgressListener>();

  /** Whether it ended, ready or failed: nothing more will happen. */
  get done(): boolean {
    return this.#latest.has("ready") || this.#latest.has("failed");
  }

  /**
   * Records an event and tells the followers, unless it says nothing new or progress ended.
   *
   * @param event what happened
   */
  emit(event: ProgressEvent): void {
    if (this.done) return;
    const json = JSON.stringify(event.data);
    if (this.#latest.get(event.type)?.json === json) return;
    this.#latest.set(event.type, { event, json });
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        // A follower's failure is its own.
      }
    }
    if (this.done) this.#listeners.clear();
  }

  /**
   * What happened so far: the latest event of each kind, in the order they come.
   *
   * @returns the events
   */
  events(): ProgressEvent[] {
    return ORDER.flatMap((type) => {
      const entry = this.#latest.get(type);
      return entry ? [entry.event] : [];
    });
  }

  /**
   * Follows the progress from now on (see {@linkcode events} for what happened so far).
   *
   * @param listener hears each new event
   * @returns stops following
   */
  follow(listener: ProgressListener): () => void {
    if (this.done) return () => {};
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** How long a {@linkcode ProgressBoard} keeps ended progress. */
export interface ProgressBoardOptions {
  /** Milliseconds an entry is kept. @default 300000 */
  keepMs?: number;
  /** Most entries kept; the oldest go first. @default 1000 */
  max?: number;
  /** A monotonic clock, in ms. @default performance.now */
  now?: () => number;
}

/** The progress of sessions that failed to start, kept a while by session id. */
export class ProgressBoard {
  readonly #entries = new Map<string, { progress: Progress; at: number }>();
  readonly #keepMs: number;
  readonly #max: number;
  readonly #now: () => number;

  /**
   * Makes an empty board.
   *
   * @param options how long and how many entries are kept
   */
  constructor(options: ProgressBoardOptions = {}) {
    this.#keepMs = options.keepMs ?? 300_000;
    this.#max = options.max ?? 1000;
    this.#now = options.now ?? (() => performance.now());
  }

  /**
   * Keeps a session's ended progress.
   *
   * @param id the session id
   * @param progress its progress
   */
  keep(id: string, progress: Progress): void {
    this.#prune();
    this.#entries.delete(id);
    this.#entries.set(id, { progress, at: this.#now() });
    while (this.#entries.size > this.#max) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }

  /**
   * A kept progress.
   *
   * @param id the session id
   * @returns its progress, or undefined when none is kept (any more)
   */
  find(id: string): Progress | undefined {
    this.#prune();
    return this.#entries.get(id)?.progress;
  }

  /** Forgets the entries older than the keep time (they are in insertion order). */
  #prune(): void {
    const oldest = this.#now() - this.#keepMs;
    for (const [id, entry] of this.#entries) {
      if (entry.at >= oldest) break;
      this.#entries.delete(id);
    }
  }
}
