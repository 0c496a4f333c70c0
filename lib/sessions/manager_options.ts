/**
 * What a `SessionManager` is built from, and the shapes its callers pass it: who
 * hears of ended sessions, and how a launch is asked for.
 *
 * @module
 */

import type { LauncherConfig } from "../config/mod.ts";
import type { LogFollower, SessionMap, Spawner } from "../os/mod.ts";
import type { ClusterParts } from "./batch_sessions.ts";
import type { SlotPool } from "./placement.ts";
import type { SessionInfo } from "./record.ts";
import type { StopReason } from "./stop_reasons.ts";
import type { SessionTable } from "./table.ts";
import type { WarmPoolOptions } from "./warm_pool.ts";

/** What the session manager is built from. */
export interface SessionManagerOptions {
  /** The loaded config. */
  config: LauncherConfig;
  /** Hands out host/port slots. */
  pool: SlotPool;
  /** The batch system of the applications that run as jobs, when the config has a cluster. */
  cluster?: ClusterParts;
  /** Starts and signals processes. */
  spawner: Spawner;
  /** Follows session logs for the ready line. */
  follower: LogFollower;
  /** Where the sessions are kept. @default an empty table */
  table?: SessionTable;
  /** The Apache map file, if the config names one. */
  map?: SessionMap;
  /** The environment every session starts from (the launcher's own). */
  baseEnv?: Record<string, string>;
  /** How long to wait for a process group to go after SIGKILL, in ms. @default 5000 */
  killWaitMs?: number;
  /**
   * Called after every change of the sessions, to save them (the state file): `durable`
   * when the write must reach the disk (a session becoming ready, before its answer), not
   * when a crash of the machine, which ends every session, makes the change moot (a spawn,
   * an end).
   */
  persist?: (durable: boolean) => Promise<void>;
  /** The wall clock, ms since the epoch. @default Date.now */
  now?: () => number;
  /** A monotonic clock in ms, for the time to ready. @default performance.now */
  monotonic?: () => number;
  /** How often idle and lifetime limits are checked, in ms. @default 1000 */
  reapIntervalMs?: number;
  /** How the warm pools space their retries. @default WarmPool's */
  warm?: WarmPoolOptions;
}

/** Told of a session that ended, once its port is free. */
export type EndedListener = (session: SessionInfo, reason: StopReason) => void;

/** How a launch is asked for, besides the client's body. */
export interface LaunchOptions {
  /**
   * Called once the session has its id, before it is ready: the client is told the id now
   * (`Prefer: respond-async`), so GET, DELETE and the progress stream find the session
   * from then on.
   */
  onAccepted?: (session: SessionInfo) => void;
}
