/**
 * Stand-ins for the session table's effects: processes, log files and the map file exist
 * only in the test, and the test decides what each one does.
 *
 * @module
 */

import type { LauncherConfig } from "../lib/config/mod.ts";
import { LaunchError } from "../lib/errors/mod.ts";
import type { LaunchOutcome } from "../lib/http/mod.ts";
import type { Metrics, MetricsSnapshot } from "../lib/ops/mod.ts";
import type {
  ChunkHandler,
  ExitStatus,
  Follow,
  LogFollower,
  ProcessHandle,
  SessionMap,
  Spawner,
  SpawnRequest,
} from "../lib/os/mod.ts";

/** What a fake command does once spawned: print, exit, or nothing (it runs until signalled). */
export type FakeProgram = (process: FakeProcess) => void;

/** A process that exists only in the test. */
export class FakeProcess implements ProcessHandle {
  readonly exited: Promise<ExitStatus>;
  #exit!: (s: ExitStatus) => void;
  done = false;
  /** Everything the process printed, stdout and stderr together, as its log file would hold. */
  output = "";
  constructor(readonly pid: number, readonly request: SpawnRequest, readonly ignoresTerm: boolean) {
    this.exited = new Promise((r) => this.#exit = r);
  }
  /** Models the process writing to its log. */
  print(text: string): void {
    this.output += text;
  }
  exit(status: ExitStatus): void {
    if (this.done) return;
    this.done = true;
    this.#exit(status);
  }
}

/**
 * A spawner whose processes are {@linkcode FakeProcess}es. Without `programs` any command
 * starts a process that runs until signalled; with them, only the listed commands exist (any
 * other is "not found", as on a real `PATH`) and each runs its program when spawned.
 */
export class FakeSpawner implements Spawner {
  processes: FakeProcess[] = [];
  signals: [number, string][] = [];
  failWith: LaunchError | undefined;
  ignoreTerm = false;
  #next = 1000;
  #programs: Record<string, FakeProgram> | undefined;
  constructor(programs?: Record<string, FakeProgram>) {
    this.#programs = programs;
  }
  spawn(request: SpawnRequest): Promise<ProcessHandle> {
    if (this.failWith) return Promise.reject(this.failWith);
    const programs = this.#programs;
    if (programs && !Object.hasOwn(programs, request.command)) {
      return Promise.reject(
        new LaunchError(`command "${request.command}" was not found`, "spawn_error"),
      );
    }
    const p = new FakeProcess(this.#next++, request, this.ignoreTerm);
    this.processes.push(p);
    programs?.[request.command](p);
    return Promise.resolve(p);
  }
  signalGroup(pgid: number, signal: "SIGTERM" | "SIGKILL"): void {
    if (pgid <= 1) throw new RangeError(`${pgid} is not a session's process group`);
    this.signals.push([pgid, signal]);
    const p = this.processes.find((p) => p.pid === pgid);
    if (p && (signal === "SIGKILL" || !p.ignoresTerm)) p.exit({ code: null, signal });
  }
  groupAlive(pgid: number): boolean {
    const p = this.processes.find((p) => p.pid === pgid);
    return p !== undefined && !p.done;
  }
  identity(pid: number): string | undefined {
    return this.groupAlive(pid) ? `started-${pid}` : undefined;
  }
  adopt(pid: number, identity: string): ProcessHandle | undefined {
    if (this.identity(pid) !== identity) return undefined;
    return this.processes.find((p) => p.pid === pid);
  }
  close(): void {}
}

/** A follower whose files are written by the test through {@linkcode FakeFollower.write}. */
export class FakeFollower implements LogFollower {
  handlers = new Map<string, ChunkHandler>();
  follow(path: string, onChunk: ChunkHandler): Follow {
    this.handlers.set(path, onChunk);
    return { drain: () => Promise.resolve(), close: () => this.handlers.delete(path) };
  }
  write(path: string, text: string): void {
    this.handlers.get(path)?.(new TextEncoder().encode(text));
  }
  close(): void {}
}

/**
 * A map file held in memory: session id → `host:port`. A test can hold its writes (each
 * call settles once `release()` is called) or make them fail.
 */
export class FakeMap implements SessionMap {
  lines = new Map<string, string>();
  #gate: PromiseWithResolvers<void> | undefined;
  /** What every write throws while set. */
  failWith: Error | undefined;
  /** Calls made while held, as `set id` or `delete id`. */
  held: string[] = [];
  set(id: string, target: string): Promise<void> {
    this.lines.set(id, target);
    return this.#written(`set ${id}`);
  }
  delete(id: string): Promise<void> {
    this.lines.delete(id);
    return this.#written(`delete ${id}`);
  }
  /** Holds every write until {@linkcode FakeMap.release}. */
  hold(): void {
    this.#gate ??= Promise.withResolvers();
  }
  /** Lets the held writes (and later ones) through. */
  release(): void {
    this.#gate?.resolve();
    this.#gate = undefined;
    this.held = [];
  }
  async #written(call: string): Promise<void> {
    if (this.#gate) {
      this.held.push(call);
      await this.#gate.promise;
    }
    if (this.failWith) throw this.failWith;
  }
}

/** A complete config for unit tests: one app `viz`, three ports; `overrides` replace keys. */
export function testConfig(overrides: Partial<LauncherConfig> = {}): LauncherConfig {
  return {
    file: "/etc/launcher.config",
    format: "spec",
    listen: { hostname: "127.0.0.1", port: 0 },
    endpoint: "/paraview",
    logDir: "/var/log/pvw",
    sessionUrl: "ws://localhost:8080/proxy/$id",
    readyLines: ["Starting factory"],
    timeoutMs: 10_000,
    stopGraceMs: 50,
    maxSessions: 10,
    resources: [{ host: "localhost", first: 9001, last: 9003 }],
    properties: { python_exec: "/opt/pvpython" },
    apps: {
      viz: {
        name: "viz",
        cmd: ["$python_exec", "--port", "$port", "--authKey", "${secret}", "--node", "$node"],
        env: { OMP_NUM_THREADS: "2" },
        readyLines: ["Starting factory"],
        timeoutMs: 10_000,
        wsPath: "/ws",
        warm: 0,
      },
    },
    fields: [],
    sessionData: {},
    sanitize: {},
    unprovided: "refuse",
    stateFile: "/var/log/pvw/pvw-launcher-state.json",
    keepSessions: false,
    dashboardPath: "/_dashboard",
    allowedOrigins: [],
    headerTimeoutMs: 10_000,
    keepAliveTimeoutMs: 30_000,
    trustedProxies: ["127.0.0.0/8", "::1"],
    maxLogBytes: 16 * 1024 * 1024,
    ...overrides,
  };
}

/** Metrics that count nothing, for handlers whose metrics a test does not read. */
export class NullMetrics implements Metrics {
  launched(_application: string, _outcome: LaunchOutcome, _readySeconds?: number): void {}
  ended(_application: string, _reason: string): void {}
  render(_snapshot: MetricsSnapshot): string {
    return "";
  }
}
