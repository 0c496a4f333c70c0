/**
 * The Slurm cluster of `.ci/setup-slurm` and the harness of `slurm.ts` do what the launcher's
 * Slurm tests will rely on: a batch job runs on a node and writes its output file, squeue
 * shows its node, scancel ends it with its whole process tree, a drained node gets no job,
 * and a full partition queues the next job with a reason.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  assertNothingLeft,
  cancelJobs,
  cancelTestJobs,
  drainNode,
  jobProcesses,
  listJobs,
  resumeNode,
  sbatch,
  SLURM_NODES,
  slurmAdminNeeds,
  slurmNeeds,
  TEST_JOB_PREFIX,
  waitForJob,
  waitForJobProcesses,
  waitForJobState,
  waitForNodesUsable,
  waitForOutput,
} from "./slurm.ts";

/** A job script that prints its node and a ready line, then waits on a child process. */
const APP = `#!/bin/sh
echo "node=$SLURMD_NODENAME"
echo "ready job=$SLURM_JOB_ID"
sleep 300 &
wait
`;

/**
 * This file's job names: its cleanup cancels only these, not the jobs of other test files
 * running on the same cluster meanwhile.
 */
const PREFIX = `${TEST_JOB_PREFIX}harness-`;

const SLEEPER = ["--no-requeue", "-o", "/dev/null", "--wrap", "exec sleep 300"];

/** Submits `count` sleeping jobs named after `name`; returns their ids. */
async function sleepers(name: string, count: number, args: string[] = []): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push(await sbatch(["-J", `${PREFIX}${name}${i}`, ...args, ...SLEEPER]));
  }
  return ids;
}

/** Waits until every job runs; returns the node of each. */
async function nodesOf(ids: string[]): Promise<string[]> {
  const nodes: string[] = [];
  for (const id of ids) nodes.push((await waitForJobState(id, ["RUNNING"])).nodes);
  return nodes;
}

/** Runs a test on a cluster whose nodes all take jobs; cancels its jobs whatever happens. */
function clusterTest(name: string, fn: () => Promise<void>, needs = slurmNeeds): void {
  Deno.test({ name, ignore: needs.ignore }, async () => {
    needs.check();
    await waitForNodesUsable();
    try {
      await fn();
    } finally {
      await cancelTestJobs(PREFIX);
    }
  });
}

clusterTest(
  "a batch job runs on a node, writes its output file, and scancel ends its process tree",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "pvw-slurm-test-" });
    try {
      const out = join(dir, "job.out");
      const id = await sbatch(["-J", `${PREFIX}basic`, "--no-requeue", "-o", out], APP);

      const job = await waitForJobState(id, ["RUNNING"]);
      assert.ok(SLURM_NODES.includes(job.nodes), `runs on one node: ${job.nodes}`);
      const ready = await waitForOutput(out, /node=(\S+)\nready job=(\d+)\n/);
      assert.equal(ready[1], job.nodes, "the job's own node name matches squeue's");
      assert.equal(ready[2], id);
      // The script and its child: what assertNothingLeft looks for must be findable.
      const processes = jobProcesses([id]);
      assert.ok(
        processes.some((p) => p.cmdline.startsWith("sleep 300")),
        `the job's child is found: ${JSON.stringify(processes)}`,
      );

      await cancelJobs([id]);
      const [ended] = await listJobs({ ids: [id], all: true });
      assert.equal(ended.state, "CANCELLED");
      await assertNothingLeft([id]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

clusterTest("a drained node receives no job, and gets jobs again once resumed", async () => {
  await drainNode("n2");
  try {
    const ids = await sleepers("drain", 6);
    const nodes = await nodesOf(ids);
    assert.ok(!nodes.includes("n2"), `none on the drained node: ${nodes}`);
    // The partition places each job on the least loaded node (LLN): both others are used.
    assert.deepEqual([...new Set(nodes)].sort(), ["n1", "n3"]);
  } finally {
    await resumeNode("n2");
  }
  // Control: with n1 and n3 busy, the least loaded node is n2 again.
  const later = await nodesOf(await sleepers("resumed", 2));
  assert.deepEqual(later, ["n2", "n2"]);
  const all = (await listJobs()).filter((j) => j.name.startsWith(PREFIX));
  await cancelTestJobs(PREFIX);
  await assertNothingLeft(all.map((j) => j.id));
}, slurmAdminNeeds);

clusterTest(
  "a full partition queues the next job with reason Resources until one ends",
  async () => {
    // Partition tiny lets one 1-CPU job run at a time.
    const [first, second] = await sleepers("tiny", 2, ["-p", "tiny"]);
    assert.equal((await waitForJobState(first, ["RUNNING"])).nodes, "n3");
    // Its reason is None until the scheduler has looked at it, then Resources.
    await waitForJob(
      second,
      "pending for Resources",
      (j) => j.state === "PENDING" && j.reason === "Resources",
    );

    await cancelJobs([first]);
    assert.equal((await waitForJobState(second, ["RUNNING"])).nodes, "n3");
    await cancelJobs([second]);
    await assertNothingLeft([first, second]);
  },
);

clusterTest(
  "a process that leaves the job's process group outlives scancel, and is reported",
  async () => {
    // With ProctrackType=proctrack/pgid Slurm signals the job's process group only; setsid
    // escapes it (proctrack/cgroup would not let it). The launcher cannot clean this up; the
    // tests must see it.
    const id = await sbatch([
      "-J",
      `${PREFIX}escape`,
      "--no-requeue",
      "-o",
      "/dev/null",
      "--wrap",
      "setsid sleep 301 & exec sleep 300",
    ]);
    await waitForJobState(id, ["RUNNING"]);
    const escaped = (await waitForJobProcesses(
      [id],
      "to include the setsid child",
      (ps) => ps.some((p) => p.cmdline.startsWith("sleep 301")),
    )).filter((p) => p.cmdline.startsWith("sleep 301")).map((p) => p.pid);
    try {
      await cancelJobs([id]);
      await assert.rejects(assertNothingLeft([id]), /sleep 301/);
    } finally {
      for (const pid of escaped) Deno.kill(pid, "SIGKILL");
    }
    await waitForJobProcesses([id], "to be gone", (ps) => ps.length === 0);
    await assertNothingLeft([id]);
  },
);
