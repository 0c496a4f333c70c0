/**
 * Sessions that run as Slurm jobs, over a fake Slurm that answers as the real one does
 * (tests/cluster/fake_slurm.ts): submission with the app's settings within the admin's
 * limits, queued then starting then ready with their progress, the queue timeout, a job that
 * ends first, stops that cancel the job and wait for it, a job Slurm ends, and adoption.
 */

import assert from "node:assert/strict";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import {
  JobPoller,
  NodeHosts,
  parseClusterSettings,
  parseSlurmSettings,
  SlurmBatchSystem,
} from "../../lib/cluster/mod.ts";
import type { AppConfig } from "../../lib/config/mod.ts";
import { LaunchError } from "../../lib/errors/mod.ts";
import { JobLimitError, UnknownSessionError } from "../../lib/sessions/errors.ts";
import { SessionManager } from "../../lib/sessions/manager.ts";
import { PortPool } from "../../lib/sessions/port_pool.ts";
import type { ProgressEvent } from "../../lib/sessions/progress.ts";
import type { SessionInfo } from "../../lib/sessions/record.ts";
import type { StopReason } from "../../lib/sessions/stop_reasons.ts";
import { SessionTable } from "../../lib/sessions/table.ts";
import type { SavedSession } from "../../lib/sessions/state_file.ts";
import { within } from "../integration/harness.ts";
import { type FakeJob, FakeSlurm } from "../cluster/fake_slurm.ts";
import { FakeFollower, FakeMap, FakeSpawner, testConfig } from "../fakes.ts";

const VIZ: AppConfig = {
  name: "viz",
  cmd: ["pvpython", "--host", "$host", "--port", "$port", "--minutes", "$minutes"],
  env: { APP: "1" },
  readyLines: ["Starting factory"],
  timeoutMs: 10_000,
  wsPath: "/ws",
  warm: 0,
  queueTimeoutMs: 10_000,
  slurm: parseSlurmSettings({
    partition: "${partition}",
    time: "$minutes",
    max: { time: "4:00:00" },
    choices: { partition: ["viz", "tiny"] },
  }).settings,
};

interface Harness {
  slurm: FakeSlurm;
  follower: FakeFollower;
  map: FakeMap;
  table: SessionTable;
  sessions: SessionManager;
  cluster: PortPool;
  ended: [string, StopReason][];
  /** The fake job of a session, once submitted. */
  jobOf(id: string): FakeJob | undefined;
  /** Waits (event by event, with a deadline) until `test` holds. */
  until(what: string, test: () => boolean): Promise<void>;
  close(): Promise<void>;
}

function setUp(
  apps: Record<string, AppConfig> = { viz: VIZ },
  table = new SessionTable(),
  prepareLog?: (path: string) => void,
): Harness {
  const slurm = new FakeSlurm();
  const system = new SlurmBatchSystem(slurm);
  const poller = new JobPoller(system, { intervalMs: 5 });
  const settings = parseClusterSettings({
    port_range: [9101, 9102],
    node_hosts: { n2: "10.0.0.2" },
    job_prefix: "pvwunit-",
    cancel_timeout: 5,
  }).settings!;
  const cluster = new PortPool([{ host: "", first: 9101, last: 9102 }]);
  const follower = new FakeFollower();
  const map = new FakeMap();
  const config = testConfig({ apps, cluster: settings, sessionUrl: "ws://$host:$port/ws" });
  const sessions = new SessionManager({
    config,
    table,
    pool: new PortPool(config.resources),
    cluster: {
      system,
      poller,
      hosts: new NodeHosts(settings.nodeHosts, (n) => system.nodeAddress(n)),
      pool: cluster,
      settings,
      ...(prepareLog ? { prepareLog } : {}),
    },
    spawner: new FakeSpawner(),
    follower,
    map,
    reapIntervalMs: 5,
  });
  const ended: [string, StopReason][] = [];
  sessions.onEnded((s, reason) => ended.push([s.id, reason]));
  const jobOf = (id: string) => [...slurm.jobs.values()].find((j) => j.name === `pvwunit-${id}`);
  return {
    slurm,
    follower,
    map,
    table,
    sessions,
    cluster,
    ended,
    jobOf,
    until: (what, test) => {
      const check = async () => {
        while (!test()) await new Promise((r) => setTimeout(r, 1));
      };
      return within(5000, what, check());
    },
    close: () => sessions.stopAll(),
  };
}

/** The kinds of events streamed, each run of the same kind once (a queue reason may change). */
const kinds = (events: ProgressEvent[]) =>
  events.map((e) => e.type).filter((type, i, all) => type !== all[i - 1]);

/** Launches with `onAccepted`, and returns the session as soon as it has its id. */
async function accepted(
  h: Harness,
  body: Record<string, unknown>,
): Promise<{ session: SessionInfo; launching: Promise<SessionInfo>; events: ProgressEvent[] }> {
  const got = Promise.withResolvers<SessionInfo>();
  const launching = h.sessions.launch(body, { onAccepted: got.resolve });
  launching.catch(() => {});
  const session = await got.promise;
  const events: ProgressEvent[] = [];
  const progress = h.sessions.progress(session.id)!;
  events.push(...progress.events());
  progress.follow((e) => events.push(e));
  return { session, launching, events };
}

Deno.test("a Slurm session is queued, then starts on a node, then is ready, its answer and map line at the node's host", async () => {
  const h = setUp();
  try {
    const blocker = await accepted(h, { application: "viz", partition: "tiny", minutes: 5 });
    await h.until("the first job runs", () => h.jobOf(blocker.session.id)?.state === "RUNNING");
    const { session, launching, events } = await accepted(h, {
      application: "viz",
      partition: "tiny",
      minutes: 2,
    });
    await h.until("the second job waits", () => session.job?.reason === "waiting for resources");
    assert.equal(h.sessions.describe(session.id).state, "queued");
    assert.deepEqual(kinds(events), ["queued"]);
    const history = h.sessions.progress(session.id)!.events();
    assert.equal(history.length, 1, "only the latest queued event is kept");
    const queued = history[0].data as Record<string, unknown>;
    assert.equal(queued.position, 1);
    assert.equal(queued.partition, "tiny");

    const job = h.jobOf(session.id)!;
    assert.deepEqual(job.argv, [
      "pvpython",
      "--host",
      "0.0.0.0",
      "--port",
      "9102",
      "--minutes",
      "2",
    ]);
    const sbatch = h.slurm.calls.find((c) =>
      c.command === "sbatch" && c.args.includes("--job-name=pvwunit-" + session.id)
    )!;
    assert.ok(sbatch.args.includes("--time=2"), sbatch.args.join(" "));
    assert.ok(sbatch.args.includes("--partition=tiny"));
    assert.ok(sbatch.args.includes(`--output=/var/log/pvw/${session.id}.log`));

    await h.sessions.stop(blocker.session.id);
    await h.until("the second job runs", () => job.state === "RUNNING");
    await h.until("the node is known", () => events.some((e) => e.type === "starting"));
    h.follower.write(`/var/log/pvw/${session.id}.log`, "wslink: Starting factory\n");
    const ready = await launching;
    assert.equal(ready.state, "ready");
    assert.equal(ready.host, "127.0.0.1", "Slurm's NodeAddr of n3");
    assert.equal(ready.answer.sessionURL, "ws://127.0.0.1:9102/ws");
    assert.equal(h.map.lines.get(session.id), "127.0.0.1:9102");
    assert.deepEqual(kinds(events), ["queued", "starting", "ready"]);
    assert.deepEqual(events.find((e) => e.type === "starting")!.data, {
      id: session.id,
      node: "n3",
      host: "127.0.0.1",
      port: 9102,
    });
    const about = h.sessions.describe(session.id) as Record<string, unknown>;
    assert.equal(about.state, "ready");
    assert.deepEqual(about.job, { ...ready.job });
    assert.equal((about.job as Record<string, unknown>).node, "n3");
  } finally {
    await h.close();
  }
});

Deno.test("job settings beyond the admin's limits are a 400, and nothing is submitted", async () => {
  const h = setUp();
  try {
    const err = await h.sessions.launch({ application: "viz", partition: "viz", minutes: 300 })
      .catch((e) => e);
    assert.ok(err instanceof JobLimitError, String(err));
    assert.equal(err.status, 400);
    assert.match(err.message, /slurm.time: 5:00:00 is more than the 4:00:00 allowed/);
    const other = await h.sessions.launch({ application: "viz", partition: "big", minutes: 5 })
      .catch((e) => e);
    assert.ok(other instanceof JobLimitError);
    assert.match(other.message, /slurm.partition: "big" is not one of "viz", "tiny"/);
    assert.deepEqual(h.slurm.calls.filter((c) => c.command === "sbatch"), []);
    assert.deepEqual([h.cluster.available, h.sessions.size], [2, 0]);
  } finally {
    await h.close();
  }
});

Deno.test("a job that waits past queue_timeout is cancelled: 503 with Retry-After and the reason", async () => {
  const h = setUp({ viz: { ...VIZ, queueTimeoutMs: 50 } });
  try {
    const blocker = await accepted(h, { application: "viz", partition: "tiny", minutes: 5 });
    await h.until("the first job runs", () => h.jobOf(blocker.session.id)?.state === "RUNNING");
    const second = await accepted(h, { application: "viz", partition: "tiny", minutes: 5 });
    const err = await second.launching.catch((e) => e);
    assert.ok(err instanceof LaunchError, String(err));
    assert.equal(err.reason, "queue_timeout");
    assert.equal(err.status, 503);
    assert.equal(err.headers["retry-after"], "30");
    assert.match(
      err.message,
      /waited 0.05 s in the Slurm queue without starting \(waiting for resources\); its job was cancelled/,
    );
    assert.equal(h.jobOf(second.session.id)!.state, "CANCELLED");
    assert.deepEqual(kinds(second.events), ["queued", "failed"]);
    assert.deepEqual(second.events.at(-1)!.data, {
      id: second.session.id,
      error: err.message,
      status: 503,
    });
    assert.ok(h.sessions.progress(second.session.id)?.done, "a client that asks later learns why");
    assert.deepEqual([h.cluster.available, h.sessions.size], [1, 1]);
  } finally {
    await h.close();
  }
});

Deno.test("a job that exits before its ready line fails the launch with its exit code", async () => {
  const h = setUp({
    viz: {
      ...VIZ,
      cmd: ["/bin/sh", "-c", "echo no; exit 3"],
      slurm: parseSlurmSettings({}).settings,
    },
  });
  try {
    const err = await h.sessions.launch({ application: "viz" }).catch((e) => e);
    assert.ok(err instanceof LaunchError, String(err));
    assert.deepEqual([err.reason, err.exitCode], ["exited", 3]);
    assert.match(err.message, /its job 1 on n1 ended before it was ready: exited with code 3/);
    assert.deepEqual([h.cluster.available, h.sessions.size], [2, 0]);
  } finally {
    await h.close();
  }
});

/** Launches a session and makes it ready as soon as its job runs. */
async function launchReady(h: Harness, body: Record<string, unknown>): Promise<SessionInfo> {
  const { session, launching } = await accepted(h, body);
  await h.until("the job runs", () => h.jobOf(session.id)?.state === "RUNNING");
  h.follower.write(`/var/log/pvw/${session.id}.log`, "Starting factory\n");
  return await launching;
}

Deno.test("DELETE cancels a session's job and waits until Slurm says it is gone", async () => {
  const h = setUp();
  try {
    const s = await launchReady(h, { application: "viz", partition: "viz", minutes: 5 });
    const job = h.jobOf(s.id)!;
    await h.sessions.stop(s.id);
    assert.equal(job.state, "CANCELLED", "past COMPLETING");
    const scancel = h.slurm.calls.filter((c) => c.command === "scancel");
    assert.deepEqual(scancel.map((c) => c.args), [[`--name=pvwunit-${s.id}`, String(job.id)]]);
    assert.deepEqual([h.map.lines.size, h.cluster.available, h.sessions.size], [0, 2, 0]);
    assert.deepEqual(h.ended, [[s.id, "deleted"]]);
  } finally {
    await h.close();
  }
});

Deno.test("a session whose job Slurm ends (time limit, exit) ends, saying how", async () => {
  const h = setUp();
  try {
    const s = await launchReady(h, { application: "viz", partition: "viz", minutes: 5 });
    const job = h.jobOf(s.id)!;
    Object.assign(job, { state: "TIMEOUT", reason: "TimeLimit", exitStatus: 15 });
    await h.until("the session ends", () => h.ended.length === 1);
    assert.deepEqual(h.ended, [[s.id, "job_ended"]]);
    assert.equal(s.job?.reason, "was killed at its time limit (5:00)");
    assert.equal(s.job?.phase, "ended");
    assert.deepEqual([h.map.lines.size, h.cluster.available], [0, 2]);
    assert.throws(() => h.sessions.describe(s.id), UnknownSessionError);
  } finally {
    await h.close();
  }
});

Deno.test("a session whose job is seen completing first ends, and is logged, with how the job ended, not 'is ending'", async () => {
  const records: LogRecord[] = [];
  await configure({
    sinks: { memory: (r: LogRecord) => void records.push(r) },
    loggers: [{ category: ["pvw-launcher"], lowestLevel: "warning", sinks: ["memory"] }],
  });
  const h = setUp();
  try {
    const s = await launchReady(h, { application: "viz", partition: "viz", minutes: 5 });
    const job = h.jobOf(s.id)!;
    Object.assign(job, {
      state: "COMPLETING",
      then: "FAILED",
      reason: "NonZeroExitCode",
      exitStatus: 3 << 8,
    });
    await h.until("the session ends", () => h.ended.length === 1);
    assert.deepEqual(h.ended, [[s.id, "job_ended"]]);
    assert.equal(s.job?.reason, "exited with code 3");
    const said = records.find((r) => r.properties.id === s.id && "reason" in r.properties);
    assert.equal(said?.properties.reason, "exited with code 3", "the log says how");
  } finally {
    await h.close();
    await reset();
  }
});

Deno.test("a job that runs but prints no ready line in time is cancelled: 503 timeout", async () => {
  const h = setUp({ viz: { ...VIZ, timeoutMs: 50 } });
  try {
    const { session, launching } = await accepted(h, {
      application: "viz",
      partition: "viz",
      minutes: 5,
    });
    const err = await launching.catch((e) => e);
    assert.ok(err instanceof LaunchError, String(err));
    assert.equal(err.reason, "timeout");
    assert.match(
      err.message,
      /printed no ready line \("Starting factory"\) within 0.05 s of starting on n\d and was stopped/,
    );
    assert.equal(h.jobOf(session.id)!.state, "CANCELLED");
    assert.deepEqual([h.cluster.available, h.sessions.size], [2, 0]);
  } finally {
    await h.close();
  }
});

Deno.test("a Slurm session past its max_lifetime is stopped: its job cancelled", async () => {
  const h = setUp({ viz: { ...VIZ, maxLifetimeMs: 30 } });
  try {
    const s = await launchReady(h, { application: "viz", partition: "viz", minutes: 5 });
    await h.until("the session ends", () => h.ended.length === 1);
    assert.deepEqual(h.ended, [[s.id, "lifetime"]]);
    assert.equal(h.jobOf(s.id)!.state, "CANCELLED");
    assert.deepEqual([h.map.lines.size, h.cluster.available], [0, 2]);
  } finally {
    await h.close();
  }
});

Deno.test("a queued session whose id was given out can be deleted: its job is cancelled and its launch fails", async () => {
  const h = setUp();
  try {
    const blocker = await accepted(h, { application: "viz", partition: "tiny", minutes: 5 });
    await h.until("the first job runs", () => h.jobOf(blocker.session.id)?.state === "RUNNING");
    const { session, launching } = await accepted(h, {
      application: "viz",
      partition: "tiny",
      minutes: 5,
    });
    await h.until(
      "it waits",
      () => session.job?.phase === "queued" && session.job.reason !== "submitted",
    );
    await h.sessions.stop(session.id);
    const err = await launching.catch((e) => e);
    assert.ok(err instanceof LaunchError);
    assert.deepEqual([err.reason, err.message], [
      "stopped",
      'application "viz" was stopped before it was ready',
    ]);
    assert.equal(h.jobOf(session.id)!.state, "CANCELLED");
  } finally {
    await h.close();
  }
});

Deno.test("a session not announced is not described before it is ready; stopping it (as the dashboard may) cancels its job", async () => {
  const h = setUp();
  try {
    const launching = h.sessions.launch({ application: "viz", partition: "viz", minutes: 5 });
    const failed = launching.catch((e) => e);
    await h.until("submitted", () => h.slurm.jobs.size === 1);
    const id = h.table.records()[0].id;
    assert.throws(() => h.sessions.describe(id), UnknownSessionError);
    assert.equal(h.sessions.progress(id), undefined);
    await h.sessions.stop(id);
    const err = await failed;
    assert.ok(err instanceof LaunchError, String(err));
    assert.equal(err.reason, "stopped");
    assert.equal(h.jobOf(id)!.state, "CANCELLED");
    assert.equal(h.table.size, 0);
  } finally {
    await h.close();
  }
});

Deno.test("a Slurm session stopped as its ready line comes is never mapped, and its port is free", async () => {
  const h = setUp();
  try {
    const failed = h.sessions.launch({ application: "viz", partition: "viz", minutes: 5 }).catch(
      (e) => e,
    );
    await h.until("submitted", () => h.slurm.jobs.size === 1);
    const id = h.table.records()[0].id;
    await h.until("runs", () => h.jobOf(id)?.state === "RUNNING");
    h.follower.write(`/var/log/pvw/${id}.log`, "Starting factory\n");
    await h.sessions.stop(id);
    const err = await failed;
    assert.ok(err instanceof LaunchError, String(err));
    assert.equal(err.reason, "stopped");
    assert.equal(h.map.lines.size, 0, "no map line may name a session that ended");
    assert.equal(h.cluster.available, 2);
    assert.equal(h.jobOf(id)!.state, "CANCELLED");
  } finally {
    await h.close();
  }
});

Deno.test("a job's log is made before its job is submitted; when it cannot be, nothing is submitted", async () => {
  const prepared: [string, number][] = [];
  let refuse = false;
  const h = setUp({ viz: VIZ }, new SessionTable(), (path) => {
    if (refuse) throw new Error("EACCES: permission denied");
    prepared.push([path, h.slurm.jobs.size]);
  });
  try {
    const launching = h.sessions.launch({ application: "viz", partition: "viz", minutes: 5 });
    await h.until("submitted", () => h.slurm.jobs.size === 1);
    const id = h.table.records()[0].id;
    assert.deepEqual(prepared, [[`/var/log/pvw/${id}.log`, 0]], "made before any job exists");
    await h.until("runs", () => h.jobOf(id)?.state === "RUNNING");
    h.follower.write(`/var/log/pvw/${id}.log`, "Starting factory\n");
    await launching;
    await h.sessions.stop(id);
    refuse = true;
    const err = await h.sessions.launch({ application: "viz", partition: "viz", minutes: 5 })
      .catch((e) => e);
    assert.ok(err instanceof LaunchError, String(err));
    assert.deepEqual([err.status, err.reason], [503, "spawn_error"]);
    assert.match(err.message, /the log of application "viz" cannot be made: EACCES/);
    assert.equal(h.slurm.jobs.size, 1, "no second job");
    assert.equal(h.cluster.available, 2);
  } finally {
    await h.close();
  }
});

Deno.test("an unreachable Slurm fails the launch with 503", async () => {
  const h = setUp();
  try {
    h.slurm.reachable = false;
    const err = await h.sessions.launch({ application: "viz", partition: "viz", minutes: 5 }).catch(
      (e) => e,
    );
    assert.ok(err instanceof LaunchError, String(err));
    assert.deepEqual([err.status, err.reason], [503, "spawn_error"]);
    assert.match(err.message, /Slurm cannot be reached/);
    h.slurm.reachable = true;
  } finally {
    await h.close();
  }
});

Deno.test("a restarted launcher adopts its running and queued jobs by id, drops ended ones, and touches no other job", async () => {
  const first = setUp();
  const table = first.table;
  const ready = await launchReady(first, { application: "viz", partition: "tiny", minutes: 5 });
  const queued = await accepted(first, { application: "viz", partition: "tiny", minutes: 5 });
  await first.until("queued", () => queued.session.job?.reason === "waiting for resources");
  const saved: SavedSession[] = [...table.savedJson()].map((j) => JSON.parse(j));
  assert.deepEqual(saved.map((s) => s.id), [ready.id, queued.session.id]);

  // A second launcher, on the cluster as the first left it (its jobs run on without it).
  const h = setUp();
  for (const [id, job] of first.slurm.jobs) h.slurm.jobs.set(id, structuredClone(job));
  await first.close();
  const other = {
    ...h.jobOf(ready.id)!,
    id: 77,
    name: "somebody-else",
    partition: "viz",
    nodes: ["n1"],
  };
  h.slurm.jobs.set(77, other);
  try {
    const forged = { ...saved[0], id: "forged", job: { id: "77", name: "somebody-else" } };
    const ended = {
      ...saved[0],
      id: "endedjob",
      job: { id: "99", name: "pvwunit-endedjob" },
      port: 9101,
    };
    const result = await h.sessions.adopt([...saved, forged, ended] as SavedSession[]);
    assert.deepEqual(result, { adopted: 2, stopped: 0, dropped: 2 });
    assert.equal(h.sessions.describe(ready.id).state, "ready");
    assert.equal(h.map.lines.get(ready.id), `${ready.host}:${ready.port}`);
    const pending = h.sessions.describe(queued.session.id);
    assert.deepEqual([pending.state, (pending.job as Record<string, unknown>).id], ["queued", "2"]);

    // The adopted ready session's job ends the session; the queued one starts and is followed.
    await h.sessions.stop(ready.id);
    await h.until("the queued job runs", () => h.jobOf(queued.session.id)?.state === "RUNNING");
    h.follower.write(`/var/log/pvw/${queued.session.id}.log`, "Starting factory\n");
    await h.until("it is ready", () => h.sessions.describe(queued.session.id).state === "ready");
    const answer = h.sessions.describe(queued.session.id) as Record<string, unknown>;
    assert.equal(answer.sessionURL, `ws://127.0.0.1:9102/ws`);
    assert.equal(answer.secret, queued.session.answer.secret);
    await h.sessions.stop(queued.session.id);
    assert.equal(other.state, "RUNNING", "a job not the launcher's is never touched");
    const cancelled = h.slurm.calls.filter((c) => c.command === "scancel").flatMap((c) => c.args);
    assert.ok(!cancelled.includes("77"), cancelled.join(" "));
  } finally {
    await h.close();
  }
});
