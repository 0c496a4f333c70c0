/**
 * Finding the processes that write to the files of a folder, from `/proc`: a session's process
 * writes its stdout and stderr straight into `<log folder>/<id>.log`, so whatever a state file
 * says or fails to say, `/proc/<pid>/fd/1` and `fd/2` name the sessions that run. A launcher
 * that died in the middle of a burst of launches, or whose state file was damaged, leaves
 * sessions that no state file names; this is how the next one finds them.
 *
 * Only what the launcher's user may look at is found (the kernel hides the descriptors of
 * other users' processes), which is all a session can be.
 *
 * @module
 */

import { realpathSync } from "node:fs";
import { basename, dirname } from "node:path";
import { allPids, readStat, running } from "./proc_stat.ts";

/** A process group some of whose processes write to a file of the folder. */
export interface LogWriterGroup {
  /** The process group id: the pid of its leader, the session's first process. */
  pgid: number;
  /** The name, in the folder, of the file its processes write to. */
  name: string;
  /** The leader's start time, when the leader still runs (a pid reused since is not it). */
  identity?: string;
  /** The pids of its processes that write to the file. */
  pids: number[];
  /**
   * The Slurm job its processes run in (their `SLURM_JOB_ID`), when it is not the launcher's
   * own: such a group is the job's, and Slurm's to end.
   */
  job?: string;
}

/** The Slurm job a process runs in, unless it is the launcher's own (or none). */
function jobOf(pid: number): string | undefined {
  let environ: string;
  try {
    environ = Deno.readTextFileSync(`/proc/${pid}/environ`);
  } catch {
    return undefined; // gone, or another user's
  }
  const entry = environ.split("\0").find((e) => e.startsWith("SLURM_JOB_ID="));
  const job = entry?.slice("SLURM_JOB_ID=".length);
  return job && job !== Deno.env.get("SLURM_JOB_ID") ? job : undefined;
}

/** Where a process's stdout and stderr go, as `/proc` names them. */
function outputsOf(pid: number): string[] {
  const out: string[] = [];
  for (const fd of [1, 2]) {
    try {
      // A file removed since it was opened still names its folder, marked "(deleted)".
      out.push(Deno.readLinkSync(`/proc/${pid}/fd/${fd}`).replace(/ \(deleted\)$/, ""));
    } catch {
      // closed, another user's process, or gone
    }
  }
  return out;
}

/**
 * Finds the process groups whose processes write (stdout or stderr) to a file directly in
 * `folder`, and whose leader is one of those processes or is gone: a group led by a process
 * that writes elsewhere is not a session's, whatever its members do.
 *
 * @param folder the folder, such as the session log folder
 * @param exclude process groups not to report (the adopted sessions'); this launcher's own
 *   group is never reported
 * @returns one entry per process group, in no particular order
 */
export function findLogWriterGroups(
  folder: string,
  exclude: ReadonlySet<number> = new Set(),
): LogWriterGroup[] {
  let real: string;
  try {
    real = realpathSync(folder);
  } catch {
    return []; // no folder, no writers
  }
  const groups = new Map<number, LogWriterGroup>();
  const own = readStat("self")?.pgid;
  for (const pid of allPids()) {
    const name = outputsOf(pid).find((target) => dirname(target) === real);
    if (name === undefined) continue;
    const stat = readStat(pid);
    if (!running(stat) || stat.pgid <= 1 || stat.pgid === own || exclude.has(stat.pgid)) continue;
    const group = groups.get(stat.pgid) ??
      { pgid: stat.pgid, name: basename(name), pids: [] };
    group.pids.push(pid);
    group.job ??= jobOf(pid);
    if (pid === stat.pgid) Object.assign(group, { identity: stat.startTime, name: basename(name) });
    groups.set(stat.pgid, group);
  }
  return [...groups.values()].filter((g) => g.identity !== undefined || !running(readStat(g.pgid)));
}
