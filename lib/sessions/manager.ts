/**
 * The session table: starts a process per session, waits for its ready line, keeps the
 * port pool, the capacity limit and the map file true, and stops whole process groups.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { join } from "node:path";
import { DEFAULTS, type LauncherConfig } from "../config/mod.ts";
import { LaunchError } from "../errors/mod.ts";
import {
  NoCapacityError,
  ShuttingDownError,
  StopIncompleteError,
  UnknownApplicationError,
  UnknownSessionError,
} from "./errors.ts";
import { type ExitStatus, type LogFollower, type Spawner, stopGroup } from "../os/mod.ts";
import { randomId, randomToken } from "./ids.ts";
import {
  type AppTemplates,
  checkVariables,
  clientValues,
  compileTemplates,
  renderSession,
  type SharedTemplates,
  unprovidedVariables,
} from "./launch_values.ts";
import { type Deadlines, deadlines, Reaper } from "./lifetime.ts";
import type { PortPool, Slot } from "./port_pool.ts";
import { spawnUntilReady } from "./launch.ts";
import { adoptRecords } from "./adoption.ts";
import {
  describeExit,
  type ProxyTarget,
  REASONS,
  type SessionInfo,
  type SessionRecord,
  type StopReason,
} from "./record.ts";
import { type SavedSession, toSaved } from "./state_file.ts";
import { sessionAnswer } from "./answer.ts";
import { Traffic, type TrafficSnapshot } from "./traffic.ts";

export type { SessionInfo, SessionState, StopReason } from "./record.ts";

/** Where the session's `<id> <host>:<port>` lines are published (the Apache map file). */
export interface SessionMap {
  /** Adds or replaces a line; settles once it is published. */
  set(id: string, target: string): Promise<void>;
  /** Removes a line; settles once that is published. */
  delete(id: string): Promise<void>;
  /** Settles once the lines are published as they are now, however long that takes. */
  settled?(): Promise<void>;
}

/** What the session table is built from. */
export interface SessionManagerOptions {
  /** The loaded config. */
  config: LauncherConfig;
  /** Hands out host/port slots. */
  pool: PortPool;
  /** Starts and signals processes. */
  spawner: Spawner;
  /** Follows session logs for the ready line. */
  follower: LogFollower;
  /** The Apache map file, if the config names one. */
  map?: SessionMap;
  /** The environment every session starts from (the launcher's own). */
  baseEnv?: Record<string, string>;
  /** How long to wait for a process group to go after SIGKILL, in ms. @default 5000 */
  killWaitMs?: number;
  /** Called once a session has ended and its port is free. */
  onEnded?: (session: SessionInfo, reason: StopReason) => void;
  /**
   * Called after every change of the sessions, to save them (the state file): `durable`
   * when the write must reach the disk (a session becoming ready, before its answer), not
   * when a crash of the machine, which ends every session, makes the change moot (a spawn,
   * an end).
   */
  persist?: (durable: boolean) => Promise<void>;
  /** The wall clock, ms since the epoch. @default Date.now */
  now?: () => number;
  /** How often idle and lifetime limits are checked, in ms. @default 1000 */
  reapIntervalMs?: number;
}

/** What a GET answers: the session's answer, its proxy counters and its deadlines. */
export type SessionDescription = Record<string, unknown> & {
  /** What the proxy saw of the session. */
  proxy: TrafficSnapshot;
  /** When it will be stopped, as ISO dates, or null. */
  stops: { idleAt: string | null; lifetimeAt: string | null };
};

const logger = () => getLogger(["pvw-launcher", "sessions"]);

/**
 * The table of live sessions.
 *
 * @example
 * ```ts ignore
 * const sessions = new SessionManager({ config, pool, spawner, follower, map });
 * const s = await sessions.launch({ application: "demo" });
 * await sessions.stop(s.id);
 * ```
 */
export class SessionManager {
  #config: LauncherConfig;
  #pool: PortPool;
  #spawner: Spawner;
  #follower: LogFollower;
  #map: SessionMap | undefined;
  #baseEnv: Record<string, string>;
  #killWaitMs: number;
  #onEnded: (session: SessionInfo, reason: StopReason) => void;
  #persist: (durable: boolean) => Promise<void>;
  #now: () => number;
  #reaper: Reaper;
  #shared: SharedTemplates;
  #apps: Map<string, AppTemplates>;
  #records = new Map<string, SessionRecord>();
  /** Lower-cased id → id, for the ids with capitals (adopted from older launchers). */
  #folded = new Map<string, string>();
  #closing = false;

  /**
   * Makes an empty table.
   *
   * @param options what the table is built from
   */
  constructor(options: SessionManagerOptions) {
    this.#config = options.config;
    this.#pool = options.pool;
    this.#spawner = options.spawner;
    this.#follower = options.follower;
    this.#map = options.map;
    this.#baseEnv = options.baseEnv ?? {};
    this.#killWaitMs = options.killWaitMs ?? 5000;
    this.#onEnded = options.onEnded ?? (() => {});
    this.#persist = options.persist ?? (() => Promise.resolve());
    this.#now = options.now ?? Date.now;
    this.#reaper = new Reaper({
      sessions: () => [...this.#records.values()].filter((r) => r.state === "ready"),
      stop: (id, reason) => {
        const rec = this.#records.get(id);
        if (rec) this.#end(rec, reason);
      },
      now: this.#now,
      intervalMs: options.reapIntervalMs ?? 1000,
    });
    const { shared, apps } = compileTemplates(options.config);
    this.#shared = shared;
    this.#apps = apps;
  }

  /** Number of sessions holding a port (starting, ready or stopping). */
  get size(): number {
    return this.#records.size;
  }

  /** Whether new sessions are refused because the launcher is shutting down. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Every session, in the order they were requested. */
  list(): SessionInfo[] {
    return [...this.#records.values()];
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
    const templates = this.#templatesFor(body.application);
    const { values: client, replaced } = clientValues(body, this.#config.sanitize);
    for (const r of replaced) {
      logger().warn("value of {key} did not pass its sanitize rule; using {replacement}", { ...r });
    }
    this.#checkVariables(templates, client);
    if (this.#records.size >= this.#config.maxSessions) {
      throw new NoCapacityError(`all ${this.#config.maxSessions} sessions (max_session) are taken`);
    }
    const slot = this.#pool.acquire();
    // A client's own secret passes the sanitize rules like any other value (as in wslink).
    const secret = typeof body.secret === "string" && body.secret ? client.secret : randomToken(24);
    const rec = this.#register(templates, slot, secret);
    try {
      const assigned = {
        id: rec.id,
        host: slot.host,
        port: String(slot.port),
        secret,
        application: rec.application,
      };
      const rendered = renderSession(
        this.#shared,
        templates,
        { assigned, properties: this.#config.properties, client },
        this.#config.unprovided,
      );
      rec.answer = sessionAnswer(this.#config, {
        id: rec.id,
        secret,
        sessionUrl: rendered.sessionUrl,
        body,
        replaced: Object.fromEntries(replaced.map((r) => [r.key, r.replacement])),
        usesSecret: templates.usesSecret,
        host: slot.host,
        port: slot.port,
        sessionData: rendered.sessionData,
      });
      await spawnUntilReady(rec, templates.app, rendered.argv, {
        spawner: this.#spawner,
        follower: this.#follower,
        baseEnv: this.#baseEnv,
        closing: () => this.#closing,
        onExit: (status) => this.#onExit(rec, status),
        // Recorded at once, not only when ready: a launcher that dies now must not leave the
        // process unknown to the next one. The launch does not wait for this write.
        onSpawned: () => void this.#save(),
      });
      await this.#publish(rec);
      return rec;
    } catch (err) {
      await this.#end(rec, "launch_failed");
      throw err;
    }
  }

  /** Refuses a launch whose variables lack values, or logs them when they are kept as written. */
  #checkVariables(templates: AppTemplates, client: Record<string, string>): void {
    if (this.#config.unprovided === "refuse") {
      checkVariables(templates, this.#config.properties, client);
      return;
    }
    for (const variable of unprovidedVariables(templates, this.#config.properties, client)) {
      logger().warn(
        "application {application}: nothing gives {variable} a value; it is passed as written",
        { application: templates.app.name, variable },
      );
    }
  }

  #templatesFor(application: unknown): AppTemplates {
    const templates = typeof application === "string" ? this.#apps.get(application) : undefined;
    if (!templates) {
      throw new UnknownApplicationError(
        typeof application === "string" ? application : undefined,
        [...this.#apps.keys()],
      );
    }
    return templates;
  }

  #register(templates: AppTemplates, slot: Slot, secret: string): SessionRecord {
    const id = randomId();
    const rec: SessionRecord = {
      id,
      application: templates.app.name,
      host: slot.host,
      port: slot.port,
      pid: undefined,
      identity: undefined,
      logFile: join(this.#config.logDir, `${id}.log`),
      startedAt: this.#now(),
      startedMono: performance.now(),
      readyMs: undefined,
      state: "starting",
      answer: { secret },
      traffic: new Traffic(this.#now),
      adopted: false,
      idleTimeoutMs: templates.app.idleTimeoutMs,
      maxLifetimeMs: templates.app.maxLifetimeMs,
      slot: { ...slot, pooled: true },
    };
    this.#add(rec);
    return rec;
  }

  /**
   * Makes a session ready once its map line and its state-file entry are written: until
   * then GET, DELETE and the proxy do not find it, and no client has its answer.
   */
  async #publish(rec: SessionRecord): Promise<void> {
    rec.readyMs = Math.round((performance.now() - rec.startedMono) * 10) / 10;
    rec.mapped = this.#map !== undefined;
    const [mapped, saved] = await Promise.allSettled([
      this.#map?.set(rec.id, `${rec.host}:${rec.port}`),
      this.#persist(true),
    ]);
    if (mapped.status === "rejected") {
      logger().error("cannot write the map file: {error}", { error: String(mapped.reason) });
      throw new LaunchError("the launcher could not write its map file", "map_error");
    }
    if (saved.status === "rejected") {
      logger().error("cannot write the state file: {error}", { error: String(saved.reason) });
      throw new LaunchError("the launcher could not write its state file", "state_error");
    }
    if (rec.exitStatus) {
      throw new LaunchError(
        `application "${rec.application}" ${describeExit(rec.exitStatus)} right after it was ready`,
        "exited",
        rec.exitStatus.code,
        rec.exitStatus.signal,
      );
    }
    if (rec.ending) throw new LaunchError("the launcher is shutting down", "stopped");
    rec.state = "ready";
    this.#reaper.watch(rec);
    logger().info(
      "session {id} ready: {application} on {host}:{port}, pid {pid}, ready in {readyMs} ms",
      {
        id: rec.id,
        application: rec.application,
        host: rec.host,
        port: rec.port,
        pid: rec.pid,
        readyMs: rec.readyMs,
      },
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
   * The session, for a GET.
   *
   * @param id session id
   * @returns the session
   * @throws {UnknownSessionError} when no ready session has that id
   */
  get(id: string): SessionInfo {
    const rec = this.#find(id);
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
    const rec = this.#find(id);
    if (!rec || rec.state !== "ready") return undefined;
    const wsPath = this.#apps.get(rec.application)?.app.wsPath ?? DEFAULTS.wsPath;
    return { host: rec.host, port: rec.port, traffic: rec.traffic, wsPath };
  }

  /**
   * Finds a session by id, in any case: clients may lower-case the id (trame's client
   * lower-cases the whole session URL), and ids of older launchers had capitals.
   */
  #find(id: string): SessionRecord | undefined {
    const exact = this.#records.get(id);
    if (exact) return exact;
    const folded = id.toLowerCase();
    return this.#records.get(folded) ?? this.#records.get(this.#folded.get(folded) ?? "");
  }

  #add(rec: SessionRecord): void {
    this.#records.set(rec.id, rec);
    const folded = rec.id.toLowerCase();
    if (folded !== rec.id) this.#folded.set(folded, rec.id);
  }

  #remove(rec: SessionRecord): void {
    this.#records.delete(rec.id);
    const folded = rec.id.toLowerCase();
    if (this.#folded.get(folded) === rec.id) this.#folded.delete(folded);
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
    const d = this.deadlines(rec);
    const iso = (t: number | null) => t === null ? null : new Date(t).toISOString();
    return {
      ...rec.answer,
      proxy: rec.traffic.snapshot(),
      stops: { idleAt: iso(d.idleStopAt), lifetimeAt: iso(d.lifetimeEndsAt) },
    };
  }

  /**
   * Stops a session's whole process group and waits until it is gone.
   *
   * @param id session id
   * @param reason why
   * @returns the stopped session
   * @throws {UnknownSessionError} when no ready or stopping session has that id
   * @throws {StopIncompleteError} when the session ended but its map line could not be
   *   removed yet, or its processes could not be signalled
   */
  async stop(id: string, reason: StopReason = "deleted"): Promise<SessionInfo> {
    const rec = this.#find(id);
    if (!rec || rec.state === "starting") throw new UnknownSessionError(id);
    await this.#end(rec, reason);
    if (rec.stopProblem) throw new StopIncompleteError(id, `session ${id} ${rec.stopProblem}`);
    return rec;
  }

  /** Refuses new sessions and stops every session, starting ones included. */
  async stopAll(): Promise<void> {
    this.#closing = true;
    await Promise.all([...this.#records.values()].map((r) => this.#end(r, "shutdown")));
    this.close();
  }

  /**
   * Refuses new sessions and lets the ready ones run on for the next launcher to adopt:
   * starting sessions are stopped, and the state file is brought up to date.
   */
  async detachAll(): Promise<void> {
    this.#closing = true;
    const starting = [...this.#records.values()].filter((r) => r.state === "starting");
    await Promise.all(starting.map((r) => this.#end(r, "shutdown")));
    await this.#save(true);
    this.close();
  }

  /** Stops the timers (idle reaping, watching adopted processes). */
  close(): void {
    this.#reaper.close();
    this.#spawner.close();
  }

  /** The sessions whose process was spawned, as the state file keeps them. */
  saved(): SavedSession[] {
    return [...this.#records.values()].map(toSaved).filter((s) => s !== undefined);
  }

  /**
   * The state-file entries of the sessions whose process was spawned, as JSON texts; a ready
   * session's is made once (it does not change after).
   */
  *savedJson(): Generator<string> {
    for (const r of this.#records.values()) {
      if (r.savedJson !== undefined) {
        yield r.savedJson;
        continue;
      }
      const saved = toSaved(r);
      if (saved === undefined) continue;
      const json = JSON.stringify(saved);
      if (r.state === "ready") r.savedJson = json;
      yield json;
    }
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
    const fresh = saved.filter((s) => !this.#records.has(s.id));
    const records = adoptRecords(fresh, {
      spawner: this.#spawner,
      pool: this.#pool,
      config: this.#config,
      now: this.#now,
    });
    const ready = records.filter((r) => r.state === "ready");
    for (const rec of records) this.#add(rec);
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
    rec.ending ??= (async () => {
      const wasReady = rec.state === "ready";
      rec.state = "stopping";
      // Asked at once, so that Apache stops routing the session while it is being stopped.
      const unmapped = rec.mapped ? this.#unmap(rec) : undefined;
      const unsignalled = await this.#terminate(rec);
      this.#remove(rec);
      const unmapProblem = await unmapped;
      this.#releasePort(rec, unmapProblem !== undefined);
      rec.stopProblem = unsignalled ?? unmapProblem;
      // Recorded since its spawn: the state file must forget it now.
      if (rec.pid !== undefined) await this.#save();
      if (wasReady || rec.adopted) {
        logger().info("session {id} ended: {reason}", { id: rec.id, reason: REASONS[reason] });
      }
      this.#onEnded(rec, reason);
    })();
    return rec.ending;
  }

  /** Removes a session's map line; says what went wrong when it could not. */
  async #unmap(rec: SessionRecord): Promise<string | undefined> {
    try {
      await this.#map?.delete(rec.id);
      return undefined;
    } catch (err) {
      logger().error(
        "session {id}: cannot remove its map line: {error}; its port is held until the map " +
          "file can be written",
        { id: rec.id, error: String(err) },
      );
      return `was stopped, but the map file could not be updated (${brief(err)}); the ` +
        "launcher retries until it can, and holds the session's port meanwhile";
    }
  }

  /** Frees the session's port, once no map line Apache reads can route to it any more. */
  #releasePort(rec: SessionRecord, routed: boolean): void {
    if (!rec.slot.pooled) return;
    if (!routed || !this.#map) {
      this.#pool.release(rec.slot);
      return;
    }
    // A new session on this port would get the old session's users.
    this.#map.settled?.().then(() => this.#pool.release(rec.slot));
  }

  /** Stops the session's process group; says what went wrong when it could not. */
  async #terminate(rec: SessionRecord): Promise<string | undefined> {
    const proc = await rec.spawned;
    if (!proc) return undefined;
    const times = { graceMs: this.#config.stopGraceMs, killWaitMs: this.#killWaitMs };
    let outcome;
    try {
      outcome = await stopGroup(this.#spawner, proc, times);
    } catch (err) {
      // Left "stopping" it would hold its port for ever; its processes may run on.
      logger().error(
        "session {id}: cannot signal process group {pid}: {error}; it is taken out of the " +
          "table, and its processes may still run",
        { id: rec.id, pid: proc.pid, error: String(err) },
      );
      return `could not be stopped: its processes could not be signalled (${brief(err)}); ` +
        "it was taken out of the table";
    }
    if (outcome === "killed") {
      logger().warn("session {id} did not stop within its grace period; it was killed", {
        id: rec.id,
      });
    } else if (outcome === "survived") {
      logger().error("process group {pid} of session {id} survived SIGKILL", {
        pid: proc.pid,
        id: rec.id,
      });
    }
    return undefined;
  }
}

/** An error's gist for a client: its first clause, without the paths system errors name. */
function brief(err: unknown): string {
  return String((err as Error)?.message ?? err).split(":")[0];
}
