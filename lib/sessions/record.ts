/**
 * What the session table keeps for each session, and the small helpers its modules share.
 *
 * @module
 */

import type { Slot } from "./port_pool.ts";
import type { ExitStatus, ProcessHandle } from "../os/mod.ts";
import type { Traffic } from "./traffic.ts";

/** A session's life: starting (waiting for its ready line), ready, or stopping. */
export type SessionState = "starting" | "ready" | "stopping";

/** Why a session ended. */
export type StopReason =
  | "deleted"
  | "exited"
  | "launch_failed"
  | "idle"
  | "lifetime"
  | "shutdown"
  | "dashboard"
  | "interrupted";

/** How each stop reason reads in the log. */
export const REASONS: Record<StopReason, string> = {
  deleted: "stopped by request",
  exited: "its process ended",
  launch_failed: "its launch failed",
  idle: "idle for longer than its idle_timeout",
  lifetime: "reached its max_lifetime",
  shutdown: "the launcher shut down",
  dashboard: "stopped from the dashboard",
  interrupted: "its launch was cut short by the launcher's end",
};

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
  /** The port it holds; `pooled` is false for a port outside today's resources. */
  slot: Slot & { pooled: boolean };
  /** `performance.now()` when it was requested. */
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
