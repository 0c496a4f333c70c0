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
import { closeSync, openSync } from "node:fs";
import process from "node:process";
import { LaunchError } from "./errors.ts";

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
  /** File that receives stdout and stderr; created (mode 0600) or truncated. */
  logFile: string;
}

/** A started process. */
export interface ProcessHandle {
  /** Its pid, which is also its process group id. */
  readonly pid: number;
  /** Settles when the process has exited and been reaped. */
  readonly exited: Promise<ExitStatus>;
}

/** The effects the session table needs from the operating system. */
export interface Spawner {
  /**
   * Starts a process in a new process group.
   *
   * @throws {LaunchError} with reason `spawn_error` when it cannot start
   */
  spawn(request: SpawnRequest): Promise<ProcessHandle>;
  /** Sends a signal to every process of the group; a group that is gone is no error. */
  signalGroup(pgid: number, signal: "SIGTERM" | "SIGKILL"): void;
  /** Whether any process of the group is still running (zombies count as gone). */
  groupAlive(pgid: number): boolean;
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

function spawnProcess(request: SpawnRequest): Promise<ProcessHandle> {
  const fd = openSync(request.logFile, "w", 0o600);
  return new Promise<ProcessHandle>((resolve, reject) => {
    let child;
    try {
      child = nodeSpawn(request.command, request.args, {
        cwd: request.cwd,
        env: request.env,
        stdio: ["ignore", fd, fd],
        detached: true,
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
      resolve({ pid: child.pid!, exited });
    });
    child.once("error", (err) => {
      if (child.pid !== undefined) return;
      closeSync(fd);
      reject(new LaunchError(describeSpawnError(request, err), "spawn_error"));
    });
  });
}

/**
 * Counts the processes of a group that are not zombies, from `/proc` (Deno lets only a
 * program with every permission read it; without, every member counts as live).
 */
function liveGroupMembers(pgid: number): number {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync("/proc")];
  } catch {
    return 1;
  }
  let count = 0;
  for (const entry of entries) {
    if (!entry.isDirectory || !/^\d+$/.test(entry.name)) continue;
    let stat: string;
    try {
      stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
    } catch {
      continue;
    }
    // The command name may hold spaces and parentheses: fields start after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) === pgid && fields[0] !== "Z" && fields[0] !== "X") count++;
  }
  return count;
}

/**
 * The real spawner, for Linux.
 *
 * @returns a {@linkcode Spawner} that starts real processes
 */
export function createProcessSpawner(): Spawner {
  return {
    spawn: spawnProcess,
    signalGroup(pgid, signal) {
      try {
        process.kill(-pgid, signal);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
      }
    },
    groupAlive(pgid) {
      try {
        process.kill(-pgid, 0);
      } catch {
        return false;
      }
      // kill() still finds a group whose members are zombies no init has reaped yet.
      return liveGroupMembers(pgid) > 0;
    },
  };
}
