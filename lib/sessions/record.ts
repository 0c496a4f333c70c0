/**
 * What the session table keeps for each session, and the small helpers its modules share.
 *
 * @module
 */

import type { Slot } from "./port_pool.ts";
import type { ExitStatus, ProcessHandle } from "../os/mod.ts";
import { join } from "node:path";
import type { AppConfig } from "../config/mod.ts";
import { randomId } from "./ids.ts";
import { Traffic } from "./traffic.ts";

/**
 * A session's life: starting (waiting for its ready line), ready, or stopping; a warm
 * process is `waiting` between its ready line and the POST it is handed out to.
 */
export type SessionState = "starting" | "waiting" | "ready" | "stopping";

/** What the launcher knows of one session. */
export interface SessionInfo {
  /** Session id. */
  readonly id: string;
  /** Application name. */
  readonly application: string;
  /** Host of its process. */
  readonly host: string;
  /** Port of its process. */
  readonly port: number;
  /** Its process id (and process group id), once spawned. */
  readonly pid: number | undefined;
  /** Where its output goes. */
  readonly logFile: string;
  /** Wall-clock time it was requested, in ms since the epoch. */
  readonly startedAt: number;
  /** Milliseconds from request to ready line, once ready. */
  readonly readyMs: number | undefined;
  /** Where it is in its life. */
  readonly state: SessionState;
  /** The answer given to the client. */
  readonly answer: Readonly<Record<string, unknown>>;
  /** What the proxy saw of it. */
  readonly traffic: Traffic;
  /** Whether this launcher took it over from a previous one. */
  readonly adopted: boolean;
  /** Stop after this long without proxied connections or traffic, in ms. */
  readonly idleTimeoutMs: number | undefined;
  /** Stop this long after it started, in ms. */
  readonly maxLifetimeMs: number | undefined;
}

/** The table's own, mutable view of a session. */
export interface SessionRecord extends SessionInfo {
  /** Its process id, once spawned. */
  pid: number | undefined;
  /** Milliseconds to ready, once ready. */
  readyMs: number | undefined;
  /** Where it is in its life. */
  state: SessionState;
  /** The answer given to the client. */
  answer: Record<string, unknown>;
  /** What the proxy saw of it (new when a warm process is handed out). */
  traffic: Traffic;
  /** Wall-clock time it was requested (a warm process: handed out), in ms since the epoch. */
  startedAt: number;
  /** The port it holds; `pooled` is false for a port outside today's resources. */
  slot: Slot & { pooled: boolean };
  /** The monotonic clock when it was requested, in ms. */
  startedMono: number;
  /** What tells its process from a later one with the same pid. */
  identity: string | undefined;
  /** Its process, once spawned. */
  proc?: ProcessHandle;
  /** Settles with the process once spawning is over (undefined if it failed). */
  spawned?: Promise<ProcessHandle | undefined>;
  /** Settles once the session has ended and its port is free. */
  ending?: Promise<void>;
  /** Its state-file entry as JSON, kept once it is ready (it does not change after). */
  savedJson?: string;
  /** Whether its map line was asked for (it must be removed when it ends). */
  mapped?: boolean;
  /** How its process ended, if it did before the session was ready. */
  exitStatus?: ExitStatus;
  /** What its end could not do (remove its map line, signal its processes), if anything. */
  stopProblem?: string;
  /** True for a warm process, until it is handed out to a client. */
  warm?: boolean;
}

/**
 * Says how a process ended, for logs and error messages.
 *
 * @param status the exit status
 * @returns such as `exited with code 3` or `was killed by SIGKILL`
 */
export function describeExit(status: ExitStatus): string {
  if (status.signal) return `was killed by ${status.signal}`;
  return status.code === null ? "exited" : `exited with code ${status.code}`;
}

/** Where a session's process listens, and its counters. */
export interface ProxyTarget {
  /** Host of the process. */
  host: string;
  /** Port of the process. */
  port: number;
  /** The session's traffic counters. */
  traffic: Traffic;
  /** Where a WebSocket to the bare session URL goes, such as `/ws`. */
  wsPath: string;
}

/** Finds the target of a ready session. */
export type ProxyLookup = (id: string) => ProxyTarget | undefined;

/**
 * The record of a session being launched, with a new id, in state `starting`.
 *
 * @param app its application
 * @param slot the port it was given
 * @param secret the secret its process expects
 * @param env the log folder and the clocks
 * @returns the record, in no table yet
 */
export function newRecord(
  app: AppConfig,
  slot: Slot,
  secret: string,
  env: { logDir: string; now: () => number; monotonic: () => number },
): SessionRecord {
  const id = randomId();
  return {
    id,
    application: app.name,
    host: slot.host,
    port: slot.port,
    pid: undefined,
    identity: undefined,
    logFile: join(env.logDir, `${id}.log`),
    startedAt: env.now(),
    startedMono: env.monotonic(),
    readyMs: undefined,
    state: "starting",
    answer: { secret },
    traffic: new Traffic(env.now),
    adopted: false,
    idleTimeoutMs: app.idleTimeoutMs,
    maxLifetimeMs: app.maxLifetimeMs,
    slot: { ...slot, pooled: true },
  };
}
