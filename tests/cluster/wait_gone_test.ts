import assert from "node:assert/strict";
import {
  cancelAndWait,
  JobNotGoneError,
  type JobSpec,
  SlurmBatchSystem,
} from "../../lib/cluster/mod.ts";
import { FakeSlurm } from "./fake_slurm.ts";
import { ManualClock } from "./manual_clock.ts";

const spec = (argv = ["/bin/sh", "-c", "exec sleep 300"]): JobSpec => ({
  name: "pvw-stop",
  argv,
  outputFile: "/shared/logs/stop.log",
  env: {},
  resources: { extraArgs: [] },
});

Deno.test("cancelAndWait() waits past COMPLETING until the job is settled", async () => {
  const fake = new FakeSlurm();
  const slurm = new SlurmBatchSystem(fake);
  const clock = new ManualClock();
  const job = await slurm.submit(spec());
  const final = await clock.drive(cancelAndWait(slurm, job, { timeoutMs: 45_000, clock }));
  assert.deepEqual([final.outcome, final.settled], ["cancelled", true]);
  assert.deepEqual(clock.sleeps, [200], "one look saw COMPLETING, the next CANCELLED");
  assert.equal(fake.calls.filter((c) => c.command === "scancel").length, 1);
});

Deno.test("cancelAndWait() returns at once for a job that already ended", async () => {
  const fake = new FakeSlurm();
  const slurm = new SlurmBatchSystem(fake);
  const clock = new ManualClock();
  const job = await slurm.submit(spec(["/bin/sh", "-c", "exit 0"]));
  const final = await cancelAndWait(slurm, job, { timeoutMs: 45_000, clock });
  assert.equal(final.outcome, "completed");
  assert.deepEqual(clock.sleeps, []);
});

Deno.test("cancelAndWait() cancels again while the controller is unreachable, never taking it for gone", async () => {
  const fake = new FakeSlurm();
  const slurm = new SlurmBatchSystem(fake);
  const clock = new ManualClock();
  const job = await slurm.submit(spec());
  fake.reachable = false;
  const waiting = cancelAndWait(slurm, job, { timeoutMs: 45_000, clock });
  assert.equal(await clock.tick(), 400);
  assert.equal(await clock.tick(), 800);
  fake.reachable = true;
  const final = await clock.drive(waiting);
  assert.equal(final.outcome, "cancelled");
  assert.deepEqual(clock.sleeps, [200, 400, 800, 1000]);
  const tries = fake.calls.filter((c) => c.command === "scancel").length;
  assert.equal(tries, 4, "three refused, one taken");
});

Deno.test("cancelAndWait() gives up at its deadline with what it last saw", async () => {
  const fake = new FakeSlurm();
  const slurm = new SlurmBatchSystem(fake);
  const clock = new ManualClock();
  const job = await slurm.submit(spec());
  fake.reachable = false;
  await assert.rejects(
    clock.drive(cancelAndWait(slurm, job, { timeoutMs: 5000, clock })),
    (err) => {
      assert.ok(err instanceof JobNotGoneError);
      assert.match(err.message, /the scheduler did not answer/);
      return true;
    },
  );
  assert.ok(clock.time >= 5000 && clock.time < 6000, `stopped at the deadline: ${clock.time}`);
});
