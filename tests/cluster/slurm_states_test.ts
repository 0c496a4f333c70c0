import assert from "node:assert/strict";
import { jobStatus, neverRuns } from "../../lib/cluster/slurm_states.ts";
import type { SqueueRow } from "../../lib/cluster/squeue.ts";

const job = { id: "7", name: "pvw-x" };
const row = (over: Partial<SqueueRow>): SqueueRow => ({
  id: "7",
  state: "PENDING",
  exitStatus: 0,
  reason: "None",
  batchHost: "",
  nodeList: "",
  partition: "viz",
  priority: 1,
  timeLimit: "UNLIMITED",
  name: "pvw-x",
  ...over,
});

Deno.test("neverRuns() holds per-job limits final, shared limits not", () => {
  const final = [
    "PartitionTimeLimit",
    "PartitionNodeLimit",
    "PartitionConfig",
    "InvalidAccount",
    "QOSMaxWallDurationPerJobLimit",
    "QOSMaxCpuPerJobLimit",
    "AssocMaxNodesPerJob",
    "QOSMinGRES",
  ];
  const waits = [
    "None",
    "Resources",
    "Priority",
    "ReqNodeNotAvail",
    "PartitionDown",
    "QOSGrpCpuLimit",
    "AssocGrpGRES",
    "QOSMaxJobsPerUserLimit",
    "JobHeldAdmin",
  ];
  for (const reason of final) assert.equal(neverRuns(reason), true, reason);
  for (const reason of waits) assert.equal(neverRuns(reason), false, reason);
});

Deno.test("jobStatus() reads states seldom seen on the test cluster", async (t) => {
  await t.step("CONFIGURING waits for its nodes to boot", () => {
    const s = jobStatus(job, row({ state: "CONFIGURING", batchHost: "n1", nodeList: "n1" }));
    assert.ok(s.phase === "queued" && /booted/.test(s.reason));
  });
  await t.step("SUSPENDED still holds its node", () => {
    const s = jobStatus(job, row({ state: "SUSPENDED", batchHost: "n1", nodeList: "n1" }));
    assert.ok(s.phase === "running" && s.node === "n1");
  });
  await t.step("a state this backend does not know is not taken for an end", () => {
    assert.equal(
      jobStatus(job, row({ state: "REQUEUE_HOLD", reason: "JobHeldAdmin" })).phase,
      "queued",
    );
  });
  await t.step("OUT_OF_MEMORY, NODE_FAIL, DEADLINE, BOOT_FAIL end the job in words", () => {
    const reasons = ["OUT_OF_MEMORY", "NODE_FAIL", "DEADLINE", "BOOT_FAIL"].map((state) => {
      const s = jobStatus(job, row({ state, batchHost: "n2", nodeList: "n2" }));
      assert.ok(s.phase === "ended" && s.settled && s.node === "n2");
      return s.reason;
    });
    assert.deepEqual(reasons, [
      "ran out of memory",
      "its node failed",
      "reached its deadline",
      "its node failed to boot",
    ]);
  });
  await t.step("a pending reason without words is shown as Slurm writes it", () => {
    const s = jobStatus(job, row({ reason: "QOSGrpCpuLimit" }));
    assert.ok(s.phase === "queued" && s.reason === "QOSGrpCpuLimit");
  });
});
