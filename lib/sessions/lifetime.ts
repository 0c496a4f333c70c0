/**
 * When sessions are due to stop: idle (no proxied connection and no traffic for
 * `idle_timeout`) or old (running longer than `max_lifetime`).
 *
 * @module
 */

/** The part of a session that decides when it stops. */
export interface LifetimeView {
  /** Session id. */
  id: string;
  /** When it was requested, ms since the epoch. */
  startedAt: number;
  /** Idle limit in ms, if any. */
  idleTimeoutMs: number | undefined;
  /** Lifetime limit in ms, if any. */
  maxLifetimeMs: number | undefined;
  /** Proxied connections open now. */
  connections: number;
  /** Last connection change or frame, ms since the epoch. */
  lastActivityAt: number;
}

/** When a session will be stopped, if nothing changes. */
export interface Deadlines {
  /** When it will be stopped for being idle, ms since the epoch; null while connected or with no limit. */
  idleStopAt: number | null;
  /** When it will be stopped for its age, ms since the epoch; null with no limit. */
  lifetimeEndsAt: number | null;
}

/**
 * Works out a session's deadlines.
 *
 * @param s the session
 * @returns when it will be stopped for idleness and for age
 */
export function deadlines(s: LifetimeView): Deadlines {
  return {
    idleStopAt: s.idleTimeoutMs === undefined || s.connections > 0
      ? null
      : s.lastActivityAt + s.idleTimeoutMs,
    lifetimeEndsAt: s.maxLifetimeMs === undefined ? null : s.startedAt + s.maxLifetimeMs,
  };
}

/**
 * Lists the sessions due to stop now, with the reason.
 *
 * @param sessions the ready sessions
 * @param now the wall clock, ms since the epoch
 * @returns each due session's id and why (a session over both limits is stopped for age)
 */
export function dueStops(
  sessions: Iterable<LifetimeView>,
  now: number,
): { id: string; reason: "idle" | "lifetime" }[] {
  const due: { id: string; reason: "idle" | "lifetime" }[] = [];
  for (const s of sessions) {
    const d = deadlines(s);
    if (d.lifetimeEndsAt !== null && now >= d.lifetimeEndsAt) {
      due.push({ id: s.id, reason: "lifetime" });
    } else if (d.idleStopAt !== null && now >= d.idleStopAt) due.push({ id: s.id, reason: "idle" });
  }
  return due;
}

/** What a {@linkcode Reaper} works on. */
export interface ReaperOptions {
  /** The ready sessions, with their counters. */
  sessions: () => Iterable<
    Omit<LifetimeView, "connections" | "lastActivityAt"> & {
      traffic: { connections: number; lastActivityAt: number };
    }
  >;
  /** Stops a session that is due. */
  stop: (id: string, reason: "idle" | "lifetime") => void;
  /** The wall clock, ms since the epoch. */
  now: () => number;
  /** How often to look, in ms. */
  intervalMs: number;
}

/**
 * Stops sessions when their idle or lifetime limit is reached. Its timer runs only while
 * some session has a limit.
 */
export class Reaper {
  #options: ReaperOptions;
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * Makes an idle reaper.
   *
   * @param options the sessions, how to stop one, the clock and the interval
   */
  constructor(options: ReaperOptions) {
    this.#options = options;
  }

  /**
   * Starts looking, if the session has a limit.
   *
   * @param session a session that became ready
   */
  watch(session: { idleTimeoutMs?: number; maxLifetimeMs?: number }): void {
    if (session.idleTimeoutMs === undefined && session.maxLifetimeMs === undefined) return;
    this.#timer ??= setInterval(() => this.#tick(), this.#options.intervalMs);
  }

  #tick(): void {
    const sessions = [...this.#options.sessions()];
    const views = sessions.map((s) => ({
      ...s,
      connections: s.traffic.connections,
      lastActivityAt: s.traffic.lastActivityAt,
    }));
    for (const { id, reason } of dueStops(views, this.#options.now())) {
      this.#options.stop(id, reason);
    }
    if (!sessions.some((s) => s.idleTimeoutMs !== undefined || s.maxLifetimeMs !== undefined)) {
      this.close();
    }
  }

  /** Stops looking. */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
