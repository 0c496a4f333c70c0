import assert from "node:assert/strict";
import {
  BatchSystemUnavailableError,
  JobPoller,
  type JobRef,
  type JobStatus,
  SlurmBatchSystem,
} from "../../lib/cluster/mod.ts";
import { FakeSlurm } from "./fake_slurm.ts";
import { ManualClock } from "./manual_clock.ts";

const RUNS = ["/bin/sh", "-c", "exec sleep 300"];

/** A fake cluster, the backend over it, a poller on a manual clock, and a job submitter. */
function setup(options: { maxIntervalMs?: number } = {}) {
  const fake = new FakeSlurm();
  const slurm = new SlurmBatchSystem(fake);
  const clock = new ManualClock();
  const errors: Error[] = [];
  const poller = new JobPoller(slurm, {
    clock,
    intervalMs: 1000,
    maxIntervalMs: options.maxIntervalMs ?? 8000,
    onError: (err) => errors.push(err),
  });
  let n = 0;
  const submit = (partition?: string) =>
    slurm.submit({
      name: `pvw-${++n}`,
      argv: RUNS,
      outputFile: `/shared/logs/${n}.log`,
      env: {},
      resources: { extraArgs: [], ...(partition ? { partition } : {}) },
    });
  /** Watches `job`, collecting what its listener hears. */
  const watch = (job: JobRef) => {
    const heard: JobStatus[] = [];
    const unwatch = poller.watch(job, (s) => heard.push(s));
    return { heard, unwatch };
  };
  const squeues = () =>
    fake.calls.filter((c) => c.command === "squeue" && c.args.includes("--states=all"));
  return { fake, slurm, clock, poller, errors, submit, watch, squeues };
}

/** A status in a few words, for comparing sequences. */
function brief(s: JobStatus): string {
  if (s.phase === "queued") return `queued ${s.batchReason} #${s.position}`;
  if (s.phase === "running") return `running ${s.node}`;
  return `ended ${s.outcome}${s.settled ? "" : " (unsettled)"}`;
}

Deno.test("JobPoller asks about all its jobs in one squeue call per interval", async () => {
  const { clock, poller, submit, watch, squeues } = setup();
  const jobs = [await submit(), await submit(), await submit()];
  const watchers = jobs.map(watch);
  assert.equal(await clock.sleeping(), 1000);
  await clock.tick();
  assert.equal(squeues().length, 1);
  assert.equal(
    squeues()[0].args.find((a) => a.startsWith("--jobs=")),
    `--jobs=${jobs.map((j) => j.id).join(",")}`,
  );
  assert.deepEqual(watchers.map((w) => w.heard.map(brief)), [["running n1"], ["running n2"], [
    "running n3",
  ]]);
  await clock.tick();
  assert.equal(squeues().length, 2);
  await poller.close();
});

Deno.test("JobPoller tells a watcher only of changes, and forgets a job once it is gone", async () => {
  const { fake, clock, poller, submit, watch } = setup();
  const job = await submit();
  const { heard } = watch(job);
  await clock.tick();
  await clock.tick();
  assert.deepEqual(heard.map(brief), ["running n1"], "nothing new: nothing told");
  fake.exit(Number(job.id), 4);
  await clock.tick();
  assert.deepEqual(heard.map(brief), ["running n1", "ended failed"]);
  const ended = heard[1];
  assert.ok(ended.phase === "ended" && ended.exitCode === 4 && ended.node === "n1");
  assert.deepEqual(poller.jobs, [], "gone: no longer watched");
  await poller.close();
});

Deno.test("JobPoller tells queue reasons and positions, then the node once the job runs", async () => {
  const { slurm, clock, poller, submit, watch } = setup();
  const first = await submit("tiny");
  const second = await submit("tiny");
  const third = await submit("tiny");
  const [a, b, c] = [watch(first), watch(second), watch(third)];
  await clock.tick();
  assert.deepEqual(b.heard.map(brief), ["queued Resources #1"]);
  assert.deepEqual(c.heard.map(brief), ["queued Priority #2"]);
  await slurm.cancel([first]);
  await clock.tick();
  await clock.tick();
  assert.deepEqual(a.heard.map(brief), [
    "running n3",
    "ended ending (unsettled)",
    "ended cancelled",
  ]);
  assert.deepEqual(b.heard.map(brief), ["queued Resources #1", "running n3"]);
  assert.deepEqual(c.heard.map(brief), ["queued Priority #2", "queued Resources #1"]);
  await poller.close();
});

Deno.test("JobPoller backs off while the controller is unreachable and tells no watcher", async () => {
  const { fake, clock, poller, errors, submit, watch } = setup({ maxIntervalMs: 8000 });
  const job = await submit();
  const { heard } = watch(job);
  watch(await submit());
  await clock.tick();
  fake.reachable = false;
  const delays = [];
  for (let i = 0; i < 5; i++) delays.push(await clock.tick());
  assert.deepEqual(delays, [2000, 4000, 8000, 8000, 8000]);
  assert.equal(errors.length, 5);
  assert.ok(errors.every((e) => e instanceof BatchSystemUnavailableError));
  assert.deepEqual(heard.map(brief), ["running n1"], "unknown is not a change");
  fake.reachable = true;
  fake.exit(Number(job.id), 0);
  assert.equal(await clock.tick(), 1000, "back to the interval once it answers");
  assert.deepEqual(heard.map(brief), ["running n1", "ended completed"]);
  await poller.close();
});

Deno.test("JobPoller: a failing listener does not keep the others from hearing", async () => {
  const { clock, poller, submit, watch } = setup();
  const job = await submit();
  const bug = () => {
    throw new Error("listener bug");
  };
  poller.watch(job, bug);
  const { heard } = watch(job);
  await clock.tick();
  assert.deepEqual(heard.map(brief), ["running n1"]);
  poller.watch(job, bug); // hears the last status at once, and fails there too
  await clock.tick();
  await poller.close();
});

Deno.test("JobPoller: a second watcher hears the last status at once; unwatch stops a listener", async () => {
  const { fake, clock, poller, submit, watch } = setup();
  const job = await submit();
  const first = watch(job);
  await clock.tick();
  const second = watch(job);
  await Promise.resolve();
  assert.deepEqual(second.heard.map(brief), ["running n1"]);
  first.unwatch();
  fake.exit(Number(job.id), 0);
  await clock.tick();
  assert.deepEqual(first.heard.map(brief), ["running n1"]);
  assert.deepEqual(second.heard.map(brief), ["running n1", "ended completed"]);
  await poller.close();
});

Deno.test("JobPoller polls only while jobs are watched; poll() asks at once", async () => {
  const { clock, poller, submit, watch, squeues } = setup();
  await Promise.resolve();
  assert.deepEqual(clock.sleeps, [], "idle: no sleeping, no polling");
  const job = await submit();
  const { heard, unwatch } = watch(job);
  await poller.poll();
  assert.deepEqual(heard.map(brief), ["running n1"]);
  unwatch();
  assert.equal(await clock.tick(), undefined, "no job left: the loop waits without sleeping");
  assert.equal(squeues().length, 1, "and the round asked nothing");
  await poller.close();
  assert.throws(() => poller.watch(job, () => {}), /closed/);
});

Deno.test("JobPoller.pollSoon(): the calls made before the poll starts share one squeue", async () => {
  const { poller, submit, watch, squeues } = setup();
  const jobs = [await submit(), await submit(), await submit()];
  const watchers = jobs.map(watch);
  await Promise.all([poller.pollSoon(), poller.pollSoon(), poller.pollSoon()]);
  assert.equal(squeues().length, 1, "one call for the three");
  assert.deepEqual(watchers.map((w) => w.heard.map(brief)), [["running n1"], ["running n2"], [
    "running n3",
  ]]);
  await poller.pollSoon();
  assert.equal(squeues().length, 2, "a call after that poll started gets one of its own");
  await poller.close();
});
