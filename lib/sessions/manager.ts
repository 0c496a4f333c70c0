/**
 * The session manager: starts a process per session, waits for its ready line, keeps the
 * port pool, the capacity limit and the map file true, takes over the sessions a previous
 * launcher left, and stops whole process groups. The sessions themselves are kept in a
 * {@linkcode SessionTable}; how one ends is {@linkcode endSession}.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { LauncherConfig } from "../config/mod.ts";
import type { ExitStatus, LogFollower, SessionMap, Spawner } from "../os/mod.ts";
import { adoptRecords } from "./adoption.ts";
import { describeSession, type SessionDescription } from "./answer.ts";
import { type EndingDeps, endSession } from "./ending.ts";
import {
  NoCapacityError,
  ShuttingDownError,
  StopIncompleteError,
  UnknownSessionError,
} from "./errors.ts";
import { randomToken } from "./ids.ts";
import { publish, spawnUntilReady } from "./launch.ts";
import { type CheckedRequest, LaunchTemplates } from "./launch_templates.ts";
import { type Deadlines, deadlines, Reaper } from "./lifetime.ts";
import type { PortPool, Slot } from "./port_pool.ts";
import {
  describeExit,
  newRecord,
  type ProxyTarget,
  type SessionInfo,
  type SessionRecord,
} from "./record.ts";
import type { SavedSession } from "./state_file.ts";
import type { StopReason } from "./stop_reasons.ts";
import { SessionTable } from "./table.ts";

/** What the session manager is built from. */
export interface SessionManagerOptions {
  /** The loaded config. */
  config: LauncherConfig;
  /** Hands out host/port slots. */
  pool: PortPool;
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
}

/** Told of a session that ended, once its port is free. */
export type EndedListener = (session: SessionInfo, reason: StopReason) => void;

const logger = () => getLogger(["pvw-launcher", "sessions"]);

/**
 * The live sessions, and everything that starts and stops them.
 *
 * @example
 * ```ts ignore
 * const sessions = new SessionManager({ config, pool, spawner, follower, map });
 * const s = await sessions.launch({ application: "demo" });
 * await sessions.stop(s.id);
 * ```
 */
export class SessionManager {
  readonly #config: LauncherConfig;
  readonly #pool: PortPool;
  readonly #spawner: Spawner;
  readonly #follower: LogFollower;
  readonly #table: SessionTable;
  readonly #map: SessionMap | undefined;
  readonly #baseEnv: Record<string, string>;
  readonly #persist: (durable: boolean) => Promise<void>;
  readonly #now: () => number;
  readonly #monotonic: () => number;
  readonly #reaper: Reaper;
  readonly #templates: LaunchTemplates;
  readonly #ending: EndingDeps;
  readonly #endedListeners = new Set<EndedListener>();
  #closing = false;

  /**
   * Makes the manager of a table (empty, or given).
   *
   * @param options what it is built from
   */
  constructor(options: SessionManagerOptions) {
    this.#config = options.config;
    this.#pool = options.pool;
    this.#spawner = options.spawner;
    this.#follower = options.follower;
    this.#table = options.table ?? new SessionTable();
    this.#map = options.map;
    this.#baseEnv = options.baseEnv ?? {};
    this.#persist = options.persist ?? (() => Promise.resolve());
    this.#now = options.now ?? Date.now;
    this.#monotonic = options.monotonic ?? (() => performance.now());
    this.#templates = new LaunchTemplates(options.config);
    this.#reaper = new Reaper({
      sessions: () => this.#table.records().filter((r) => r.state === "ready"),
      stop: (id, reason) => {
        const rec = this.#table.find(id);
        if (rec) this.#end(rec, reason);
      },
      now: this.#now,
      intervalMs: options.reapIntervalMs ?? 1000,
    });
    this.#ending = {
      table: this.#table,
      pool: this.#pool,
      spawner: this.#spawner,
      map: this.#map,
      times: { graceMs: this.#config.stopGraceMs, killWaitMs: options.killWaitMs ?? 5000 },
      save: () => this.#save(),
      ended: (session, reason) => {
        for (const listener of this.#endedListeners) listener(session, reason);
      },
    };
  }

  /** Number of sessions holding a port (starting, ready or stopping). */
  get size(): number {
    return this.#table.size;
  }

  /** Whether new sessions are refused because the launcher is shutting down. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Every session, in the order they were requested. */
  list(): SessionInfo[] {
    return this.#table.records();
  }

  /**
   * Tells a listener of every session that ends from now on, once its port is free.
   *
   * @param listener told the session and why it ended
   */
  onEnded(listener: EndedListener): void {
    this.#endedListeners.add(listener);
  }

  /**
   * Starts a session and waits until its process printed a ready line.
   *
   * @param body the client's POSTed object
   * @returns the ready session
   * @throws {UnknownApplicationError} for a missing or unknown `application`
   * @throws {MissingVariableError} when a template variable has no value
   * @throws {NoCapacityError} when `max_session` is reached or no port is free
   * @throws {LaunchError} when the process cannot start, exits or times out
   * @throws {ShuttingDownError} once the launcher is shutting down
   */
  async launch(body: Record<string, unknown>): Promise<SessionInfo> {
    if (this.#closing) throw new ShuttingDownError();
    const request = this.#templates.check(body);
    if (this.#table.size >= this.#config.maxSessions) {
      throw new NoCapacityError(`all ${this.#config.maxSessions} sessions (max_session) are taken`);
    }
    const slot = this.#pool.acquire();
    // A client's own secret (a string or a number, as any client value) passes the sanitize
    // rules like any other value (as in wslink): what the log says replaced it is used.
    const secret = request.client.secret || randomToken(24);
    const rec = this.#register(request, slot, secret);
    try {
      const { argv, answer } = this.#templates.render(request, { ...slot, id: rec.id, secret });
      rec.answer = answer;
      await spawnUntilReady(rec, request.templates.app, argv, {
        spawner: this.#spawner,
        follower: this.#follower,
        baseEnv: this.#baseEnv,
        closing: () => this.#closing,
        onExit: (status) => this.#onExit(rec, status),
        // Recorded at once, not only when ready: a launcher that dies now must not leave the
        // process unknown to the next one. The launch does not wait for this write.
        onSpawned: () => void this.#save(),
      });
      rec.readyMs = Math.round((this.#monotonic() - rec.startedMono) * 10) / 10;
      await publish(rec, { map: this.#map, persist: this.#persist });
      this.#ready(rec);
      return rec;
    } catch (err) {
      await this.#end(rec, "launch_failed");
      throw err;
    }
  }

  #register(request: CheckedRequest, slot: Slot, secret: string): SessionRecord {
    const rec = newRecord(request.templates.app, slot, secret, {
      logDir: this.#config.logDir,
      now: this.#now,
      monotonic: this.#monotonic,
    });
    this.#table.add(rec);
    return rec;
  }

  /** A published session is ready: GET, DELETE and the proxy find it from now on. */
  #ready(rec: SessionRecord): void {
    rec.state = "ready";
    this.#reaper.watch(rec);
    const { id, application, host, port, pid, readyMs } = rec;
    logger().info(
      "session {id} ready: {application} on {host}:{port}, pid {pid}, ready in {readyMs} ms",
      { id, application, host, port, pid, readyMs },
    );
  }

  #onExit(rec: SessionRecord, status: ExitStatus): void {
    if (rec.state !== "ready") {
      rec.exitStatus = status;
      return;
    }
    logger().info("session {id}: its process {how}", { id: rec.id, how: describeExit(status) });
    this.#end(rec, "exited");
  }

  /**
   * Any session the table holds (starting, ready or stopping), found as every lookup finds
   * them: in any case.
   *
   * @param id session id, in any case
   * @returns the session, or undefined
   */
  find(id: string): SessionInfo | undefined {
    return this.#table.find(id);
  }

  /**
   * The session, for a GET.
   *
   * @param id session id
   * @returns the session
   * @throws {UnknownSessionError} when no ready session has that id
   */
  get(id: string): SessionInfo {
    const rec = this.#table.find(id);
    if (!rec || rec.state !== "ready") throw new UnknownSessionError(id);
    return rec;
  }

  /**
   * Where the proxy sends a session's traffic.
   *
   * @param id session id
   * @returns the ready session's host, port and counters, or undefined
   */
  route(id: string): ProxyTarget | undefined {
    const rec = this.#table.find(id);
    if (!rec || rec.state !== "ready") return undefined;
    const wsPath = this.#templates.wsPath(rec.application);
    return { host: rec.host, port: rec.port, traffic: rec.traffic, wsPath };
  }

  /**
   * When a session will be stopped for idleness or age, if nothing changes.
   *
   * @param session the session
   * @returns its deadlines in ms since the epoch, or null
   */
  deadlines(session: SessionInfo): Deadlines {
    return deadlines({ ...session, ...session.traffic.snapshot() });
  }

  /**
   * The session's answer with its proxy counters and deadlines, for a GET.
   *
   * @param id session id
   * @returns the answer plus `proxy` (connections, bytes each way, last activity) and `stops`
   * @throws {UnknownSessionError} when no ready session has that id
   */
  describe(id: string): SessionDescription {
    const rec = this.get(id);
    return describeSession(rec, this.deadlines(rec));
  }

  /**
   * Stops a session's whole process group and waits until it is gone.
   *
   * @param id session id
   * @param reason why
   * @returns the stopped session
   * @throws {UnknownSessionError} when no session has that id
   * @throws {StopIncompleteError} when the session ended but its map line could not be
   *   removed yet, or its processes could not be signalled
   */
  async stop(id: string, reason: StopReason = "deleted"): Promise<SessionInfo> {
    // A starting session too (the dashboard lists it): its launch then fails as stopped.
    const rec = this.#table.find(id);
    if (!rec) throw new UnknownSessionError(id);
    await this.#end(rec, reason);
    if (rec.stopProblem) throw new StopIncompleteError(id, `session ${id} ${rec.stopProblem}`);
    return rec;
  }

  /** Refuses new sessions and stops every session, starting ones included. */
  async stopAll(): Promise<void> {
    this.#closing = true;
    await Promise.all(this.#table.records().map((r) => this.#end(r, "shutdown")));
    this.close();
  }

  /**
   * Refuses new sessions and lets the ready ones run on for the next launcher to adopt:
   * starting sessions are stopped, and the state file is brought up to date.
   */
  async detachAll(): Promise<void> {
    this.#closing = true;
    const starting = this.#table.records().filter((r) => r.state === "starting");
    await Promise.all(starting.map((r) => this.#end(r, "shutdown")));
    await this.#save(true);
    this.close();
  }

  /** Stops the timers (idle reaping, watching adopted processes). */
  close(): void {
    this.#reaper.close();
    this.#spawner.close();
  }

  /**
   * Takes over the sessions a previous launcher left running. Sessions whose process is
   * gone (or whose pid now belongs to another process) are dropped; every adopted one gets
   * its port and map line back. A session that was still starting has no client: it is
   * stopped (its end is not awaited; it holds its port until it is gone).
   *
   * @param saved the previous launcher's state file
   * @returns how many were adopted, are being stopped, and were dropped
   */
  async adopt(
    saved: SavedSession[],
  ): Promise<{ adopted: number; stopped: number; dropped: number }> {
    const fresh = saved.filter((s) => !this.#table.has(s.id));
    const records = adoptRecords(fresh, {
      spawner: this.#spawner,
      pool: this.#pool,
      config: this.#config,
      now: this.#now,
      monotonic: this.#monotonic,
    });
    const ready = records.filter((r) => r.state === "ready");
    for (const rec of records) this.#table.add(rec);
    for (const rec of ready) {
      rec.mapped = this.#map !== undefined;
      this.#reaper.watch(rec);
      rec.proc!.exited.then((status) => this.#onExit(rec, status));
    }
    for (const rec of records) if (rec.state === "starting") this.#end(rec, "interrupted");
    await Promise.all([
      ...ready.map((r) =>
        this.#map?.set(r.id, `${r.host}:${r.port}`).catch((err) => {
          logger().error("cannot write the map file: {error}", { error: String(err) });
        })
      ),
      this.#save(true),
    ]);
    const stopped = records.length - ready.length;
    return { adopted: ready.length, stopped, dropped: saved.length - records.length };
  }

  #save(durable = false): Promise<void> {
    // The state file itself says when its writes start failing and when they succeed again.
    return this.#persist(durable).catch((err) => {
      logger().debug("cannot write the state file: {error}", { error: String(err) });
    });
  }

  #end(rec: SessionRecord, reason: StopReason): Promise<void> {
    return endSession(rec, reason, this.#ending);
  }
}
