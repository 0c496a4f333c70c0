/**
 * What the dashboard shows, as plain JSON: every session in the table with its proxy counters
 * and deadlines, the capacity, and the recent failed launches. It holds no secret, no command
 * line and no client answer; times are in ms since the epoch.
 *
 * @module
 */

import type { LaunchFailureEntry } from "./recent_failures.ts";
import {
  type JobInfo,
  type SessionInfo,
  type SessionManager,
  type SessionStage,
  stageOf,
  type WarmCounts,
} from "../sessions/mod.ts";

/** One session as the dashboard shows it. */
export interface DashboardSession {
  /** Session id. */
  id: string;
  /** Application name. */
  application: string;
  /** Host of its process. */
  host: string;
  /** Port of its process. */
  port: number;
  /** Its process id, once spawned. */
  pid: number | null;
  /** Where it is in its life. */
  state: SessionInfo["state"];
  /** Where it is as a client sees it: `queued` for a batch job waiting, else its state. */
  stage: SessionStage;
  /** Its batch job (id, phase, queue reason and position, partition, node), if it runs as one. */
  job: JobInfo | null;
  /** When it was requested. */
  startedAt: number;
  /** Milliseconds from request to ready line, once ready. */
  readyMs: number | null;
  /** Milliseconds without a proxied connection or traffic; 0 while a client is connected. */
  idleMs: number;
  /** When a connection last opened or closed or a frame passed. */
  lastActivityAt: number;
  /** Connections open through the proxy now. */
  connections: number;
  /** Bytes from clients to the session. */
  bytesToSession: number;
  /** Bytes from the session to clients. */
  bytesFromSession: number;
  /** Whether this launcher took it over from a previous one. */
  adopted: boolean;
  /** When it will be stopped for idleness or age, if nothing changes. */
  stops: { idleAt: number | null; lifetimeAt: number | null };
}

/** How full the launcher is. */
export interface DashboardCapacity {
  /** Places taken: sessions (starting, ready or stopping) and warm processes. */
  used: number;
  /** The most sessions at once: `max_session`, or the number of ports if that is lower. */
  max: number;
  /** Ports no session holds. */
  freePorts: number;
  /** Ports in the configured resources. */
  totalPorts: number;
}

/** Everything the dashboard shows. */
export interface DashboardState {
  /** The server's clock when the state was taken, so the page can tick ages on its own. */
  now: number;
  /** Every session, oldest first. */
  sessions: DashboardSession[];
  /** How full the launcher is. */
  capacity: DashboardCapacity;
  /** Recent failed launches, newest first. */
  failures: LaunchFailureEntry[];
  /** The warm pools: processes waiting to be handed out, apart from the sessions. */
  warm: WarmCounts[];
}

/** Where the state is read from; the real session table, port pool and ring fit. */
export interface DashboardSources {
  /** The session table. */
  sessions: Pick<SessionManager, "list" | "deadlines" | "warmCounts">;
  /** The port pool. */
  ports: { readonly available: number; readonly size: number };
  /** The recent failed launches. */
  failures: { list(): LaunchFailureEntry[] };
  /** `max_session`. */
  maxSessions: number;
  /** The wall clock, in ms since the epoch. @default Date.now */
  now?: () => number;
}

/**
 * Makes a function that takes the dashboard's state from the live sources.
 *
 * @param sources the session table, port pool and failures
 * @returns a function answering the state now
 */
export function stateReader(sources: DashboardSources): () => DashboardState {
  const clock = sources.now ?? Date.now;
  return () => {
    const now = clock();
    const list = sources.sessions.list();
    const warm = sources.sessions.warmCounts();
    const warmPlaces = warm.reduce((n, w) => n + w.waiting + w.starting, 0);
    return {
      now,
      sessions: list.map((s) => describeSession(s, sources.sessions.deadlines(s), now)),
      capacity: {
        used: list.length + warmPlaces,
        max: Math.min(sources.maxSessions, sources.ports.size),
        freePorts: sources.ports.available,
        totalPorts: sources.ports.size,
      },
      failures: sources.failures.list(),
      warm,
    };
  };
}

function describeSession(
  s: SessionInfo,
  d: ReturnType<SessionManager["deadlines"]>,
  now: number,
): DashboardSession {
  const t = s.traffic.snapshot();
  return {
    id: s.id,
    application: s.application,
    host: s.host,
    port: s.port,
    pid: s.pid ?? null,
    state: s.state,
    stage: stageOf(s),
    job: s.job ? { ...s.job } : null,
    startedAt: s.startedAt,
    readyMs: s.readyMs ?? null,
    idleMs: t.connections > 0 ? 0 : Math.max(0, now - t.lastActivityAt),
    lastActivityAt: t.lastActivityAt,
    connections: t.connections,
    bytesToSession: t.bytesToSession,
    bytesFromSession: t.bytesFromSession,
    adopted: s.adopted,
    stops: { idleAt: d.idleStopAt, lifetimeAt: d.lifetimeEndsAt },
  };
}

/**
 * The state as JSON, and a fingerprint of it that ignores the passing of time alone (`now`
 * and `idleMs`), so that an unchanged table is not pushed again every second.
 *
 * @param state the state
 * @returns its JSON text and fingerprint
 */
export function serializeState(state: DashboardState): { json: string; fingerprint: string } {
  const json = JSON.stringify(state);
  const fingerprint = JSON.stringify({
    ...state,
    now: 0,
    sessions: state.sessions.map((s) => ({ ...s, idleMs: 0 })),
  });
  return { json, fingerprint };
}
