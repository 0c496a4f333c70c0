/**
 * The real Slurm cluster `.ci/setup-slurm` runs on this machine (nodes n1, n2, n3, all on
 * 127.0.0.1): how a test finds it, runs its commands, waits for a job's state, drains a node,
 * cancels its jobs, and checks that no job and no process of a job is left behind.
 *
 * Tests name their jobs with {@link TEST_JOB_PREFIX} so that cleaning up never touches a job
 * someone else submitted. Slurm has no event stream for job states: waiting means polling
 * `squeue` (a few ms a call) with a deadline.
 *
 * @module
 */

import { existsSync, readFileSync } from "node:fs";
import { within } from "../integration/harness.ts";
import { Needs } from "./tools.ts";

/** The folder `.ci/setup-slurm` keeps the cluster in (config, state, logs). */
export const SLURM_DIR = "/var/lib/pvw-slurm";
/** The cluster's config: every Slurm command needs it in `SLURM_CONF`. */
export const SLURM_CONF = `${SLURM_DIR}/slurm.conf`;
/** The environment Slurm commands run with. */
export const SLURM_ENV: Record<string, string> = { SLURM_CONF };
/** The cluster's nodes (partition `viz`; `tiny` and `urgent` hold only n3). */
export const SLURM_NODES: readonly string[] = ["n1", "n2", "n3"];
/** The name prefix of every job a test submits. */
export const TEST_JOB_PREFIX = "pvwtest-";

const BIN = "/usr/bin";
const COMMANDS = ["sbatch", "squeue", "scancel", "scontrol", "sinfo"];

/** Whether the controller of the pid file is alive (no RPC: a dead one makes them hang). */
function controllerRunning(): boolean {
  try {
    const pid = readFileSync(`${SLURM_DIR}/slurmctld.pid`, "utf8").trim();
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "slurmctld";
  } catch {
    return false;
  }
}

/**
 * What the Slurm tests need. `Needs` reports every entry that is not an existing file as
 * missing, so a stopped cluster shows up as the description of what should be running.
 */
export const slurmNeeds: Needs = new Needs("Slurm tests", [
  ...COMMANDS.map((c) => `${BIN}/${c}`),
  SLURM_CONF,
  ...(existsSync(SLURM_CONF) && !controllerRunning() ? ["a running slurmctld"] : []),
]);

/**
 * What the tests that drain a node need besides the cluster: to be a Slurm admin, as root is
 * (`.ci/setup-slurm` runs the cluster as root; `scontrol update` refuses anyone else with
 * "Invalid user id").
 */
export const slurmAdminNeeds: Needs = new Needs("Slurm tests that drain a node", [
  ...slurmNeeds.missing,
  ...(Deno.uid() === 0 ? [] : ["root, the cluster's Slurm admin"]),
], "run them as root, with the cluster .ci/setup-slurm starts");

/** What a Slurm command printed and how it exited. */
export interface CommandOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a Slurm command against the test cluster; its stdin is `input` when given. */
export async function slurmCommand(
  command: string,
  args: string[],
  input?: string,
): Promise<CommandOutput> {
  const child = new Deno.Command(`${BIN}/${command}`, {
    args,
    env: SLURM_ENV,
    stdin: input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    // An unreachable controller makes commands retry for up to ~20 s before failing.
    signal: AbortSignal.timeout(40_000),
  }).spawn();
  if (input !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(input));
    await writer.close();
  }
  const out = await child.output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** Runs a Slurm command and returns its stdout; throws with its stderr when it fails. */
async function run(command: string, args: string[], input?: string): Promise<string> {
  const out = await slurmCommand(command, args, input);
  if (out.code !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited with ${out.code}: ${out.stderr.trim()}`);
  }
  return out.stdout;
}

/**
 * Submits a batch job with `sbatch --parsable`, the script on stdin when given (it must start
 * with `#!`), else `args` must hold `--wrap`. Returns the job id.
 */
export async function sbatch(args: string[], script?: string): Promise<string> {
  const out = await run("sbatch", ["--parsable", ...args], script);
  return out.trim().split(";")[0]; // "id" or "id;cluster"
}

/** A job as `squeue` shows it. */
export interface SlurmJob {
  id: string;
  /** PENDING, RUNNING, COMPLETING, COMPLETED, CANCELLED, FAILED, TIMEOUT, ... */
  state: string;
  /** The node list, empty while pending. */
  nodes: string;
  /** Why it waits (Resources, Priority, ...) or ended (NonZeroExitCode, TimeLimit, ...). */
  reason: string;
  name: string;
}

/**
 * Lists jobs with `squeue`: by default the live ones (pending, running, completing); with
 * `all`, also those that ended less than MinJobAge (300 s) ago.
 */
export async function listJobs(options: { ids?: string[]; all?: boolean } = {}): Promise<
  SlurmJob[]
> {
  if (options.ids?.length === 0) return [];
  const args = ["-h", "-o", "%i|%T|%N|%r|%j"];
  if (options.all) args.push("-t", "all");
  if (options.ids) args.push("-j", options.ids.join(","));
  const out = await slurmCommand("squeue", args);
  // A single id Slurm no longer knows is an error; in a list of several it is just left out.
  if (out.code !== 0 && /Invalid job id/.test(out.stderr)) return [];
  if (out.code !== 0) throw new Error(`squeue exited with ${out.code}: ${out.stderr.trim()}`);
  return out.stdout.split("\n").filter((l) => l).map((line) => {
    const [id, state, nodes, reason, ...name] = line.split("|");
    return { id, state, nodes, reason, name: name.join("|") };
  });
}

/**
 * Polls `probe` every 100 ms until it returns a value other than undefined; fails after `ms`
 * naming `what` and what `seen` says was last seen.
 */
async function pollUntil<T>(
  ms: number,
  what: string,
  seen: () => string,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  let stop = false;
  const loop = async () => {
    while (!stop) {
      const value = await probe();
      if (value !== undefined) return value;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("stopped");
  };
  const running = loop();
  try {
    return await within(ms, what, running);
  } catch (err) {
    stop = true;
    await running.catch(() => {});
    throw new Error(`${(err as Error).message}; last seen: ${seen()}`);
  }
}

/**
 * Waits until squeue shows job `id` (ended jobs included) such that `test` holds, failing
 * after `ms` with `what` and the job as last seen.
 *
 * @returns the job as squeue last showed it
 */
export async function waitForJob(
  id: string,
  what: string,
  test: (job: SlurmJob) => boolean,
  ms = 30_000,
): Promise<SlurmJob> {
  let last: SlurmJob | undefined;
  return await pollUntil(
    ms,
    `job ${id} ${what}`,
    () => JSON.stringify(last ?? "none"),
    async () => {
      [last] = await listJobs({ ids: [id], all: true });
      return last && test(last) ? last : undefined;
    },
  );
}

/** Waits until job `id` is in one of `states` (RUNNING, CANCELLED, ...). */
export async function waitForJobState(
  id: string,
  states: string[],
  ms = 30_000,
): Promise<SlurmJob> {
  return await waitForJob(id, `in ${states.join("|")}`, (j) => states.includes(j.state), ms);
}

/** Waits until `file` (a job's output) matches `pattern`; returns the match. */
export async function waitForOutput(file: string, pattern: RegExp, ms = 30_000): Promise<
  RegExpMatchArray
> {
  let text = "";
  return await pollUntil(ms, `${pattern} in ${file}`, () => JSON.stringify(text), async () => {
    text = await Deno.readTextFile(file).catch(() => "");
    return text.match(pattern) ?? undefined;
  });
}

/** Each node's state as `sinfo` shows it (`idle`, `mix`, `alloc`, `drain`, `idle*`, ...). */
export async function nodeStates(): Promise<Map<string, string>> {
  const out = await run("sinfo", ["-h", "-N", "-o", "%N %t"]);
  return new Map(out.trim().split("\n").map((l) => l.split(" ") as [string, string]));
}

const USABLE = /^(idle|mix|alloc|comp)$/; // a trailing * means not responding

/** Waits until `nodes` all take jobs (not drained, down or unresponsive). */
export async function waitForNodesUsable(nodes = SLURM_NODES, ms = 15_000): Promise<void> {
  let states = new Map<string, string>();
  await pollUntil(ms, `nodes ${nodes} usable`, () => JSON.stringify([...states]), async () => {
    states = await nodeStates();
    return nodes.every((n) => USABLE.test(states.get(n) ?? "")) ? true : undefined;
  });
}

/** Drains `node` (running jobs go on, no new job lands there) and waits until it shows. */
export async function drainNode(node: string, reason = "pvw test"): Promise<void> {
  await run("scontrol", ["update", `nodename=${node}`, "state=drain", `reason=${reason}`]);
  let state = "";
  await pollUntil(10_000, `${node} drained`, () => state, async () => {
    state = (await nodeStates()).get(node) ?? "";
    return /^(drain|drng)/.test(state) ? true : undefined;
  });
}

/** Returns a drained node to service and waits until it answers again. */
export async function resumeNode(node: string): Promise<void> {
  await run("scontrol", ["update", `nodename=${node}`, "state=resume"]);
  await waitForNodesUsable([node]);
}

/**
 * Cancels jobs and waits until Slurm no longer lists them as live: past COMPLETING, their
 * processes are gone (about 3 s after scancel; 30 s, KillWait, if the script ignores SIGTERM).
 */
export async function cancelJobs(ids: string[], ms = 45_000): Promise<void> {
  if (ids.length === 0) return;
  await run("scancel", ids);
  let live: SlurmJob[] = [];
  await pollUntil(ms, `jobs ${ids} to end`, () => JSON.stringify(live), async () => {
    live = await listJobs({ ids });
    return live.length === 0 ? true : undefined;
  });
}

/** Cancels every live job whose name starts with `prefix`, and waits until they are gone. */
export async function cancelTestJobs(prefix = TEST_JOB_PREFIX): Promise<void> {
  const jobs = await listJobs();
  await cancelJobs(jobs.filter((j) => j.name.startsWith(prefix)).map((j) => j.id));
}

/** A process that belongs to a job, found in /proc (all nodes run on this machine). */
export interface JobProcess {
  pid: number;
  job: string;
  cmdline: string;
}

/**
 * The processes of jobs `ids`: those whose environment holds `SLURM_JOB_ID=<id>` (the job
 * script and everything it started, wherever it moved), and the job's `slurmstepd`.
 */
export function jobProcesses(ids: string[]): JobProcess[] {
  const wanted = new Set(ids);
  const found: JobProcess[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).replaceAll("\0", " ");
      const step = cmdline.match(/^slurmstepd: \[(\d+)\./)?.[1];
      const env = Deno.readTextFileSync(`/proc/${entry.name}/environ`).split("\0");
      const job = step ?? env.find((v) => v.startsWith("SLURM_JOB_ID="))?.slice(13);
      if (job && wanted.has(job)) found.push({ pid: Number(entry.name), job, cmdline });
    } catch {
      // it ended while we looked, or it is not ours to read
    }
  }
  return found;
}

/** Waits until the processes of jobs `ids` satisfy `test`; returns them. */
export async function waitForJobProcesses(
  ids: string[],
  what: string,
  test: (processes: JobProcess[]) => boolean,
  ms = 10_000,
): Promise<JobProcess[]> {
  let last: JobProcess[] = [];
  return await pollUntil(ms, `processes of jobs ${ids} ${what}`, () => JSON.stringify(last), () => {
    last = jobProcesses(ids);
    return Promise.resolve(test(last) ? last : undefined);
  });
}

/** Fails unless no job of `ids` is live and no process of theirs runs on any node. */
export async function assertNothingLeft(ids: string[]): Promise<void> {
  const live = await listJobs({ ids });
  const processes = jobProcesses(ids);
  if (live.length > 0 || processes.length > 0) {
    throw new Error(
      `left behind: jobs ${JSON.stringify(live)}, processes ${JSON.stringify(processes)}`,
    );
  }
}
