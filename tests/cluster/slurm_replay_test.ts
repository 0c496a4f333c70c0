/**
 * SlurmBatchSystem understands what the real Slurm 22.05 answered in each recorded situation
 * (`tests/testdata/cluster/slurm.json`): it sends exactly the recorded commands and reads
 * their answers into the right statuses and errors.
 */

import assert from "node:assert/strict";
import {
  BatchSystemUnavailableError,
  type EndedStatus,
  type JobStatus,
  JobSubmitError,
  SlurmBatchSystem,
} from "../../lib/cluster/mod.ts";
import { recorded, ReplayRunner } from "./replay.ts";

/** The backend over a scenario's answers, its jobs, and a check that nothing went unanswered. */
function replay(name: string) {
  const scenario = recorded.scenarios[name];
  assert.ok(scenario, `scenario ${name} is recorded`);
  const runner = new ReplayRunner(scenario);
  return {
    slurm: new SlurmBatchSystem(runner),
    scenario,
    jobs: scenario.jobs,
    done: () => assert.deepEqual(runner.misses, [], "every call was recorded"),
  };
}

function ended(status: JobStatus | undefined): EndedStatus {
  assert.ok(status?.phase === "ended", `ended: ${JSON.stringify(status)}`);
  return status;
}

Deno.test("replay: submit() sends the recorded sbatch call and returns the job id", async () => {
  const { slurm, scenario, jobs, done } = replay("queue");
  for (const key of ["first", "second", "third"]) {
    assert.deepEqual(await slurm.submit(scenario.specs[key]), jobs[key]);
  }
  done();
});

Deno.test("replay: a full partition: one job running, the next queued for Resources, then Priority", async () => {
  const { slurm, jobs, done } = replay("queue");
  const s = await slurm.query([jobs.first, jobs.second, jobs.third]);
  const first = s.get(jobs.first.id)!;
  assert.ok(first.phase === "running");
  assert.equal(first.node, "n3");
  assert.deepEqual(first.nodes, ["n3"]);
  assert.deepEqual(
    [s.get(jobs.second.id), s.get(jobs.third.id)].map((q) =>
      q?.phase === "queued" && [q.reason, q.position, q.partition]
    ),
    [["waiting for resources", 1, "tiny"], ["waiting behind jobs of higher priority", 2, "tiny"]],
  );
  done();
});

Deno.test("replay: every way a job ended reads as its outcome, reason and exit", async (t) => {
  const { slurm, jobs, done } = replay("ended");
  const s = await slurm.query(Object.values(jobs));
  const cases: [string, Partial<EndedStatus>][] = [
    ["exit0", { outcome: "completed", exitCode: 0, reason: "exited with code 0", settled: true }],
    ["exit3", { outcome: "failed", exitCode: 3, reason: "exited with code 3", settled: true }],
    ["app_killed", { outcome: "failed", exitCode: 137, reason: "exited with code 137" }],
    ["script_killed", { outcome: "failed", signal: 9, reason: "was killed by signal 9 (SIGKILL)" }],
    ["cancelled", { outcome: "cancelled", reason: "was cancelled", settled: true }],
    ["time_limit", { outcome: "unrunnable", settled: false }],
    ["node_limit", { outcome: "unrunnable", settled: false }],
  ];
  for (const [key, want] of cases) {
    await t.step(key, () => {
      const status = ended(s.get(jobs[key].id));
      for (const [field, value] of Object.entries(want)) {
        assert.equal(status[field as keyof EndedStatus], value, `${key}.${field}`);
      }
    });
  }
  await t.step("the output folder missing on the node", () => {
    const status = ended(s.get(jobs.no_folder.id));
    assert.equal(status.outcome, "failed");
    assert.match(status.reason, /could not start on n\d .*log folder/);
    assert.equal(status.exitCode, undefined, "53 is Slurm's error number, not an exit code");
    assert.equal(status.signal, undefined);
  });
  assert.match(ended(s.get(jobs.time_limit.id)).reason, /time limit is above its partition's/);
  assert.match(ended(s.get(jobs.node_limit.id)).reason, /more nodes than its partition allows/);
  done();
});

Deno.test("replay: a job past its time limit ended as timeout, with the limit", async () => {
  const { slurm, jobs, done } = replay("timeout");
  const status = ended((await slurm.query([jobs.timeout])).get(jobs.timeout.id));
  assert.equal(status.outcome, "timeout");
  assert.equal(status.reason, "was killed at its time limit (1:00)");
  assert.equal(status.node, "n1");
  done();
});

Deno.test("replay: a preempted job ended as preempted", async () => {
  const { slurm, jobs, done } = replay("preempted");
  const s = await slurm.query([jobs.victim, jobs.urgent]);
  assert.equal(ended(s.get(jobs.victim.id)).outcome, "preempted");
  assert.equal(s.get(jobs.urgent.id)!.phase, "running");
  done();
});

Deno.test("replay: COMPLETING is ended but not settled; then cancelled and settled", async () => {
  const { slurm, jobs, done } = replay("completing");
  const ending = ended((await slurm.query([jobs.ignores_term])).get(jobs.ignores_term.id));
  assert.deepEqual([ending.outcome, ending.settled], ["ending", false]);
  const final = ended((await slurm.query([jobs.ignores_term])).get(jobs.ignores_term.id));
  assert.deepEqual([final.outcome, final.settled], ["cancelled", true]);
  done();
});

Deno.test("replay: a job on two nodes runs on its batch host; the GPU job on n1", async () => {
  const { slurm, jobs, done } = replay("running");
  const s = await slurm.query([jobs.two_nodes, jobs.gpu]);
  const two = s.get(jobs.two_nodes.id)!;
  assert.ok(two.phase === "running");
  assert.equal(two.node, "n1");
  assert.deepEqual(two.nodes, ["n1", "n3"]);
  const gpu = s.get(jobs.gpu.id)!;
  assert.ok(gpu.phase === "running" && gpu.node === "n1");
  assert.equal(await slurm.nodeAddress("n1"), "127.0.0.1");
  assert.equal(await slurm.nodeAddress("n9"), undefined);
  assert.equal(await slurm.nodeAddress("n1"), "127.0.0.1", "asked once, then remembered");
  done();
});

Deno.test("replay: an id under another name is not ours; forgotten ids read as ended, unknown", async () => {
  const { slurm, jobs, done } = replay("running");
  await slurm.query([jobs.two_nodes, jobs.gpu]);
  const impostor = { id: jobs.two_nodes.id, name: "pvwcap-someone-else" };
  assert.equal(ended((await slurm.query([impostor])).get(impostor.id)).outcome, "unknown");
  await slurm.cancel([impostor]);
  assert.equal((await slurm.query([jobs.two_nodes])).get(jobs.two_nodes.id)!.phase, "running");
  await slurm.cancel([jobs.two_nodes, jobs.gpu]);
  await slurm.cancel([jobs.two_nodes]); // ended already: "Invalid job id", no error
  const one = { id: "999999", name: "x" };
  const lost = ended((await slurm.query([one])).get(one.id));
  assert.deepEqual([lost.outcome, lost.settled], ["unknown", true]);
  const two = [{ id: "999998", name: "x" }, { id: "999999", name: "y" }];
  const both = await slurm.query(two);
  assert.deepEqual([...both.values()].map((s) => ended(s).outcome), ["unknown", "unknown"]);
  done();
});

Deno.test("replay: sbatch's refusals are JobSubmitErrors with Slurm's words", async (t) => {
  const { slurm, scenario, jobs, done } = replay("rejected");
  const refused: [string, RegExp][] = [
    ["partition", /^invalid partition specified: nosuch; Invalid partition name specified$/],
    ["gres", /^Invalid generic resource \(gres\) specification$/],
    ["memory", /Memory specification can not be satisfied; Requested node configuration/],
  ];
  for (const [key, message] of refused) {
    await t.step(key, async () => {
      await assert.rejects(slurm.submit(scenario.specs[key]), (err) => {
        assert.ok(err instanceof JobSubmitError);
        assert.match(err.message, message);
        assert.equal(err.exitCode, 1);
        return true;
      });
    });
  }
  await t.step("more CPUs than a node has: taken, but can never start", async () => {
    assert.deepEqual(await slurm.submit(scenario.specs.cpus), jobs.cpus);
    const status = ended((await slurm.query([jobs.cpus])).get(jobs.cpus.id));
    assert.equal(status.outcome, "unrunnable");
    assert.equal(status.batchReason, "PartitionConfig");
  });
  done();
});

Deno.test("replay: an unreachable controller is unavailable, never gone; no cleanup is tried", async () => {
  const { slurm, scenario, done } = replay("unreachable");
  const ref = { id: "1", name: "pvwcap-nothing" };
  const unavailable = (what: RegExp) => (err: unknown) =>
    err instanceof BatchSystemUnavailableError && what.test(err.message) &&
    /Unable to contact slurm controller/.test(err.message);
  await assert.rejects(slurm.submit(scenario.specs.job), unavailable(/^sbatch: /));
  await assert.rejects(slurm.query([ref, { id: "2", name: "x" }]), unavailable(/^squeue: /));
  await assert.rejects(slurm.cancel([ref]), unavailable(/^scancel 1: /));
  await assert.rejects(slurm.nodeAddress("n1"), unavailable(/^scontrol show node n1: /));
  done();
});
