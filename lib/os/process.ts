/**
 * Spawning session processes and signalling their process groups.
 *
 * A session's stdout and stderr go straight into its log file: the child writes the file
 * itself, so the log is complete and the process is not tied to the launcher's pipes (it
 * keeps running if the launcher dies). `Deno.Command` can only pipe, inherit or discard a
 * child's output, so the real spawner uses `node:child_process`, which can hand a file
 * descriptor to the child. Each child leads its own process group (`detached`), so the
 * whole tree it starts can be signalled at once.
 *
 * @module
 */

import { spawn as nodeSpawn } from "node:child_process";
import { closeSync } from "node:fs";
import process from "node:process";
import { LaunchError } from "../errors/mod.ts";
import { allPids, readStat, running } from "./proc_stat.ts";
import { openForWriting } from "./regular_file.ts";

/** How a process ended. */
export interface ExitStatus {
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  /** Name of the signal that ended it, or null. */
  signal: string | null;
}

/** What to start. */
export interface SpawnRequest {
  /** The executable (a path, or a name looked up in `PATH`). */
  command: string;
  /** Arguments, passed as they are: no shell is involved. */
  args: string[];
  /** Working directory; the launcher's own when undefined. */
  cwd?: string;
  /** The complete environment of the child. */
  env: Record<string, string>;
  /**
   * File that receives stdout and stderr; created (mode 0600) or emptied, opened to append. A
   * symbolic link, a hard link or anything but a regular file at this path is refused.
   */
  logFile: string;
}

/** A started process. */
export interface ProcessHandle {
  /** Its pid, which is also its process group id. */
  readonly pid: number;
  /** Settles when the process has exited and been reaped. */
  readonly exited: Promise<ExitStatus>;
  /** What tells it from a later process with the same pid (its start time), when known. */
  readonly identity?: string;
}

/** The effects the session table needs from the operating system. */
export interface Spawner {
  /**
   * Starts a process in a new process group.
   *
   * @throws {LaunchError} with reason `spawn_error` when it cannot start
   */
  spawn(request: SpawnRequest): Promise<ProcessHandle>;
  /**
   * Sends a signal to every process of the group; a group that is gone is no error. With
   * `identity`, a group whose leader's pid now belongs to another process is left alone.
   *
   * @throws {RangeError} for a pgid below 2: `kill()` would take 0 for the launcher's own
   *   group and -1 for every process it may signal
   */
  signalGroup(pgid: number, signal: "SIGTERM" | "SIGKILL", identity?: string): void;
  /** Whether any process of the group is still running (zombies count as gone). */
  groupAlive(pgid: number): boolean;
  /**
   * What tells a process apart from a later one with the same pid: its start time, or
   * undefined when no such process runs.
   */
  identity(pid: number): string | undefined;
  /**
   * Watches a process that is not this program's child (a session adopted after a restart).
   *
   * @returns a handle whose `exited` settles once it is gone, or undefined unless a process
   *   with that pid (above 1) and identity runs and leads its own process group, as every
   *   session's does
   */
  adopt(pid: number, identity: string): ProcessHandle | undefined;
  /** Stops watching adopted processes. */
  close(): void;
}

function describeSpawnError(request: SpawnRequest, err: NodeJS.ErrnoException): string {
  if (err.code === "ENOENT") {
    return request.cwd && !existsDir(request.cwd)
      ? `working directory "${request.cwd}" does not exist`
      : `command "${request.command}" was not found`;
  }
  if (err.code === "EACCES") return `command "${request.command}" is not executable`;
  return `command "${request.command}" could not start: ${err.message}`;
}

function existsDir(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

function isExecutableFile(path: string): boolean | undefined {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return undefined;
  }
}

/**
 * Finds the file a command names, as `execvp` would: a name with a slash as it is (relative
 * to the working directory), any other in each folder of `PATH`.
 *
 * @throws {LaunchError} `spawn_error` when it is missing or not executable
 */
function resolveCommand(request: SpawnRequest): string {
  const { command, env } = request;
  const fail = (why: string) => new LaunchError(`command "${command}" ${why}`, "spawn_error");
  if (request.cwd && !existsDir(request.cwd)) {
    throw new LaunchError(`working directory "${request.cwd}" does not exist`, "spawn_error");
  }
  if (command.includes("/")) {
    const path = command.startsWith("/") ? command : `${request.cwd ?? Deno.cwd()}/${command}`;
    const ok = isExecutableFile(path);
    if (ok === undefined) throw fail("was not found");
    if (!ok) throw fail("is not executable");
    return path;
  }
  let found: string | undefined;
  for (const dir of (env.PATH ?? "/usr/local/bin:/usr/bin:/bin").split(":")) {
    const path = `${dir || "."}/${command}`;
    const ok = isExecutableFile(path);
    if (ok) return path;
    if (ok === false) found ??= path;
  }
  throw fail(found ? "is not executable" : "was not found");
}

/**
 * Starts a process in a session and process group of its own. With `setsid` at hand the
 * child is spawned plainly and `setsid` (which keeps the pid) makes the new group: Node's
 * `detached` forks the whole launcher first, which costs milliseconds per spawn once the
 * launcher holds many sessions.
 */
function spawnProcess(request: SpawnRequest, setsid: string | undefined): Promise<ProcessHandle> {
  let file: string;
  try {
    file = resolveCommand(request);
  } catch (err) {
    return Promise.reject(err);
  }
  let fd: number;
  try {
    fd = openForWriting(request.logFile, 0o600);
  } catch (err) {
    return Promise.reject(
      new LaunchError(`cannot write the session's log: ${(err as Error).message}`, "spawn_error"),
    );
  }
  const [command, args] = setsid ? [setsid, ["--", file, ...request.args]] : [file, request.args];
  return new Promise<ProcessHandle>((resolve, reject) => {
    let child;
    try {
      child = nodeSpawn(command, args, {
        cwd: request.cwd,
        env: request.env,
        stdio: ["ignore", fd, fd],
        detached: !setsid,
      });
    } catch (err) {
      closeSync(fd);
      reject(new LaunchError(describeSpawnError(request, err as Error), "spawn_error"));
      return;
    }
    const exited = new Promise<ExitStatus>((done) => {
      child.once("exit", (code, signal) => done({ code, signal }));
    });
    child.once("spawn", () => {
      closeSync(fd);
      resolve({ pid: child.pid!, exited, identity: readStat(child.pid!)?.startTime });
    });
    child.once("error", (err) => {
      if (child.pid !== undefined) return;
      closeSync(fd);
      reject(new LaunchError(describeSpawnError(request, err), "spawn_error"));
    });
  });
}

/**
 * Watches processes that are not this program's children: no exit event comes for them, so
 * `/proc` is read twice a second while any is watched.
 */
class AdoptedProcesses {
  #watched = new Map<number, { identity: string; done: (s: ExitStatus) => void }>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #soon: ReturnType<typeof setTimeout> | undefined;
  #pause = 0;

  adopt(pid: number, identity: string): ProcessHandle | undefined {
    if (!isGroupId(pid)) return undefined;
    const stat = readStat(pid);
    if (!running(stat) || stat.startTime !== identity || stat.pgid !== pid) return undefined;
    const exited = new Promise<ExitStatus>((done) => this.#watched.set(pid, { identity, done }));
    this.#timer ??= setInterval(() => this.#check(), 500);
    return { pid, exited, identity };
  }

  /** A watched process was signalled: look again soon, backing off from 5 to 100 ms. */
  expedite(pid: number): void {
    if (!this.#watched.has(pid) || this.#soon !== undefined) return;
    this.#pause = 5;
    const again = () => {
      this.#soon = undefined;
      this.#check();
      if (this.#watched.size === 0) return;
      this.#pause = Math.min(this.#pause * 2, 100);
      if (this.#pause < 100) this.#soon = setTimeout(again, this.#pause);
    };
    this.#soon = setTimeout(again, this.#pause);
  }

  #check(): void {
    for (const [pid, w] of this.#watched) {
      const stat = readStat(pid);
      if (running(stat) && stat.startTime === w.identity) continue;
      this.#watched.delete(pid);
      w.done({ code: null, signal: null });
    }
    if (this.#watched.size === 0) this.close();
  }

  close(): void {
    clearInterval(this.#timer);
    clearTimeout(this.#soon);
    this.#timer = undefined;
    this.#soon = undefined;
  }
}

/**
 * Counts the processes of a group that are not zombies, from `/proc` (Deno lets only a
 * program with every permission read it; without, every member counts as live).
 */
function liveGroupMembers(pgid: number): number {
  const pids = allPids();
  if (pids.length === 0) return 1;
  let count = 0;
  for (const pid of pids) {
    const stat = readStat(pid);
    if (running(stat) && stat.pgid === pgid) count++;
  }
  return count;
}

/** Whether a number can name a session's process group: 0 and 1 never can. */
function isGroupId(pgid: number): boolean {
  return Number.isSafeInteger(pgid) && pgid > 1;
}

function checkGroupId(pgid: number): void {
  if (!isGroupId(pgid)) {
    throw new RangeError(`${pgid} is not a session's process group; it is never signalled`);
  }
}

/** Sends a signal; false when no such process or group exists. */
function kill(pid: number, signal: "SIGTERM" | "SIGKILL" | 0): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw err;
  }
}

/**
 * The real spawner, for Linux.
 *
 * @returns a {@linkcode Spawner} that starts real processes
 */
export function createProcessSpawner(): Spawner {
  const adopted = new AdoptedProcesses();
  const setsid = ["/usr/bin/setsid", "/bin/setsid"].find((p) => isExecutableFile(p));
  return {
    spawn: (request) => spawnProcess(request, setsid),
    identity: (pid) => {
      const stat = readStat(pid);
      return running(stat) ? stat.startTime : undefined;
    },
    adopt: (pid, identity) => adopted.adopt(pid, identity),
    close: () => adopted.close(),
    signalGroup(pgid, signal, identity) {
      checkGroupId(pgid);
      // The leader gone and its pid taken by a new process: the kernel reuses no pid while
      // its group has members, so that one leads another group, which is not ours.
      const leader = identity === undefined ? undefined : readStat(pgid);
      if (running(leader) && leader.startTime !== identity) return;
      // Until `setsid` has run (well under a millisecond after the spawn) there is no group
      // yet: the leader alone is signalled then.
      if (!kill(-pgid, signal)) kill(pgid, signal);
      adopted.expedite(pgid);
    },
    groupAlive(pgid) {
      checkGroupId(pgid);
      if (!kill(-pgid, 0)) return running(readStat(pgid));
      if (running(readStat(pgid))) return true;
      // kill() still finds a group whose members are zombies no init has reaped yet.
      return liveGroupMembers(pgid) > 0;
    },
  };
}
