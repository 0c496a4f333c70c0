/**
 * Captures what the real Slurm commands answer to the calls `SlurmBatchSystem` makes, in
 * each situation the launcher must understand, into `tests/testdata/cluster/slurm.json`.
 * `slurm_replay_test.ts` replays these answers; the contract suite holds the fake Slurm to
 * the same behaviour. Run it again after changing the commands the backend sends, on the
 * cluster of `.ci/setup-slurm` (takes about 90 s: one job must reach its time limit):
 *
 *   deno run --allow-all tests/cluster/capture_slurm_output.ts
 *
 * Its jobs are named `pvwcap-*`, not `pvwtest-*`: end-to-end tests running meanwhile cancel
 * every `pvwtest-*` job when they clean up. It cancels its own jobs, by id, when it ends.
 *
 * @module
 */

import { join } from "node:path";
import {
  type CommandResult,
  type CommandRunner,
  type JobRef,
  type JobSpec,
  parseSlurmSettings,
  ProcessRunner,
  resolveJobResources,
  type RunOptions,
  SlurmBatchSystem,
} from "../../lib/cluster/mod.ts";
import {
  cancelJobs,
  SLURM_CONF,
  waitForJob,
  waitForJobState,
  waitForNodesUsable,
} from "../e2e/slurm.ts";

/** One command the backend ran, and what it answered. */
export interface RecordedCall {
  command: string;
  args: string[];
  stdin?: string;
  result: CommandResult;
}

/** A situation: its jobs, the specs they were submitted with, and the calls made. */
export interface Scenario {
  note: string;
  jobs: Record<string, JobRef>;
  specs: Record<string, JobSpec>;
  calls: RecordedCall[];
}

/** The file the answers are kept in. */
export const FIXTURE = new URL("../testdata/cluster/slurm.json", import.meta.url);

class Recorder implements CommandRunner {
  constructor(readonly inner: CommandRunner, readonly calls: RecordedCall[]) {}
  async run(command: string, args: readonly string[], options: RunOptions = {}) {
    const result = await this.inner.run(command, args, options);
    this.calls.push({
      command,
      args: [...args],
      ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
      result,
    });
    return result;
  }
}

const live = new ProcessRunner({ env: { SLURM_CONF } });
const scenarios: Record<string, Scenario> = {};
const everyJob: string[] = [];
let dir = "";
let counter = 0;

/** A scenario whose backend records its calls (only those made through it). */
function scenario(name: string, note: string, runner: CommandRunner = live) {
  const s: Scenario = { note, jobs: {}, specs: {}, calls: [] };
  scenarios[name] = s;
  const slurm = new SlurmBatchSystem(new Recorder(runner, s.calls));
  const spec = (key: string, argv: string[], slurmSettings: unknown = {}): JobSpec => {
    const { settings } = parseSlurmSettings(slurmSettings);
    const js: JobSpec = {
      name: `pvwcap-${key}-${++counter}`,
      argv,
      outputFile: join(dir, `${key}.log`),
      env: { APP_VAR: "a,b" },
      resources: resolveJobResources(settings!, (t) => t),
    };
    s.specs[key] = js;
    return js;
  };
  const submit = async (key: string, argv: string[], slurmSettings: unknown = {}) => {
    const job = await slurm.submit(spec(key, argv, slurmSettings));
    s.jobs[key] = job;
    everyJob.push(job.id);
    return job;
  };
  return { slurm, spec, submit, s };
}

const SLEEP = ["/bin/sh", "-c", "echo ready; exec sleep 300"];

async function unreachable() {
  const conf = join(dir, "unreachable.conf");
  const text = await Deno.readTextFile(SLURM_CONF);
  await Deno.writeTextFile(conf, text.replace(/^SlurmctldPort=.*$/m, "SlurmctldPort=1"));
  const { slurm, spec } = scenario(
    "unreachable",
    "slurmctld cannot be reached: every command fails after 9 s",
    new ProcessRunner({ env: { SLURM_CONF: conf } }),
  );
  const ref = { id: "1", name: "pvwcap-nothing" };
  await Promise.allSettled([
    slurm.submit(spec("job", SLEEP)),
    slurm.query([ref, { id: "2", name: "x" }]),
    slurm.cancel([ref]),
    slurm.nodeAddress("n1"),
  ]);
}

async function rejected() {
  const { slurm, submit, s } = scenario(
    "rejected",
    "sbatch refuses the job, or takes one that can never start (more CPUs than a node has)",
  );
  const cases: [string, unknown][] = [
    ["partition", { partition: "nosuch" }],
    ["cpus", { cpus: 64 }],
    ["gres", { gres: "nosuch:1" }],
    ["memory", { mem: "64G" }],
  ];
  for (const [key, settings] of cases) await submit(key, SLEEP, settings).catch(() => {});
  await waitForJob(s.jobs.cpus.id, "never runs", (j) => j.reason === "PartitionConfig");
  await slurm.query(Object.values(s.jobs));
  await cancelJobs([s.jobs.cpus.id]);
}

async function queue() {
  const { slurm, submit, s } = scenario(
    "queue",
    "partition tiny is full: first runs, second waits for Resources, third for Priority",
  );
  const first = await submit("first", SLEEP, { partition: "tiny" });
  await waitForJobState(first.id, ["RUNNING"]);
  const second = await submit("second", SLEEP, { partition: "tiny" });
  const third = await submit("third", SLEEP, { partition: "tiny" });
  await waitForJob(second.id, "waits for Resources", (j) => j.reason === "Resources");
  await waitForJob(third.id, "waits for Priority", (j) => j.reason === "Priority");
  await slurm.query(Object.values(s.jobs));
  await cancelJobs([first.id, second.id, third.id]);
}

const FINAL = ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "PREEMPTED", "NODE_FAIL"];

async function ended() {
  const { slurm, submit, s } = scenario("ended", "jobs that ended in every way seen here");
  await submit("exit0", ["/bin/sh", "-c", "echo bye; exit 0"]);
  await submit("exit3", ["/bin/sh", "-c", "echo bye; exit 3"]);
  await submit("app_killed", ["/bin/sh", "-c", "sh -c 'kill -9 $$'; exit $?"]);
  await submit("script_killed", ["/bin/sh", "-c", "kill -9 $$"]);
  const cancelled = await submit("cancelled", SLEEP);
  await waitForJobState(cancelled.id, ["RUNNING"]);
  await slurm.cancel([cancelled]);
  await submit("time_limit", SLEEP, { partition: "tiny", time: "20" });
  await submit("node_limit", SLEEP, { nodes: 4 });
  const missing = await slurm.submit({
    ...s.specs.exit0,
    name: `pvwcap-no-folder-${++counter}`,
    outputFile: join(dir, "no/such/folder/x.log"),
  });
  s.jobs.no_folder = missing;
  everyJob.push(missing.id);
  for (const key of ["exit0", "exit3", "app_killed", "script_killed", "cancelled", "no_folder"]) {
    await waitForJobState(s.jobs[key].id, FINAL);
  }
  await waitForJob(s.jobs.time_limit.id, "never runs", (j) => j.reason === "PartitionTimeLimit");
  await waitForJob(s.jobs.node_limit.id, "never runs", (j) => j.reason === "PartitionNodeLimit");
  await slurm.query(Object.values(s.jobs));
  await cancelJobs([s.jobs.time_limit.id, s.jobs.node_limit.id]);
}

async function running() {
  const { slurm, submit, s } = scenario("running", "a job on two nodes, a job with a GPU");
  const two = await submit("two_nodes", SLEEP, { nodes: 2 });
  const gpu = await submit("gpu", SLEEP, { gpus: 1 });
  await waitForJobState(two.id, ["RUNNING"]);
  await waitForJobState(gpu.id, ["RUNNING"]);
  await slurm.query(Object.values(s.jobs));
  await slurm.nodeAddress("n1");
  await slurm.nodeAddress("n9");
  // Its id, another name: a job this launcher does not own.
  const other = { id: two.id, name: "pvwcap-someone-else" };
  await slurm.query([other]);
  await slurm.cancel([other]);
  await slurm.query([two]);
  await slurm.cancel([two, gpu]);
  await waitForJobState(two.id, ["CANCELLED"]);
  await slurm.cancel([two]);
  await slurm.query([{ id: "999999", name: "x" }]);
  await slurm.query([{ id: "999998", name: "x" }, { id: "999999", name: "y" }]);
}

async function completing() {
  const { slurm, submit } = scenario(
    "completing",
    "a job whose script ignores SIGTERM: COMPLETING for KillWait (30 s) after scancel",
  );
  const job = await submit("ignores_term", [
    "/bin/sh",
    "-c",
    "trap '' TERM; echo ready; sleep 300 & wait; sleep 300 & wait",
  ], { sbatch_args: ["--nodelist=n2"] });
  await waitForJobState(job.id, ["RUNNING"]);
  await slurm.cancel([job]);
  await waitForJobState(job.id, ["COMPLETING"]);
  await slurm.query([job]);
  await waitForJobState(job.id, ["CANCELLED"], 60_000);
  await slurm.query([job]);
}

async function timeLimit() {
  const { slurm, submit } = scenario("timeout", "a job killed at its 1-minute time limit");
  const job = await submit("timeout", SLEEP, { time: "1", sbatch_args: ["--nodelist=n1"] });
  await waitForJobState(job.id, ["TIMEOUT"], 150_000);
  await slurm.query([job]);
}

async function preempted() {
  const { slurm, submit, s } = scenario("preempted", "a viz job on n3 preempted by urgent");
  const victim = await submit("victim", SLEEP, { sbatch_args: ["--nodelist=n3"] });
  await waitForJobState(victim.id, ["RUNNING"]);
  const urgent = await submit("urgent", SLEEP, { partition: "urgent", cpus: 8 });
  await waitForJobState(victim.id, ["PREEMPTED"]);
  await slurm.query(Object.values(s.jobs));
  await cancelJobs([urgent.id]);
}

if (import.meta.main) {
  dir = await Deno.makeTempDir({ prefix: "pvw-capture-" });
  await waitForNodesUsable();
  try {
    const slow = Promise.all([unreachable(), completing(), timeLimit()]);
    await rejected();
    await queue();
    await ended();
    await running();
    await slow;
    await preempted();
  } finally {
    await cancelJobs(everyJob).catch((err) => console.error(err));
    await Deno.remove(dir, { recursive: true });
  }
  const version = (await live.run("sbatch", ["--version"])).stdout.trim();
  const text = JSON.stringify({ slurm: version, scenarios }, null, 1);
  await Deno.mkdir(new URL(".", FIXTURE), { recursive: true });
  await Deno.writeTextFile(FIXTURE, text.replaceAll(dir, "/shared/logs") + "\n");
  console.log(`wrote ${FIXTURE.pathname}`);
}
