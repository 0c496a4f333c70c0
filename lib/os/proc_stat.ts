/**
 * What `/proc/<pid>/stat` says of a process: its state, its process group and its start
 * time (which tells it from a later process with the same pid). Deno lets only a program
 * with every permission read `/proc`.
 *
 * @module
 */

/** The fields of `/proc/<pid>/stat` the launcher uses. */
export interface ProcStat {
  /** One letter: `R`, `S`, `D`, `Z` (zombie), `X` (dead), ... */
  state: string;
  /** Its process group. */
  pgid: number;
  /** When it started, in clock ticks since boot, as text. */
  startTime: string;
}

/**
 * Reads `/proc/<pid>/stat`; the command name may hold spaces and parentheses.
 *
 * @param pid the process
 * @returns its state, group and start time, or undefined when no such process exists
 */
export function readStat(pid: number | string): ProcStat | undefined {
  let stat: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields after the name: state(0) ppid(1) pgrp(2) ... starttime(19).
  return { state: fields[0], pgid: Number(fields[2]), startTime: fields[19] };
}

/**
 * Whether a process read by {@linkcode readStat} runs: it exists and is no zombie.
 *
 * @param stat what `/proc` says of it
 * @returns true when it runs
 */
export function running(stat: ProcStat | undefined): stat is ProcStat {
  return stat !== undefined && stat.state !== "Z" && stat.state !== "X";
}

/**
 * The pids of every process, from the names of `/proc`.
 *
 * @returns the pids, or none when `/proc` cannot be read
 */
export function allPids(): number[] {
  const pids: number[] = [];
  try {
    for (const entry of Deno.readDirSync("/proc")) {
      if (entry.isDirectory && /^\d+$/.test(entry.name)) pids.push(Number(entry.name));
    }
  } catch {
    // no /proc: nothing to be found there
  }
  return pids;
}
