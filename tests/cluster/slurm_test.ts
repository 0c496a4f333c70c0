/**
 * SlurmBatchSystem in the situations no recording shows: an sbatch that timed out or
 * answered nonsense (a job may exist: it is cancelled by its unique name), commands that
 * cannot start, many ids, and a queue-position lookup that fails.
 */

import assert from "node:assert/strict";
import {
  BatchSystemUnavailableError,
  type CommandResult,
  type JobSpec,
  JobSubmitError,
  type RunOptions,
  SlurmBatchSystem,
} from "../../lib/cluster/mod.ts";
import { FakeSlurm } from "./fake_slurm.ts";

const spec: JobSpec = {
  name: "pvw-abc",
  argv: ["/bin/sh", "-c", "exec sleep 300"],
  outputFile: "/shared/logs/abc.log",
  env: {},
  resources: { extraArgs: [] },
};

/** A runner whose answers come from `answer`; it records every call. */
function scripted(answer: (command: string, args: readonly string[]) => CommandResult) {
  const calls: string[] = [];
  return {
    calls,
    run(command: string, args: readonly string[], _options?: RunOptions) {
      calls.push(`${command} ${args.join(" ")}`);
      return Promise.resolve(answer(command, args));
    },
  };
}

const result = (over: Partial<CommandResult>): CommandResult => ({
  code: 0,
  stdout: "",
  stderr: "",
  timedOut: false,
  ...over,
});

Deno.test("SlurmBatchSystem.submit(): an sbatch that timed out may have taken the job: it is cancelled by name", async () => {
  const runner = scripted((command) =>
    command === "sbatch" ? result({ code: 143, timedOut: true }) : result({})
  );
  await assert.rejects(new SlurmBatchSystem(runner).submit(spec), BatchSystemUnavailableError);
  assert.deepEqual(runner.calls.slice(1), ["scancel --name=pvw-abc"]);
});

Deno.test("SlurmBatchSystem.submit(): an answer that is not an id is an error, and the job is cancelled by name", async () => {
  const runner = scripted((command) =>
    command === "sbatch" ? result({ stdout: "Submitted batch job 5\n" }) : result({})
  );
  await assert.rejects(new SlurmBatchSystem(runner).submit(spec), JobSubmitError);
  assert.deepEqual(runner.calls.slice(1), ["scancel --name=pvw-abc"]);
});

Deno.test("SlurmBatchSystem: a command that cannot start makes the cluster unavailable", async () => {
  const runner = { run: () => Promise.reject(new Error("No such file or directory")) };
  const slurm = new SlurmBatchSystem(runner);
  await assert.rejects(slurm.query([{ id: "1", name: "x" }]), /cannot run squeue: No such file/);
  await assert.rejects(slurm.submit(spec), BatchSystemUnavailableError);
});

Deno.test("SlurmBatchSystem.query() asks about 500 ids per squeue call", async () => {
  const fake = new FakeSlurm();
  const slurm = new SlurmBatchSystem(fake);
  const jobs = Array.from({ length: 1201 }, (_, i) => ({ id: String(i + 1), name: `pvw-${i}` }));
  const statuses = await slurm.query(jobs);
  assert.equal(statuses.size, 1201);
  const asked = fake.calls.filter((c) => c.command === "squeue").map((c) =>
    c.args.find((a) => a.startsWith("--jobs="))!.split(",").length
  );
  assert.deepEqual(asked, [500, 500, 201]);
});

Deno.test("SlurmBatchSystem.query(): when the queue cannot be ranked, queued jobs come without a position", async () => {
  const fake = new FakeSlurm();
  const slurm = new SlurmBatchSystem({
    run: (command: string, args: readonly string[], options?: RunOptions) =>
      args.includes("--states=PENDING")
        ? Promise.resolve(result({ code: 1, stderr: "slurm_load_jobs error: Socket timed out\n" }))
        : fake.run(command, args, options),
  });
  const tiny = { ...spec, resources: { partition: "tiny", extraArgs: [] } };
  await slurm.submit({ ...tiny, name: "first" });
  const second = await slurm.submit({ ...tiny, name: "second" });
  const status = (await slurm.query([second])).get(second.id)!;
  assert.ok(status.phase === "queued" && status.position === undefined, JSON.stringify(status));
});
