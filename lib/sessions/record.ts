/**
 * What the session table keeps for each session, and the small helpers its modules share.
 *
 * @module
 */

import type { Slot } from "./port_pool.ts";
import type { JobRef } from "../cluster/mod.ts";
import type { ExitStatus, ProcessHandle } from "../os/mod.ts";
import { join } from "node:path";
import type { AppConfig } from "../config/mod.ts";
import { randomId } from "./ids.ts";
import { Progress } from "./progress.ts";
import { Traffic } from "./traffic.ts";

/**
 * A session's life: starting (waiting for its ready line), ready, or stopping; a warm
 * process is `waiting` between its ready line and the POST it is handed out to.
 */
export type SessionState = "starting" | "waiting" | "ready" | "stopping";

/** A session's life as clients see it: a starting batch job is first `queued`. */
export type SessionStage = "queued" | SessionState;

/** What the batch system says of the job a session runs as. */
export interface JobInfo {
  /** The job id. */
  readonly id: string;
  /** The job name (`pvw-<session id>`). */
  readonly name: string;
  /** Waiting in the queue, running on a node, or ended. */
  readonly phase: "queued" | "running" | "ended";
  /** Why it waits (queued), or how it ended (ended), in words. */
  readonly reason?: string;
  /** Its place in its partition's queue (1: next), when known. */
  readonly position?: number;
  /** Its partition, when known. */
  readonly partition?: string;
  /** The node it runs (or ran) on. */
  readonly node?: string;
}

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
  /** The batch job it runs as, for a session of an application with `slurm`. */
  readonly job?: JobInfo;
  /** Whether it has been ready: its client may have had its answer. */
  readonly wasReady?: boolean;
}

/**
 * Where a session is in its life, as a client sees it.
 *
 * @param session the session
 * @returns `queued` for a batch job still waiting, else its state
 */
export function stageOf(session: SessionInfo): SessionStage {
  return session.state === "starting" && session.job?.phase === "queued" ? "queued" : session.state;
}

/** The table's own, mutable view of a session. */
export interface SessionRecord extends SessionInfo {
  /** Host of its process: a batch job's, once the node it runs on is known. */
  host: string;
  /** Whether it runs as a batch job (its port is from the cluster's range). */
  batch?: boolean;
  /** Its batch job, once submitted. */
  job?: JobInfo;
  /** Whether it has been ready. */
  wasReady?: boolean;
  /** Settles with its job once submitting is over (undefined if it failed). */
  submitted?: Promise<JobRef | undefined>;
  /** Stops following its job (the batch system's poller). */
  unwatch?: () => void;
  /** Its progress while it starts (and its answer once ready), for clients that follow it. */
  progress: Progress;
  /** What its client POSTed, kept while a batch session starts (for the state file). */
  body?: Record<string, unknown>;
  /** Whether its id was given out before it was ready (`Prefer: respond-async`). */
  announced?: boolean;
  /** Aborted when its end begins: what waits for it to start stops waiting. */
  halt: AbortController;
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
    progress: new Progress(),
    halt: new AbortController(),
  };
}

/** A saved session's facts, as an adopted record takes them over. */
export interface AdoptedFacts {
  /** Its id, application, port, log and start, as saved. */
  saved: { id: string; application: string; port: number; logFile: string; startedAt: number };
  /** Its host (a Slurm session's node, once known). */
  host: string;
  /** Its state now. */
  state: SessionState;
  /** Its answer (just its secret while it is not ready). */
  answer: Record<string, unknown>;
  /** Milliseconds to ready, if it was. */
  readyMs: number | undefined;
  /** Its application's limits, or the config's for an application no longer configured. */
  limits: { idleTimeoutMs?: number; maxLifetimeMs?: number };
  /** Its port, and whether the pool holds it for this session. */
  slot: Slot & { pooled: boolean };
}

/**
 * The record of a session a previous launcher left, adopted: its progress says `ready` if it
 * is, its clocks and traffic start now.
 *
 * @param facts what the saved entry and today's config say of it
 * @param env the clocks
 * @returns the record, in no table yet, with no process or job
 */
export function adoptedRecord(
  facts: AdoptedFacts,
  env: { now: () => number; monotonic: () => number },
): SessionRecord {
  const { saved, state, answer } = facts;
  const progress = new Progress();
  if (state === "ready") progress.emit({ type: "ready", data: answer });
  return {
    id: saved.id,
    application: saved.application,
    host: facts.host,
    port: saved.port,
    pid: undefined,
    identity: undefined,
    logFile: saved.logFile,
    startedAt: saved.startedAt,
    startedMono: env.monotonic(),
    readyMs: facts.readyMs,
    state,
    ...(state === "ready" ? { wasReady: true } : {}),
    answer,
    traffic: new Traffic(env.now),
    adopted: true,
    idleTimeoutMs: facts.limits.idleTimeoutMs,
    maxLifetimeMs: facts.limits.maxLifetimeMs,
    slot: facts.slot,
    progress,
    halt: new AbortController(),
  };
}
