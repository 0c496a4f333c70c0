/**
 * A Slurm controller that exists only in the test: it answers `sbatch`, `squeue`, `scancel`
 * and `scontrol show node` as the real commands do (same output formats, exit codes and
 * error texts, checked against `tests/testdata/cluster/slurm.json`), over a cluster shaped
 * like the one of `.ci/setup-slurm`: partition `viz` on n1-n3 (8 CPUs each, two GPUs on n1,
 * least-loaded node first), `tiny` on n3 with one CPU in use at a time and a 10-minute
 * MaxTime.
 *
 * Jobs do not run anything. A job whose command ends in `exit N` exits with N as soon as it
 * starts; any other runs until cancelled or until the test calls {@linkcode FakeSlurm.exit}.
 * A cancelled running job shows COMPLETING to one `squeue`, then CANCELLED, as Slurm does
 * while it kills the processes.
 *
 * @module
 */

import type { CommandResult, CommandRunner, RunOptions } from "../../lib/cluster/mod.ts";

interface Node {
  name: string;
  cpus: number;
  gpus: number;
  drained: boolean;
}

interface Partition {
  name: string;
  nodes: string[];
  maxMinutes: number;
  maxCpusPerNode: number;
}

/** A job the fake controller holds. */
export interface FakeJob {
  id: number;
  name: string;
  partition: string;
  state: string;
  reason: string;
  exitStatus: number;
  nodes: string[];
  cpus: number;
  gpus: number;
  nodeCount: number;
  minutes: number;
  priority: number;
  argv: string[];
  nodelist?: string;
  /** The state it takes once a COMPLETING job has been reported. */
  then?: string;
}

const ok = (stdout = ""): CommandResult => ({ code: 0, stdout, stderr: "", timedOut: false });
const fail = (code: number, stderr: string): CommandResult => ({
  code,
  stdout: "",
  stderr: `${stderr}\n`,
  timedOut: false,
});
const UNREACHABLE = "Unable to contact slurm controller (connect failure)";

/** The value of `--name=value` among `args`. */
function option(args: readonly string[], name: string): string | undefined {
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

/** The argv of a batch script's `exec` line (arguments single-quoted, `'` as `'\''`). */
export function scriptArgv(script: string): string[] {
  const line = script.split("\n").find((l) => l.startsWith("exec ")) ?? "";
  return [...line.slice(5).matchAll(/'((?:[^']|'\\'')*)'/g)].map((m) =>
    m[1].replaceAll(`'\\''`, "'")
  );
}

/** Slurm's compact node list: `n1`, `n[1-2]`, `n[1,3]`. */
function compact(nodes: string[]): string {
  if (nodes.length <= 1) return nodes.join(",");
  const numbers = nodes.map((n) => Number(n.slice(1))).sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < numbers.length; i++) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j] + 1) j++;
    parts.push(i === j ? `${numbers[i]}` : `${numbers[i]}-${numbers[j]}`);
    i = j;
  }
  return `n[${parts.join(",")}]`;
}

/** A time limit as squeue writes it (`1:00`, `20:00`, `1:00:00`, `UNLIMITED`). */
function timeLimit(minutes: number): string {
  if (!Number.isFinite(minutes)) return "UNLIMITED";
  const h = Math.floor(minutes / 60), m = minutes % 60;
  return h === 0 ? `${m}:00` : `${h}:${String(m).padStart(2, "0")}:00`;
}

/** A fake Slurm controller and its commands. */
export class FakeSlurm implements CommandRunner {
  /** Whether the controller answers; when false every command fails as the real ones do. */
  reachable = true;
  /** Every command run: its name and arguments. */
  readonly calls: { command: string; args: string[]; env?: Record<string, string> }[] = [];
  readonly jobs = new Map<number, FakeJob>();
  readonly #nodes = new Map<string, Node>([
    ["n1", { name: "n1", cpus: 8, gpus: 2, drained: false }],
    ["n2", { name: "n2", cpus: 8, gpus: 0, drained: false }],
    ["n3", { name: "n3", cpus: 8, gpus: 0, drained: false }],
  ]);
  readonly #partitions = new Map<string, Partition>([
    ["viz", { name: "viz", nodes: ["n1", "n2", "n3"], maxMinutes: Infinity, maxCpusPerNode: 8 }],
    ["tiny", { name: "tiny", nodes: ["n3"], maxMinutes: 10, maxCpusPerNode: 1 }],
  ]);
  #nextId = 1;

  /** {@inheritDoc CommandRunner.run} */
  run(command: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    this.calls.push({ command, args: [...args], ...(options.env ? { env: options.env } : {}) });
    const handlers: Record<string, () => CommandResult> = {
      sbatch: () => this.#sbatch(args, options.stdin ?? ""),
      squeue: () => this.#squeue(args),
      scancel: () => this.#scancel(args),
      scontrol: () => this.#scontrol(args),
    };
    const handler = handlers[command];
    if (!handler) return Promise.reject(new Error(`fake Slurm has no command ${command}`));
    return Promise.resolve(handler());
  }

  /** Ends a running job's command with `code`, as if the app exited. */
  exit(id: number, code: number): void {
    const job = this.jobs.get(id);
    if (!job || job.state !== "RUNNING") throw new Error(`job ${id} is not running`);
    this.#end(job, code === 0 ? "COMPLETED" : "FAILED", code << 8);
    this.#schedule();
  }

  /** Forgets a job, as the controller does MinJobAge after its end. */
  forget(id: number): void {
    this.jobs.delete(id);
  }

  /** Drains a node (running jobs go on, no new one starts there) or returns it to service. */
  drain(node: string, drained = true): void {
    this.#nodes.get(node)!.drained = drained;
    this.#schedule();
  }

  #sbatch(args: readonly string[], script: string): CommandResult {
    if (!this.reachable) {
      return fail(1, `sbatch: error: Batch job submission failed: ${UNREACHABLE}`);
    }
    if (!script.startsWith("#!")) {
      return fail(1, "sbatch: error: This does not look like a batch script.");
    }
    const partitionName = option(args, "partition") ?? "viz";
    const partition = this.#partitions.get(partitionName);
    if (!partition) {
      return fail(
        1,
        `sbatch: error: invalid partition specified: ${partitionName}\n` +
          "sbatch: error: Batch job submission failed: Invalid partition name specified",
      );
    }
    const gres = option(args, "gres");
    if (gres !== undefined && !/^gpu(:[\w.-]+)*$/.test(gres)) {
      return fail(1, "sbatch: error: Invalid generic resource (gres) specification");
    }
    const mem = option(args, "mem");
    if (mem !== undefined && parseInt(mem) > 4000) {
      return fail(
        1,
        "sbatch: error: Memory specification can not be satisfied\n" +
          "sbatch: error: Batch job submission failed: Requested node configuration is not available",
      );
    }
    const time = option(args, "time");
    const job: FakeJob = {
      id: this.#nextId++,
      name: option(args, "job-name") ?? "stdin",
      partition: partitionName,
      state: "PENDING",
      reason: "None",
      exitStatus: 0,
      nodes: [],
      cpus: Number(option(args, "cpus-per-task") ?? 1),
      gpus: gres === undefined ? 0 : Number(gres.split(":").at(-1)),
      nodeCount: Number(option(args, "nodes") ?? 1),
      minutes: time === undefined
        ? partition.maxMinutes
        : time === "UNLIMITED"
        ? Infinity
        : Number(time),
      priority: 4294901760 - this.#nextId,
      argv: scriptArgv(script),
      nodelist: option(args, "nodelist"),
    };
    this.jobs.set(job.id, job);
    this.#schedule();
    return ok(`${job.id}\n`);
  }

  #squeue(args: readonly string[]): CommandResult {
    if (!this.reachable) return fail(1, `slurm_load_jobs error: ${UNREACHABLE}`);
    const ids = option(args, "jobs");
    if (ids !== undefined) {
      const asked = ids.split(",").map(Number);
      const found = asked.map((id) => this.jobs.get(id)).filter((j) => j !== undefined);
      if (asked.length === 1 && found.length === 0) {
        return fail(1, "slurm_load_jobs error: Invalid job id specified");
      }
      const out = found.map((j) => this.#line(j)).join("");
      for (const job of found) this.#advance(job);
      return ok(out);
    }
    const partitions = (option(args, "partition") ?? "").split(",");
    return ok(
      [...this.jobs.values()]
        .filter((j) => j.state === "PENDING" && partitions.includes(j.partition))
        .map((j) => `${j.id}|${j.partition}|${j.priority}|${j.reason}\n`).join(""),
    );
  }

  /** A job's line in the format `squeueJobsArgs` asks for. */
  #line(j: FakeJob): string {
    const host = j.nodes[0] ?? "n/a";
    return `${j.id}|${j.state}|${j.exitStatus}|${j.reason}|${host}|${compact(j.nodes)}|` +
      `${j.partition}|${j.priority}|${timeLimit(j.minutes)}|${j.name}\n`;
  }

  /** After a COMPLETING job was seen once, its processes are gone. */
  #advance(job: FakeJob): void {
    if (job.state === "COMPLETING" && job.then) {
      job.state = job.then;
      job.then = undefined;
    }
  }

  #scancel(args: readonly string[]): CommandResult {
    const name = option(args, "name");
    const ids = args.filter((a) => !a.startsWith("--")).map(Number);
    if (!this.reachable) {
      return name === undefined
        ? fail(8, `scancel: error: Kill job error on job id ${ids[0]}: ${UNREACHABLE}`)
        : fail(1, `slurm_load_jobs error: ${UNREACHABLE}`);
    }
    const live = (j: FakeJob) => ["PENDING", "RUNNING"].includes(j.state);
    const targets = ids.length > 0
      ? ids.map((id) => this.jobs.get(id))
      : [...this.jobs.values()].filter((j) => j.name === name);
    for (const [i, job] of targets.entries()) {
      if (!job || !live(job)) {
        if (name !== undefined && ids.length > 0) {
          return fail(
            1,
            `scancel: error: Kill job error on job id ${ids[i]}: Invalid job id specified`,
          );
        }
        continue;
      }
      if (name !== undefined && job.name !== name) continue;
      if (job.state === "RUNNING") {
        this.#end(job, "COMPLETING", 15);
        job.then = "CANCELLED";
      } else this.#end(job, "CANCELLED", 0);
    }
    this.#schedule();
    return ok();
  }

  #scontrol(args: readonly string[]): CommandResult {
    const name = args.at(-1)!;
    if (!this.reachable) return fail(1, `slurm_load_node error: ${UNREACHABLE}`);
    const node = this.#nodes.get(name);
    if (!node) return { code: 1, stdout: `Node ${name} not found\n`, stderr: "", timedOut: false };
    return ok(
      `NodeName=${node.name} Arch=x86_64 CoresPerSocket=1  CPUAlloc=0 CPUEfctv=8 CPUTot=8 ` +
        `NodeAddr=127.0.0.1 NodeHostName=localhost Port=17001 State=IDLE Partitions=viz\n`,
    );
  }

  /** CPUs and GPUs in use on `node` by running jobs (of `partition` only, when given). */
  #used(node: string, partition?: string): { cpus: number; gpus: number } {
    let cpus = 0, gpus = 0;
    for (const j of this.jobs.values()) {
      if (j.state !== "RUNNING" || !j.nodes.includes(node)) continue;
      if (partition !== undefined && j.partition !== partition) continue;
      cpus += j.cpus;
      gpus += j.gpus;
    }
    return { cpus, gpus };
  }

  /** The nodes `job` can start on now, least loaded first; undefined when too few. */
  #place(job: FakeJob, partition: Partition): string[] | undefined {
    const free = partition.nodes
      .filter((n) => !this.#nodes.get(n)!.drained && (!job.nodelist || job.nodelist === n))
      .filter((n) => {
        const node = this.#nodes.get(n)!, all = this.#used(n), mine = this.#used(n, partition.name);
        return all.cpus + job.cpus <= node.cpus && all.gpus + job.gpus <= node.gpus &&
          mine.cpus + job.cpus <= partition.maxCpusPerNode;
      })
      .sort((a, b) => this.#used(a).cpus - this.#used(b).cpus || a.localeCompare(b));
    return free.length >= job.nodeCount ? free.slice(0, job.nodeCount) : undefined;
  }

  /** One scheduler pass: the pending jobs by priority, each partition stopping at its first blocked job. */
  #schedule(): void {
    const blocked = new Set<string>();
    const pending = [...this.jobs.values()].filter((j) => j.state === "PENDING")
      .sort((a, b) => b.priority - a.priority);
    for (const job of pending) {
      const partition = this.#partitions.get(job.partition)!;
      if (job.minutes > partition.maxMinutes) job.reason = "PartitionTimeLimit";
      else if (job.nodeCount > partition.nodes.length) job.reason = "PartitionNodeLimit";
      else if (job.cpus > 8) job.reason = "PartitionConfig";
      else if (blocked.has(partition.name)) job.reason = "Priority";
      else this.#start(job, partition, blocked);
    }
  }

  #start(job: FakeJob, partition: Partition, blocked: Set<string>): void {
    const nodes = this.#place(job, partition);
    if (!nodes) {
      job.reason = "Resources";
      blocked.add(partition.name);
      return;
    }
    job.state = "RUNNING";
    job.reason = "None";
    job.nodes = nodes;
    const exit = /\bexit (\d+)\s*$/.exec(job.argv.at(-1) ?? "");
    if (exit) this.#end(job, Number(exit[1]) === 0 ? "COMPLETED" : "FAILED", Number(exit[1]) << 8);
  }

  #end(job: FakeJob, state: string, exitStatus: number) {
    job.state = state;
    job.exitStatus = exitStatus;
    job.reason = state === "FAILED" ? "NonZeroExitCode" : "None";
  }
}
