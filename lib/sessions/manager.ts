/**
 * The session manager: starts a process per session, waits for its ready line, keeps the
 * port pool, the capacity limit and the map file true, takes over the sessions a previous
 * launcher left, and stops whole process groups. The sessions themselves are kept in a
 * {@linkcode SessionTable}; how one ends is {@linkcode endSession}.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { JobRef } from "../cluster/mod.ts";
import type { LauncherConfig } from "../config/mod.ts";
import { HttpError, publicMessage } from "../errors/mod.ts";
import type { ExitStatus, LogFollower, SessionMap, Spawner } from "../os/mod.ts";
import {
  describePending,
  describeSession,
  type PendingDescription,
  type SessionDescription,
} from "./answer.ts";
import { BatchSessions } from "./batch_sessions.ts";
import { type EndingDeps, endSession } from "./ending.ts";
import {
  NoCapacityError,
  ShuttingDownError,
  StopIncompleteError,
  UnknownSessionError,
} from "./errors.ts";
import { randomToken } from "./ids.ts";
import { type LaunchContext, publish, spawnUntilReady } from "./launch.ts";
import { type CheckedRequest, LaunchTemplates } from "./launch_templates.ts";
import { type Deadlines, deadlines, Reaper } from "./lifetime.ts";
import type { SlotPool } from "./placement.ts";
import type { Slot } from "./port_pool.ts";
import { type Progress, ProgressBoard } from "./progress.ts";
import {
  describeExit,
  newRecord,
  type ProxyTarget,
  type SessionInfo,
  type SessionRecord,
} from "./record.ts";
import type { SavedJobSession, SavedSession } from "./state_file.ts";
import type { StopReason } from "./stop_reasons.ts";
import { SessionTable } from "./table.ts";
import { takeOver } from "./takeover.ts";
import { Traffic } from "./traffic.ts";
import { type WarmCounts, WarmPool } from "./warm_pool.ts";
import type { EndedListener, LaunchOptions, SessionManagerOptions } from "./manager_options.ts";
export type { EndedListener, LaunchOptions, SessionManagerOptions } from "./manager_options.ts";

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
  readonly #pool: SlotPool;
  readonly #batch: BatchSessions | undefined;
  readonly #failedProgress = new ProgressBoard();
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
  readonly #warm: WarmPool;
  /** Warm processes stopped while starting, to make room: their launch failing is no failure. */
  readonly #evicted = new WeakSet<SessionRecord>();
  /** Launches waiting for a warm process to give its place. */
  #wantingRoom = 0;
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
    this.#batch = options.cluster && new BatchSessions(options.cluster, {
      templates: this.#templates,
      follower: this.#follower,
      baseEnv: this.#baseEnv,
      hooks: {
        closing: () => this.#closing,
        save: () => this.#save(),
        end: (rec, reason) => this.#end(rec, reason),
      },
    });
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
      jobPool: this.#batch?.pool,
      cancelJob: this.#batch && ((rec) => this.#batch!.cancel(rec)),
      times: { graceMs: this.#config.stopGraceMs, killWaitMs: options.killWaitMs ?? 5000 },
      save: () => this.#save(),
      ended: (session, reason) => {
        if (!(session as SessionRecord).warm) {
          for (const listener of this.#endedListeners) listener(session, reason);
        }
        this.#warm.fill(); // its place may be a warm process's now
      },
    };
    this.#warm = new WarmPool(
      new Map(Object.values(this.#config.apps).map((app) => [app.name, app.warm])),
      {
        start: (application) => this.#startWarm(application),
        // Never a place a launch is waiting for (a warm process would take it back at once).
        hasRoom: () =>
          !this.#closing && this.#wantingRoom === 0 &&
          this.#table.size < this.#config.maxSessions && this.#pool.available > 0,
        now: this.#monotonic,
      },
      options.warm,
    );
  }

  /** Number of sessions holding a port (starting, ready or stopping). */
  get size(): number {
    return this.#table.size;
  }

  /** Whether new sessions are refused because the launcher is shutting down. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Every session, in the order they were requested; warm processes not handed out are not. */
  list(): SessionInfo[] {
    return this.#table.records().filter((r) => !r.warm);
  }

  /** The warm processes not handed out yet (waiting, or starting to wait). */
  warmProcesses(): SessionInfo[] {
    return this.#table.records().filter((r) => r.warm);
  }

  /** What each application's warm pool holds, and its hits and misses. */
  warmCounts(): WarmCounts[] {
    return this.#warm.counts();
  }

  /** Starts the warm processes the applications ask for (after any adoption). */
  warmUp(): void {
    this.#warm.fill();
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
   * Starts a session and waits until its process printed a ready line: a local process (or
   * a warm one, handed out at once), or a batch job for an application with `slurm`.
   *
   * @param body the client's POSTed object
   * @param options told the session once it has its id, for clients that do not wait
   * @returns the ready session
   * @throws {UnknownApplicationError} for a missing or unknown `application`
   * @throws {MissingVariableError} when a template variable has no value
   * @throws {JobLimitError} when a job's settings are beyond the admin's limits
   * @throws {NoCapacityError} when `max_session` is reached or no port is free
   * @throws {LaunchError} when the process or job cannot start, exits or times out
   * @throws {ShuttingDownError} once the launcher is shutting down
   */
  async launch(body: Record<string, unknown>, options: LaunchOptions = {}): Promise<SessionInfo> {
    if (this.#closing) throw new ShuttingDownError();
    const request = this.#templates.check(body);
    const application = request.templates.app.name;
    if (this.#warm.has(application)) {
      // A client's own secret needs a process started with it: a cold start.
      const waiting = request.client.secret
        ? this.#warm.miss(application)
        : this.#warm.take(application);
      if (waiting) return await this.#handOut(waiting, request);
    }
    const batch = request.templates.app.slurm ? this.#batch : undefined;
    const pool = batch?.pool ?? this.#pool;
    // Synchronous unless a warm process must give its place: the check and the registration
    // below happen in one turn, so concurrent launches never overshoot max_session.
    if (this.#full(pool)) await this.#makeRoom(pool);
    const slot = pool.acquire();
    // A client's own secret (a string or a number, as any client value) passes the sanitize
    // rules like any other value (as in wslink): what the log says replaced it is used.
    const secret = request.client.secret || randomToken(24);
    const rec = this.#register(request, slot, secret);
    if (batch) Object.assign(rec, { batch: true, body });
    if (options.onAccepted) {
      rec.announced = true;
      options.onAccepted(rec);
    }
    try {
      if (batch) await batch.start(rec, request);
      else {
        const { argv, answer } = this.#templates.render(request, { ...slot, id: rec.id, secret });
        rec.answer = answer;
        await spawnUntilReady(rec, request.templates.app, argv, this.#launchContext(rec));
      }
      await this.#finish(rec);
      return rec;
    } catch (err) {
      await this.#failed(rec, err);
      throw err;
    }
  }

  /** A session printed its ready line: it is published, then ready. */
  async #finish(rec: SessionRecord): Promise<void> {
    const since = rec.adopted ? this.#now() - rec.startedAt : this.#monotonic() - rec.startedMono;
    rec.readyMs = tenths(since);
    await publish(rec, { map: this.#map, persist: this.#persist });
    if (rec.batch) this.#batch?.checkRunning(rec);
    rec.body = undefined;
    this.#ready(rec);
  }

  /** A launch failed: its progress says why, and the session ends. */
  async #failed(rec: SessionRecord, err: unknown): Promise<void> {
    const status = err instanceof HttpError ? err.status : 500;
    rec.progress.emit({ type: "failed", data: { id: rec.id, error: publicMessage(err), status } });
    if (rec.announced) this.#failedProgress.keep(rec.id, rec.progress);
    await this.#end(rec, "launch_failed");
  }

  #launchContext(rec: SessionRecord): LaunchContext {
    return {
      spawner: this.#spawner,
      follower: this.#follower,
      baseEnv: this.#baseEnv,
      closing: () => this.#closing,
      onExit: (status) => this.#onExit(rec, status),
      // Recorded at once, not only when ready: a launcher that dies now must not leave the
      // process unknown to the next one. The launch does not wait for this write.
      onSpawned: () => {
        void this.#save();
        const { id, host, port } = rec;
        rec.progress.emit({ type: "starting", data: { id, host, port } });
      },
    };
  }

  /**
   * Frees a place for a cold start when `max_session` or the ports are all taken: a warm
   * process, waiting or else starting, is stopped (a warm process never makes a POST fail).
   *
   * @throws {NoCapacityError} when every place is a session's
   */
  async #makeRoom(pool: SlotPool): Promise<void> {
    // A warm process holds no port of the cluster's: none can give its place there.
    if (pool !== this.#pool && pool.available === 0) pool.acquire(); // throws NoCapacityError
    this.#wantingRoom++;
    try {
      while (this.#full(pool)) {
        const victim = this.#warm.evict() ??
          this.#table.records().find((r) => r.warm && r.state === "starting");
        if (!victim) {
          if (pool.available === 0) pool.acquire(); // throws its own NoCapacityError
          throw new NoCapacityError(
            `all ${this.#config.maxSessions} sessions (max_session) are taken`,
          );
        }
        this.#evicted.add(victim);
        await this.#end(victim, "evicted");
      }
    } finally {
      this.#wantingRoom--;
    }
  }

  #full(pool: SlotPool): boolean {
    return this.#table.size >= this.#config.maxSessions || pool.available === 0;
  }

  /** Starts a warm process; it waits, ready, until a POST takes it. */
  async #startWarm(application: string): Promise<SessionRecord | undefined> {
    const request = this.#templates.check({ application });
    const slot = this.#pool.acquire();
    const secret = randomToken(24);
    const rec = this.#register(request, slot, secret);
    rec.warm = true;
    try {
      const { argv } = this.#templates.render(request, { ...slot, id: rec.id, secret });
      await spawnUntilReady(rec, request.templates.app, argv, this.#launchContext(rec));
      if (rec.ending || rec.exitStatus) throw new Error(`it ended as it became ready`);
      rec.readyMs = tenths(this.#monotonic() - rec.startedMono);
      rec.state = "waiting";
      await this.#save();
      logger().info("warm process {id} of {application} waits on {host}:{port}, pid {pid}", {
        id: rec.id,
        application,
        host: rec.host,
        port: rec.port,
        pid: rec.pid,
      });
      return rec;
    } catch (err) {
      await this.#end(rec, "launch_failed");
      if (this.#evicted.has(rec)) return undefined;
      throw err;
    }
  }

  /** A waiting warm process becomes the client's session: its clocks start now. */
  async #handOut(rec: SessionRecord, request: CheckedRequest): Promise<SessionRecord> {
    const secret = String(rec.answer.secret);
    rec.warm = false;
    rec.state = "starting"; // not found by GET or the proxy until it is published
    rec.startedAt = this.#now();
    rec.startedMono = this.#monotonic();
    rec.traffic = new Traffic(this.#now);
    try {
      const assigned = { id: rec.id, host: rec.host, port: rec.port, secret };
      rec.answer = this.#templates.render(request, assigned).answer;
      rec.readyMs = tenths(this.#monotonic() - rec.startedMono);
      await publish(rec, { map: this.#map, persist: this.#persist });
      this.#ready(rec);
      return rec;
    } catch (err) {
      await this.#end(rec, "launch_failed");
      throw err;
    } finally {
      this.#warm.fillSoon(); // its replacement, once this answer is on its way
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
    rec.wasReady = true;
    rec.progress.emit({ type: "ready", data: rec.answer });
    this.#reaper.watch(rec);
    const { id, application, host, port, pid, readyMs } = rec;
    const where = rec.job ? `job ${rec.job.id} on ${rec.job.node}` : `pid ${pid}`;
    logger().info(
      "session {id} ready: {application} on {host}:{port}, {where}, ready in {readyMs} ms",
      { id, application, host, port, where, readyMs },
    );
  }

  #onExit(rec: SessionRecord, status: ExitStatus): void {
    if (rec.state === "waiting") {
      logger().warn("warm process {id} of {application} {how} while it waited", {
        id: rec.id,
        application: rec.application,
        how: describeExit(status),
      });
      this.#warm.lost(rec);
      this.#end(rec, "exited");
      return;
    }
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
   * The session's answer with its proxy counters and deadlines, for a GET; for a session
   * whose id was given out before it was ready, where it is in its start.
   *
   * @param id session id
   * @returns the answer plus `proxy` (connections, bytes each way, last activity) and `stops`
   *   (and `state` and `job` for a batch session); or the pending session's state
   * @throws {UnknownSessionError} when no ready or announced session has that id
   */
  describe(id: string): SessionDescription | PendingDescription {
    const rec = this.#table.find(id);
    if (rec?.state === "starting" && rec.announced) return describePending(rec);
    const ready = this.get(id);
    return describeSession(ready, this.deadlines(ready));
  }

  /**
   * A session's progress, for a client that follows its start: that of a ready session, of
   * one whose id was given out before it was ready, or of such a session that failed lately.
   *
   * @param id session id
   * @returns its progress, or undefined
   */
  progress(id: string): Progress | undefined {
    const rec = this.#table.find(id);
    if (rec && (rec.state === "ready" || (rec.state === "starting" && rec.announced))) {
      return rec.progress;
    }
    return rec ? undefined : this.#failedProgress.find(id);
  }

  /**
   * Stops a session's whole process group (or cancels its job) and waits until it is gone.
   *
   * @param id session id
   * @param reason why
   * @returns the stopped session
   * @throws {UnknownSessionError} when no session (warm processes are none) has that id
   * @throws {StopIncompleteError} when the session ended but its map line could not be
   *   removed yet, or its processes could not be signalled (or its job cancelled)
   */
  async stop(id: string, reason: StopReason = "deleted"): Promise<SessionInfo> {
    // A starting session too (the dashboard lists it): its launch then fails as stopped.
    const rec = this.#table.find(id);
    if (!rec || rec.warm) throw new UnknownSessionError(id);
    await this.#end(rec, reason);
    if (rec.stopProblem) throw new StopIncompleteError(id, `session ${id} ${rec.stopProblem}`);
    return rec;
  }

  /** Refuses new sessions and stops every session, starting ones included. */
  async stopAll(): Promise<void> {
    this.#closing = true;
    this.#warm.close();
    await Promise.all(this.#table.records().map((r) => this.#end(r, "shutdown")));
    await this.close();
  }

  /**
   * Refuses new sessions and lets the ready ones run on for the next launcher to adopt:
   * starting sessions are stopped (queued or starting jobs cancelled: their clients' requests
   * end with the launcher), and the state file is brought up to date.
   */
  async detachAll(): Promise<void> {
    this.#closing = true;
    this.#warm.close();
    const starting = this.#table.records().filter((r) => r.state === "starting");
    await Promise.all(starting.map((r) => this.#end(r, "shutdown")));
    await this.#save(true);
    await this.close();
  }

  /**
   * Stops the timers (idle reaping, watching adopted processes, warm retries, polling the
   * scheduler).
   */
  async close(): Promise<void> {
    this.#warm.close();
    this.#reaper.close();
    this.#spawner.close();
    await this.#batch?.close();
  }

  /**
   * Takes over the sessions a previous launcher left running (see {@linkcode takeOver}):
   * local sessions and warm processes by their processes, batch sessions by their jobs.
   *
   * @param saved the previous launcher's state file
   * @returns how many were adopted, are being stopped, and were dropped
   */
  adopt(saved: SavedSession[]): Promise<{ adopted: number; stopped: number; dropped: number }> {
    return takeOver(saved.filter((s) => !this.#table.has(s.id)), {
      table: this.#table,
      pool: this.#pool,
      spawner: this.#spawner,
      config: this.#config,
      map: this.#map,
      batch: this.#batch,
      now: this.#now,
      monotonic: this.#monotonic,
      adoptWaiting: (rec) => this.#warm.adopt(rec),
      watchReady: (rec) => this.#reaper.watch(rec),
      onExit: (rec, status) => this.#onExit(rec, status),
      resume: (rec, job, entry) => void this.#resume(rec, job, entry),
      end: (rec, reason) => this.#end(rec, reason),
      save: (durable) => this.#save(durable),
    });
  }

  /** Follows an adopted batch session that was not ready yet until it is. */
  async #resume(rec: SessionRecord, job: JobRef, saved: SavedJobSession): Promise<void> {
    try {
      rec.body = saved.body ?? {};
      const request = this.#templates.check(rec.body);
      await this.#batch!.resume(rec, request, job);
      await this.#finish(rec);
    } catch (err) {
      logger().warn("adopted session {id} (job {job}) did not become ready: {error}", {
        id: rec.id,
        job: job.id,
        error: publicMessage(err),
      });
      await this.#failed(rec, err);
    }
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

/** Milliseconds to a tenth, as `readyMs` is kept. */
function tenths(ms: number): number {
  return Math.round(ms * 10) / 10;
}
