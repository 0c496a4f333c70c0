/**
 * What every batch system must do, as one suite run against each implementation: the fake
 * Slurm of `fake_slurm.ts` and the real cluster of `.ci/setup-slurm`
 * (`batch_system_contract_test.ts`). A fake that passes it behaves, for the launcher, as
 * the real scheduler does.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type BatchSystem,
  BatchSystemUnavailableError,
  cancelAndWait,
  type JobRef,
  type JobResources,
  type JobSpec,
  type JobStatus,
  JobSubmitError,
} from "../../lib/cluster/mod.ts";

/** A batch system to hold to the contract, and what the suite needs to know of its cluster. */
export interface ContractTarget {
  /** Its name in the test names. */
  name: string;
  /** Whether to skip (the real cluster is missing, outside CI). */
  ignore: boolean;
  /** Prepares one test. */
  setup(): Promise<ContractEnv>;
}

/** One test's view of a batch system. */
export interface ContractEnv {
  /** The system under test. */
  system: BatchSystem;
  /** The same system, with its controller out of reach. */
  unreachable: BatchSystem;
  /** Every node name of the cluster. */
  nodes: string[];
  /** A partition that one 1-CPU job fills. */
  fullPartition: string;
  /** The time limit of `fullPartition`, in minutes. */
  fullPartitionMaxMinutes: number;
  /** A node's address, as the scheduler knows it. */
  nodeAddress: [string, string];
  /** Milliseconds between two queries while waiting for a state. */
  pollMs: number;
  /** A spec named for this test (and remembered for `cleanup`). */
  spec(key: string, argv: string[], resources?: Partial<JobResources>): JobSpec;
  /** Cancels every job the test submitted and waits until they are gone. */
  cleanup(jobs: JobRef[]): Promise<void>;
}

/** A command that prints a line and runs until stopped. */
export const RUNS = ["/bin/sh", "-c", "echo ready; exec sleep 300"];
/** A command that exits with `code` at once. */
export const exits = (code: number) => ["/bin/sh", "-c", `echo bye; exit ${code}`];

/** Queries `job` until `test` holds; fails after `ms` with the last status seen. */
export async function until(
  env: ContractEnv,
  job: JobRef,
  what: string,
  test: (s: JobStatus) => boolean,
  ms = 30_000,
): Promise<JobStatus> {
  const deadline = Date.now() + ms;
  let last: JobStatus | undefined;
  while (Date.now() < deadline) {
    last = (await env.system.query([job])).get(job.id);
    if (last && test(last)) return last;
    await new Promise((r) => setTimeout(r, env.pollMs));
  }
  throw new Error(`job ${job.id} never ${what}; last seen ${JSON.stringify(last)}`);
}

const running = (s: JobStatus) => s.phase === "running";
const gone = { timeoutMs: 45_000, intervalMs: 100 };

/** Registers the contract's tests for `target`. */
export function batchSystemContract(target: ContractTarget): void {
  const test = (name: string, fn: (env: ContractEnv, jobs: JobRef[]) => Promise<void>) => {
    Deno.test({ name: `${target.name}: ${name}`, ignore: target.ignore }, async () => {
      const env = await target.setup();
      const jobs: JobRef[] = [];
      try {
        await fn(env, jobs);
      } finally {
        await env.cleanup(jobs);
      }
    });
  };

  test(
    "submit() returns the job by its name; query() shows it queued, then running on a node",
    async (env, jobs) => {
      const spec = env.spec("runs", RUNS);
      const job = await env.system.submit(spec);
      jobs.push(job);
      assert.equal(job.name, spec.name);
      assert.match(job.id, /^\d+$/);
      const first = (await env.system.query([job])).get(job.id)!;
      assert.ok(["queued", "running"].includes(first.phase), `queued or running: ${first.phase}`);
      const status = await until(env, job, "ran", running);
      assert.ok(
        status.phase === "running" && env.nodes.includes(status.node),
        JSON.stringify(status),
      );
      assert.deepEqual(status.job, job);
    },
  );

  test(
    "query() answers for many jobs at once; a job it does not know has ended, outcome unknown",
    async (env, jobs) => {
      const a = await env.system.submit(env.spec("a", RUNS));
      const b = await env.system.submit(env.spec("b", RUNS));
      jobs.push(a, b);
      const unknown = { id: "999999", name: "pvwtest-contract-unknown" };
      const statuses = await env.system.query([a, b, unknown]);
      assert.deepEqual([...statuses.keys()].sort(), [a.id, b.id, unknown.id].sort());
      assert.ok(["queued", "running"].includes(statuses.get(a.id)!.phase));
      const lost = statuses.get(unknown.id)!;
      assert.ok(
        lost.phase === "ended" && lost.outcome === "unknown" && lost.settled,
        JSON.stringify(lost),
      );
      assert.equal((await env.system.query([])).size, 0);
    },
  );

  test("a command that exits 3 ends the job: failed, exit code 3, settled", async (env, jobs) => {
    const job = await env.system.submit(env.spec("exit3", exits(3)));
    jobs.push(job);
    const status = await until(env, job, "ended", (s) => s.phase === "ended" && s.settled);
    assert.ok(status.phase === "ended");
    assert.equal(status.outcome, "failed");
    assert.equal(status.exitCode, 3);
    assert.equal(status.reason, "exited with code 3");
    assert.ok(status.node && env.nodes.includes(status.node), "it ran on a node");
  });

  test(
    "cancelAndWait() ends a running job for good: cancelled, settled; cancelling again is harmless",
    async (env, jobs) => {
      const job = await env.system.submit(env.spec("cancel", RUNS));
      jobs.push(job);
      await until(env, job, "ran", running);
      const final = await cancelAndWait(env.system, job, gone);
      assert.equal(final.outcome, "cancelled");
      assert.equal(final.settled, true);
      await env.system.cancel([job]);
      assert.equal((await env.system.query([job])).get(job.id)!.phase, "ended");
    },
  );

  test(
    "a full partition queues the next job with a reason and position 1; it runs once the first is gone",
    async (env, jobs) => {
      const first = await env.system.submit(
        env.spec("first", RUNS, { partition: env.fullPartition }),
      );
      jobs.push(first);
      await until(env, first, "ran", running);
      const second = await env.system.submit(
        env.spec("second", RUNS, { partition: env.fullPartition }),
      );
      jobs.push(second);
      const queued = await until(
        env,
        second,
        "waited for resources",
        (s) => s.batchReason === "Resources",
      );
      assert.ok(queued.phase === "queued", JSON.stringify(queued));
      assert.equal(queued.reason, "waiting for resources");
      assert.equal(queued.position, 1);
      assert.equal(queued.partition, env.fullPartition);
      await cancelAndWait(env.system, first, gone);
      await until(env, second, "ran after the first", running);
    },
  );

  test(
    "a job asking more time than its partition allows can never start: ended unrunnable, until cancelled",
    async (env, jobs) => {
      const job = await env.system.submit(
        env.spec("too_long", RUNS, {
          partition: env.fullPartition,
          timeMinutes: env.fullPartitionMaxMinutes + 10,
        }),
      );
      jobs.push(job);
      const status = await until(env, job, "was found unrunnable", (s) => s.phase === "ended");
      assert.ok(status.phase === "ended", JSON.stringify(status));
      assert.equal(status.outcome, "unrunnable");
      assert.equal(status.settled, false, "it still sits in the queue");
      // Slurm first says PartitionConfig (beyond the partition), then PartitionTimeLimit.
      assert.match(status.reason, /^can never start: .*partition/);
      const final = await cancelAndWait(env.system, job, gone);
      assert.equal(final.outcome, "cancelled");
    },
  );

  test("submit() to a partition that does not exist throws JobSubmitError", async (env) => {
    await assert.rejects(
      env.system.submit(env.spec("nosuch", RUNS, { partition: "nosuch" })),
      (err) => err instanceof JobSubmitError && /partition/i.test(err.message),
    );
  });

  test(
    "a job id under another name is not that job: unknown to query(), untouched by cancel()",
    async (env, jobs) => {
      const job = await env.system.submit(env.spec("owned", RUNS));
      jobs.push(job);
      await until(env, job, "ran", running);
      const impostor = { id: job.id, name: `${job.name}-not` };
      const seen = (await env.system.query([impostor])).get(job.id)!;
      assert.ok(seen.phase === "ended" && seen.outcome === "unknown", JSON.stringify(seen));
      await env.system.cancel([impostor]);
      assert.equal((await env.system.query([job])).get(job.id)!.phase, "running");
    },
  );

  test("an unreachable controller makes every operation throw BatchSystemUnavailableError", async (env) => {
    const job = { id: "1", name: "pvwtest-contract-none" };
    const unavailable = (err: unknown) => err instanceof BatchSystemUnavailableError;
    await Promise.all([
      assert.rejects(env.unreachable.query([job]), unavailable),
      assert.rejects(env.unreachable.submit(env.spec("unreachable", RUNS)), unavailable),
      assert.rejects(env.unreachable.cancel([job]), unavailable),
    ]);
  });

  test("nodeAddress() gives the address the scheduler knows a node by, undefined for no node", async (env) => {
    const [node, address] = env.nodeAddress;
    assert.equal(await env.system.nodeAddress!(node), address);
    assert.equal(await env.system.nodeAddress!("nosuchnode"), undefined);
  });
}
