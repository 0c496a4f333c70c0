/**
 * What `/proc` says about the processes the bench started: resident memory, open file
 * descriptors, and which processes carry the bench's marker in their environment (every
 * process the bench starts does, and so does everything those start: the launchers pass
 * their environment on to the sessions).
 *
 * @module
 */

/** The environment variable naming the bench run that started a process. */
export const RUN_VAR = "PVW_BENCH_RUN";
/** The environment variable naming which of the bench's programs a process belongs to. */
export const OWNER_VAR = "PVW_BENCH_OWNER";

/** Resident set size of a process, in bytes (0 when it is gone). */
export function rssBytes(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const m = status.match(/^VmRSS:\s+(\d+) kB/m);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Number of open file descriptors of a process (0 when it is gone). */
export function openFds(pid: number): number {
  try {
    let n = 0;
    for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) n++;
    return n;
  } catch {
    return 0;
  }
}

/** One process, as seen in `/proc`. */
export interface ProcInfo {
  /** Its pid. */
  pid: number;
  /** Its parent's pid. */
  ppid: number;
  /** Its state letter (`Z` for a zombie). */
  state: string;
  /** Its environment at exec (empty for zombies and kernel threads). */
  env: Map<string, string>;
}

function readProc(pid: number): ProcInfo | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const env = new Map<string, string>();
    let raw = "";
    try {
      raw = Deno.readTextFileSync(`/proc/${pid}/environ`);
    } catch {
      // a zombie, or gone
    }
    for (const entry of raw.split("\0")) {
      const eq = entry.indexOf("=");
      if (eq > 0 && entry.startsWith("PVW_BENCH_")) {
        env.set(entry.slice(0, eq), entry.slice(eq + 1));
      }
    }
    return { pid, ppid: Number(fields[1]), state: fields[0], env };
  } catch {
    return undefined;
  }
}

/** Every process on the machine. */
export function allProcesses(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const info = readProc(Number(entry.name));
    if (info) out.push(info);
  }
  return out;
}

/** The pids of live processes whose environment holds `RUN_VAR=run` (and the owner, if given). */
export function markedPids(run: string, owner?: string): number[] {
  return allProcesses()
    .filter((p) =>
      p.state !== "Z" && p.env.get(RUN_VAR) === run &&
      (owner === undefined || p.env.get(OWNER_VAR) === owner)
    )
    .map((p) => p.pid);
}

/** Processes that belong to a program: its descendants and those marked with its owner. */
export interface Family {
  /** Live processes, the program itself excluded. */
  live: number;
  /** Zombies among them. */
  zombies: number;
}

/**
 * Counts the processes a program started and has not reaped (sessions, zombies included).
 *
 * @param pid the program
 * @param run the bench run's marker
 * @param owner the program's owner marker
 * @returns its live and zombie processes
 */
export function family(pid: number, run: string, owner: string): Family {
  const procs = allProcesses();
  const children = new Map<number, number[]>();
  for (const p of procs) children.set(p.ppid, [...children.get(p.ppid) ?? [], p.pid]);
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const seen = new Set<number>();
  const visit = (id: number) => {
    for (const c of children.get(id) ?? []) {
      if (!seen.has(c)) {
        seen.add(c);
        visit(c);
      }
    }
  };
  visit(pid);
  for (const p of procs) {
    if (p.env.get(RUN_VAR) === run && p.env.get(OWNER_VAR) === owner && p.pid !== pid) {
      seen.add(p.pid);
    }
  }
  let live = 0;
  let zombies = 0;
  for (const id of seen) {
    if (byPid.get(id)?.state === "Z") zombies++;
    else live++;
  }
  return { live, zombies };
}
