/**
 * The session table: starts a process per session, waits for its ready line, keeps the
 * port pool, the capacity limit and the map file true, and stops whole process groups.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { join } from "node:path";
import type { LauncherConfig } from "./config_types.ts";
import {
  LaunchError,
  NoCapacityError,
  ShuttingDownError,
  UnknownApplicationError,
  UnknownSessionError,
} from "./errors.ts";
import { randomToken } from "./ids.ts";
import {
  type AppTemplates,
  checkVariables,
  clientValues,
  compileTemplates,
  renderSession,
  type SharedTemplates,
} from "./launch_values.ts";
import { LineMatcher } from "./line_matcher.ts";
import type { LogFollower } from "./log_follower.ts";
import type { PortPool, Slot } from "./port_pool.ts";
import type { ExitStatus, ProcessHandle, Spawner } from "./process.ts";
import type { ProxyTarget } from "./proxy.ts";
import { sessionAnswer } from "./session_view.ts";
import { Traffic, type TrafficSnapshot } from "./traffic.ts";

/** Where the session's `<id> <host>:<port>` lines are published (the Apache map file). */
export interface SessionMap {
  /** Adds or replaces a line; settles once it is published. */
  set(id: string, target: string): Promise<void>;
  /** Removes a line; settles once that is published. */
  delete(id: string): Promise<void>;
}

/** A session's life: starting (waiting for its ready line), ready, or stopping. */
export type SessionState = "starting" | "ready" | "stopping";

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
}

interface SessionRecord extends SessionInfo {
  pid: number | undefined;
  readyMs: number | undefined;
  state: SessionState;
  answer: Record<string, unknown>;
  slot: Slot;
  startedMono: number;
  proc?: ProcessHandle;
  spawned?: Promise<ProcessHandle | undefined>;
  ending?: Promise<void>;
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
  /** Called once a session has ended and its port is free, with its id. */
  onEnded?: (id: string) => void;
}

const logger = () => getLogger(["pvw-launcher", "sessions"]);

/** A timer that can be awaited and cancelled. */
function timer(ms: number): { promise: Promise<"timeout">; cancel: () => void } {
  let id: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<"timeout">((resolve) => {
    id = setTimeout(() => resolve("timeout"), ms);
  });
  return { promise, cancel: () => clearTimeout(id) };
}

function describeExit(status: ExitStatus): string {
  return status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
}

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
  #onEnded: (id: string) => void;
  #shared: SharedTemplates;
  #apps: Map<string, AppTemplates>;
  #records = new Map<string, SessionRecord>();
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
    const { shared, apps } = compileTemplates(options.config);
    this.#shared = shared;
    this.#apps = apps;
  }

  /** Number of sessions holding a port (starting, ready or stopping). */
  get size(): number {
    return this.#records.size;
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
   * @throws {ShuttingDownError} once {@linkcode SessionManager.stopAll} was called
   */
  async launch(body: Record<string, unknown>): Promise<SessionInfo> {
    if (this.#closing) throw new ShuttingDownError();
    const templates = this.#templatesFor(body.application);
    const { values: client, replaced } = clientValues(body, this.#config.sanitize);
    for (const r of replaced) {
      logger().warn("value of {key} did not pass its sanitize rule; using {replacement}", {
        ...r,
      });
    }
    checkVariables(templates, this.#config.properties, client);
    if (this.#records.size >= this.#config.maxSessions) {
      throw new NoCapacityError(`all ${this.#config.maxSessions} sessions (max_session) are taken`);
    }
    const slot = this.#pool.acquire();
    const secret = typeof body.secret === "string" && body.secret ? body.secret : randomToken(24);
    const rec = this.#register(templates.app.name, slot, secret);
    try {
      const rendered = renderSession(
        this.#shared,
        templates,
        {
          id: rec.id,
          host: slot.host,
          port: String(slot.port),
          secret: rec.answer.secret as string,
          application: templates.app.name,
        },
        this.#config.properties,
        client,
      );
      rec.answer = sessionAnswer(this.#config, {
        id: rec.id,
        secret: rec.answer.secret as string,
        sessionUrl: rendered.sessionUrl,
        body,
        client,
        host: slot.host,
        port: slot.port,
        sessionData: rendered.sessionData,
      });
      await this.#start(rec, templates, rendered.argv);
      return rec;
    } catch (err) {
      await this.#end(rec, err instanceof LaunchError ? err.reason : "failed");
      throw err;
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

  #register(application: string, slot: Slot, secret: string): SessionRecord {
    const id = randomToken(16);
    const rec: SessionRecord = {
      id,
      application,
      host: slot.host,
      port: slot.port,
      pid: undefined,
      logFile: join(this.#config.logDir, `${id}.log`),
      startedAt: Date.now(),
      startedMono: performance.now(),
      readyMs: undefined,
      state: "starting",
      answer: { secret },
      traffic: new Traffic(),
      slot,
    };
    this.#records.set(id, rec);
    return rec;
  }

  async #start(rec: SessionRecord, templates: AppTemplates, argv: string[]): Promise<void> {
    const app = templates.app;
    const matcher = new LineMatcher(app.readyLines);
    const ready = Promise.withResolvers<"ready">();
    const follow = this.#follower.follow(rec.logFile, (chunk) => {
      if (matcher.push(chunk) !== undefined) ready.resolve("ready");
    });
    try {
      const spawning = this.#spawner.spawn({
        command: argv[0],
        args: argv.slice(1),
        cwd: app.dir,
        env: { ...this.#baseEnv, PYTHONUNBUFFERED: "1", ...app.env },
        logFile: rec.logFile,
      });
      rec.spawned = spawning.catch(() => undefined);
      const proc = await spawning;
      rec.proc = proc;
      rec.pid = proc.pid;
      proc.exited.then((status) => this.#onExit(rec, status));
      follow.drain().catch(() => {});
      const wait = timer(app.timeoutMs);
      const outcome = await Promise.race([ready.promise, proc.exited, wait.promise]);
      wait.cancel();
      if (outcome !== "ready") throw this.#notReady(rec, outcome, app.timeoutMs, app.readyLines);
    } finally {
      follow.close();
    }
    await this.#publish(rec);
  }

  #notReady(
    rec: SessionRecord,
    outcome: ExitStatus | "timeout",
    timeoutMs: number,
    readyLines: string[],
  ): LaunchError {
    if (this.#closing) return new LaunchError("the launcher is shutting down", "stopped");
    const app = `application "${rec.application}"`;
    if (outcome === "timeout") {
      const lines = readyLines.map((l) => JSON.stringify(l)).join(" or ");
      logger().warn("session {id} of {application} timed out; its output is in {logFile}", {
        ...rec,
      });
      return new LaunchError(
        `${app} printed no ready line (${lines}) within ${timeoutMs / 1000} s and was stopped`,
        "timeout",
      );
    }
    logger().warn("session {id} of {application} {how} before it was ready; see {logFile}", {
      ...rec,
      how: describeExit(outcome),
    });
    return new LaunchError(
      `${app} ${describeExit(outcome)} before it was ready`,
      "exited",
      outcome.code,
      outcome.signal,
    );
  }

  async #publish(rec: SessionRecord): Promise<void> {
    rec.state = "ready";
    rec.readyMs = Math.round((performance.now() - rec.startedMono) * 10) / 10;
    try {
      await this.#map?.set(rec.id, `${rec.host}:${rec.port}`);
    } catch (err) {
      logger().error("cannot write the map file: {error}", { error: String(err) });
      throw new LaunchError("the launcher could not write its map file", "map_error");
    }
    if (rec.ending) {
      throw new LaunchError(
        `application "${rec.application}" exited right after it was ready`,
        "exited",
      );
    }
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
    if (rec.state === "ready") this.#end(rec, `process ${describeExit(status)}`);
  }

  /**
   * The session's answer, for a GET.
   *
   * @param id session id
   * @returns the session
   * @throws {UnknownSessionError} when no ready session has that id
   */
  get(id: string): SessionInfo {
    const rec = this.#records.get(id);
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
    const rec = this.#records.get(id);
    if (!rec || rec.state !== "ready") return undefined;
    return { host: rec.host, port: rec.port, traffic: rec.traffic };
  }

  /**
   * The session's answer with its proxy counters, for a GET.
   *
   * @param id session id
   * @returns the answer plus `proxy` (connections, bytes each way, last activity)
   * @throws {UnknownSessionError} when no ready session has that id
   */
  describe(id: string): Record<string, unknown> & { proxy: TrafficSnapshot } {
    const rec = this.get(id);
    return { ...rec.answer, proxy: rec.traffic.snapshot() };
  }

  /**
   * Stops a session's whole process group and waits until it is gone.
   *
   * @param id session id
   * @param reason why, for the log
   * @returns the stopped session
   * @throws {UnknownSessionError} when no ready or stopping session has that id
   */
  async stop(id: string, reason = "stopped by request"): Promise<SessionInfo> {
    const rec = this.#records.get(id);
    if (!rec || rec.state === "starting") throw new UnknownSessionError(id);
    await this.#end(rec, reason);
    return rec;
  }

  /** Refuses new sessions and stops every session, starting ones included. */
  async stopAll(): Promise<void> {
    this.#closing = true;
    await Promise.all([...this.#records.values()].map((r) => this.#end(r, "launcher shutdown")));
  }

  #end(rec: SessionRecord, reason: string): Promise<void> {
    rec.ending ??= (async () => {
      const wasReady = rec.state === "ready";
      rec.state = "stopping";
      const unmapped = wasReady ? this.#map?.delete(rec.id) : undefined;
      await this.#terminate(rec);
      this.#records.delete(rec.id);
      this.#pool.release(rec.slot);
      try {
        await unmapped;
      } catch (err) {
        logger().error("cannot write the map file: {error}", { error: String(err) });
      }
      if (wasReady) logger().info("session {id} ended: {reason}", { id: rec.id, reason });
      this.#onEnded(rec.id);
    })();
    return rec.ending;
  }

  async #terminate(rec: SessionRecord): Promise<void> {
    const proc = await rec.spawned;
    if (!proc) return;
    const exited = await Promise.race([proc.exited.then(() => true), Promise.resolve(false)]);
    if (exited && !this.#spawner.groupAlive(proc.pid)) return;
    this.#spawner.signalGroup(proc.pid, "SIGTERM");
    if (await this.#waitGone(proc, this.#config.stopGraceMs)) return;
    logger().warn("session {id} did not stop within its grace period; killing it", { id: rec.id });
    this.#spawner.signalGroup(proc.pid, "SIGKILL");
    if (!(await this.#waitGone(proc, this.#killWaitMs))) {
      logger().error("process group {pid} of session {id} survived SIGKILL", {
        pid: proc.pid,
        id: rec.id,
      });
    }
  }

  /** Waits for the leader's exit, then for the rest of its group, until `ms` have passed. */
  async #waitGone(proc: ProcessHandle, ms: number): Promise<boolean> {
    const deadline = performance.now() + ms;
    const wait = timer(ms);
    const outcome = await Promise.race([proc.exited, wait.promise]);
    wait.cancel();
    if (outcome === "timeout") return false;
    // Grandchildren send no event when they go: look again, backing off up to 50 ms.
    for (let pause = 1; this.#spawner.groupAlive(proc.pid); pause = Math.min(pause * 2, 50)) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      const t = timer(Math.min(pause, left));
      await t.promise;
    }
    return true;
  }
}
