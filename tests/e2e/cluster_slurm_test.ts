/**
 * lib/cluster on the real Slurm cluster of `.ci/setup-slurm`: a session's job runs on a node
 * and writes its ready line to its log, and stopping it leaves nothing behind; the poller
 * reports queue reasons, positions, nodes and how jobs end (exit, never runnable, time
 * limit); a drained node gets no job; the job's environment is the one chosen; time and
 * memory values are read as sbatch reads them.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  cancelAndWait,
  JobPoller,
  type JobRef,
  type JobSpec,
  type JobStatus,
  NodeHosts,
  parseSlurmSettings,
  ProcessRunner,
  resolveJobResources,
  SlurmBatchSystem,
} from "../../lib/cluster/mod.ts";
import { within } from "../integration/harness.ts";
import {
  assertNothingLeft,
  cancelJobs,
  drainNode,
  listJobs,
  resumeNode,
  sbatch,
  SLURM_CONF,
  SLURM_NODES,
  slurmAdminNeeds,
  slurmCommand,
  slurmNeeds,
  TEST_JOB_PREFIX,
  waitForNodesUsable,
  waitForOutput,
} from "./slurm.ts";

const SLEEPS = ["/bin/sh", "-c", "echo ready; exec sleep 300"];
const GONE = { timeoutMs: 45_000 };

/** What one test works with: the backend, a poller, a log folder, and its own jobs. */
interface Cluster {
  slurm: SlurmBatchSystem;
  poller: JobPoller;
  logs: string;
  /** Submits a job for `key` with the `slurm` settings `raw`. */
  submit(key: string, argv: string[], raw?: unknown, spec?: Partial<JobSpec>): Promise<JobRef>;
  /** Watches a job; `until` resolves with the first status `test` accepts. */
  watch(job: JobRef): Watch;
  /** The log file of a job it submitted. */
  log(job: JobRef): string;
}

interface Watch {
  heard: JobStatus[];
  until(what: string, test: (s: JobStatus) => boolean, ms?: number): Promise<JobStatus>;
}

let counter = 0;

/** Runs a test with a fresh backend and poller; cancels its jobs whatever happens. */
function clusterTest(name: string, fn: (c: Cluster) => Promise<void>, needs = slurmNeeds): void {
  Deno.test({ name, ignore: needs.ignore }, async () => {
    needs.check();
    await waitForNodesUsable();
    const logs = await Deno.makeTempDir({ prefix: "pvw-cluster-%j-" });
    const slurm = new SlurmBatchSystem(new ProcessRunner({ env: { SLURM_CONF } }));
    const poller = new JobPoller(slurm, { intervalMs: 200 });
    const jobs: JobRef[] = [];
    const logFiles = new Map<string, string>();
    const cluster: Cluster = {
      slurm,
      poller,
      logs,
      async submit(key, argv, raw = {}, spec = {}) {
        const { settings } = parseSlurmSettings(raw);
        const id = `${key}-${++counter}`;
        const outputFile = join(logs, `${id}.log`);
        const job = await slurm.submit({
          name: `${TEST_JOB_PREFIX}cluster-${id}`,
          argv,
          outputFile,
          env: {},
          resources: resolveJobResources(settings!, (t) => t),
          ...spec,
        });
        jobs.push(job);
        logFiles.set(job.id, outputFile);
        return job;
      },
      watch: (job) => watchJob(poller, job),
      log: (job) => logFiles.get(job.id)!,
    };
    try {
      await fn(cluster);
    } finally {
      await poller.close();
      await cancelJobs(jobs.map((j) => j.id));
      await Deno.remove(logs, { recursive: true });
    }
  });
}

function watchJob(poller: JobPoller, job: JobRef): Watch {
  const heard: JobStatus[] = [];
  const waiters = new Set<() => void>();
  poller.watch(job, (s) => {
    heard.push(s);
    for (const w of waiters) w();
  });
  return {
    heard,
    until(what, test, ms = 30_000) {
      let check!: () => void;
      const found = new Promise<JobStatus>((resolve) => {
        check = () => {
          const hit = heard.find(test);
          if (hit) resolve(hit);
        };
        waiters.add(check);
        check();
      });
      return within(ms, `job ${job.id} ${what}; heard ${JSON.stringify(heard)}`, found)
        .finally(() => waiters.delete(check));
    },
  };
}

const isRunning = (s: JobStatus) => s.phase === "running";
const nodeOf = (s: JobStatus) => s.phase === "running" ? s.node : "";

clusterTest(
  "a session's job runs on a node, its ready line reaches <log>/<id>.log, and stopping it leaves nothing",
  async (c) => {
    // Python block-buffers a file: the line shows at once only if the job has PYTHONUNBUFFERED.
    const app = [
      "/usr/bin/python3",
      "-c",
      "import os, time; print('ready on', os.environ['SLURMD_NODENAME'], os.environ['APP_KEY']); time.sleep(300)",
    ];
    const job = await c.submit("session", app, {}, { env: { APP_KEY: "k,'1'" } });
    const watch = c.watch(job);
    const running = await watch.until("runs", isRunning);
    assert.ok(SLURM_NODES.includes(nodeOf(running)), JSON.stringify(running));
    const log = c.log(job);
    const ready = await waitForOutput(log, /^ready on (n\d) (.*)\n/, 15_000);
    assert.equal(ready[1], nodeOf(running), "the node the poller reported");
    assert.equal(ready[2], "k,'1'", "the app's variable, as given");
    assert.equal((await Deno.stat(log)).mode! & 0o777, 0o600, "the log is the launcher's alone");
    assert.ok(c.logs.includes("%j"), "a % in the log folder's path stays literal");

    const configured = new NodeHosts({ n1: "127.0.0.1", n2: "127.0.0.1", n3: "127.0.0.1" });
    const fromSlurm = new NodeHosts({}, (node) => c.slurm.nodeAddress(node));
    assert.equal(await configured.host(nodeOf(running)), "127.0.0.1");
    assert.equal(await fromSlurm.host(nodeOf(running)), "127.0.0.1", "Slurm's NodeAddr");

    const final = await cancelAndWait(c.slurm, job, GONE);
    assert.deepEqual([final.outcome, final.settled], ["cancelled", true]);
    await assertNothingLeft([job.id]);
    const ended = await watch.until("ends", (s) => s.phase === "ended" && s.settled);
    assert.equal(ended.phase === "ended" && ended.outcome, "cancelled");
  },
);

clusterTest("a drained node gets no job", async (c) => {
  await drainNode("n2");
  try {
    const jobs = await Promise.all([0, 1, 2, 3].map((i) => c.submit(`drain${i}`, SLEEPS)));
    const nodes = await Promise.all(
      jobs.map((j) => c.watch(j).until("runs", isRunning).then(nodeOf)),
    );
    assert.ok(!nodes.includes("n2"), `none on the drained node: ${nodes}`);
    assert.deepEqual([...new Set(nodes)].sort(), ["n1", "n3"], "the others share them");
  } finally {
    await resumeNode("n2");
  }
}, slurmAdminNeeds);

clusterTest(
  "a full partition queues the next job with its reason and position; it runs once the first is gone",
  async (c) => {
    const first = await c.submit("first", SLEEPS, { partition: "tiny" });
    await c.watch(first).until("runs", isRunning);
    const second = await c.submit("second", SLEEPS, { partition: "tiny" });
    const third = await c.submit("third", SLEEPS, { partition: "tiny" });
    const [w2, w3] = [c.watch(second), c.watch(third)];
    const queued = await w2.until("waits for resources", (s) => s.batchReason === "Resources");
    assert.ok(queued.phase === "queued", JSON.stringify(queued));
    assert.deepEqual([queued.reason, queued.position], ["waiting for resources", 1]);
    const behind = await w3.until("waits behind", (s) => s.phase === "queued" && s.position === 2);
    assert.equal(behind.batchReason, "Priority");

    await cancelAndWait(c.slurm, first, GONE);
    assert.equal(nodeOf(await w2.until("runs after the first", isRunning)), "n3");
    await w3.until("moves up", (s) => s.phase === "queued" && s.position === 1);
  },
);

clusterTest("a job asking more than its partition allows is reported final at once", async (c) => {
  const job = await c.submit("too_long", SLEEPS, { partition: "tiny", time: "20" });
  const status = await c.watch(job).until("is final", (s) => s.phase === "ended");
  assert.ok(status.phase === "ended" && status.outcome === "unrunnable", JSON.stringify(status));
  assert.match(status.reason, /^can never start: /);
  assert.equal(status.settled, false, "it waits in the queue until cancelled");
  assert.equal((await cancelAndWait(c.slurm, job, GONE)).outcome, "cancelled");
  assert.deepEqual(await listJobs({ ids: [job.id] }), [], "no job left");
});

clusterTest("a job whose app exits early reports its exit code", async (c) => {
  const job = await c.submit("exits", ["/bin/sh", "-c", "echo starting; exit 3"]);
  const status = await c.watch(job).until("ends", (s) => s.phase === "ended" && s.settled);
  assert.ok(status.phase === "ended", JSON.stringify(status));
  assert.deepEqual([status.outcome, status.exitCode, status.reason], [
    "failed",
    3,
    "exited with code 3",
  ]);
  assert.ok(status.node && SLURM_NODES.includes(status.node));
  await assertNothingLeft([job.id]);
});

clusterTest(
  "a job killed at its time limit reports it (about 70 s: Slurm counts minutes)",
  async (c) => {
    const job = await c.submit("time_limit", SLEEPS, { time: "1" });
    const watch = c.watch(job);
    await watch.until("runs", isRunning);
    const status = await watch.until("times out", (s) => s.phase === "ended" && s.settled, 150_000);
    assert.ok(status.phase === "ended", JSON.stringify(status));
    assert.deepEqual([status.outcome, status.reason], [
      "timeout",
      "was killed at its time limit (1:00)",
    ]);
    const log = c.log(job);
    await waitForOutput(log, /CANCELLED AT \S+ DUE TO TIME LIMIT/, 5000);
    await assertNothingLeft([job.id]);
  },
);

clusterTest(
  "export session passes the launcher's variables; export app only the app's",
  async (c) => {
    const env = [
      "/bin/sh",
      "-c",
      'echo "base=${BASE-unset} app=${APP-unset} sbatch=${SBATCH_X-unset} u=$PYTHONUNBUFFERED"',
    ];
    const base = { PATH: "/usr/bin:/bin", BASE: "b", SBATCH_X: "x" };
    const session = await c.submit("session_env", env, {}, { env: { APP: "a" }, baseEnv: base });
    const app = await c.submit("app_env", env, { export: "app" }, {
      env: { APP: "a" },
      baseEnv: base,
    });
    for (const job of [session, app]) {
      await c.watch(job).until("ends", (s) => s.phase === "ended" && s.settled);
    }
    assert.equal(await Deno.readTextFile(c.log(session)), "base=b app=a sbatch=unset u=1\n");
    assert.equal(await Deno.readTextFile(c.log(app)), "base=unset app=a sbatch=unset u=1\n");
  },
);

clusterTest("time limits and memory sizes are read as sbatch reads them", async (c) => {
  // Each value twice, held so that nothing runs: through the backend (parsed, rounded to
  // whole minutes or megabytes) and raw to sbatch. Slurm must apply the same to both.
  const values: [string, string][] = [
    ...["90", "0:30", "5:30", "4:30:15", "2-0", "1-12", "1-2:30", "1-2:30:05", "UNLIMITED"]
      .map((time): [string, string] => ["time", time]),
    ...["500", "16G", "1024K", "1K", "2T"].map((mem): [string, string] => ["mem", mem]),
  ];
  const raw: string[] = [];
  try {
    for (const [key, value] of values) {
      const { settings } = parseSlurmSettings({ [key]: value });
      const resources = { ...resolveJobResources(settings!, (t) => t), extraArgs: ["--hold"] };
      const ours = await c.submit("held", SLEEPS, {}, { resources });
      const flag = key === "time" ? `--time=${value}` : `--mem=${value}`;
      const theirs = await sbatch([
        "-J",
        `${TEST_JOB_PREFIX}cluster-raw`,
        "--hold",
        flag,
        "-o",
        "/dev/null",
        "--wrap",
        "true",
      ]);
      raw.push(theirs);
      const out = await slurmCommand("squeue", [
        "-h",
        "-j",
        `${ours.id},${theirs}`,
        "-O",
        "JobID:|,TimeLimit:|,MinMemory:",
      ]);
      const applied = (id: string) =>
        out.stdout.split("\n").find((l) => l.startsWith(`${id}|`))?.slice(id.length + 1).trim();
      assert.ok(applied(theirs), `squeue shows both jobs: ${out.stdout}`);
      assert.equal(applied(ours.id), applied(theirs), `${key} ${value}`);
    }
  } finally {
    await cancelJobs(raw);
  }
});
