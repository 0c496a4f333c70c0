/**
 * The launcher with applications that run as Slurm jobs, on the real cluster of
 * `.ci/setup-slurm` (nodes n1-n3, all on 127.0.0.1): sessions land on several nodes and are
 * reached through the built-in proxy; a drained node gets none; a full partition queues a
 * session with its reason, in its event stream, until another is deleted; `queue_timeout`
 * answers 503 and leaves no job; a job that exits first answers 503 with its exit; DELETE
 * leaves no job and no process; a launcher killed with SIGKILL and started again adopts its
 * running and queued jobs; a job killed at its time limit ends its session, saying so.
 *
 * Every job of this file is named `pvwtest-wire-<random>-<session id>`: cleaning up cancels
 * those only, never the jobs other test runs have on the shared cluster.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  DEMO_APP,
  freePortRange,
  type Launcher,
  mapLines,
  restartLauncher,
  specConfig,
  startLauncher,
  within,
} from "../integration/harness.ts";
import { EventReader } from "../integration/sse.ts";
import {
  assertNothingLeft,
  cancelTestJobs,
  drainNode,
  jobProcesses,
  listJobs,
  resumeNode,
  SLURM_CONF,
  SLURM_NODES,
  slurmNeeds,
  TEST_JOB_PREFIX,
  waitForNodesUsable,
} from "./slurm.ts";

const PREFIX = `${TEST_JOB_PREFIX}wire-${crypto.randomUUID().slice(0, 8)}-`;
const DEMO = [...DEMO_APP, "--host", "$host", "--timeout", "0"];
const VIZ = { cmd: DEMO, slurm: { partition: "viz", time: "10" } };
const TINY = { cmd: DEMO, slurm: { partition: "tiny", time: "5" } };

/** A launcher whose applications run on the cluster; its session logs are the jobs' output. */
async function clusterLauncher(
  apps: Record<string, Record<string, unknown>>,
  extra: Record<string, unknown> = {},
): Promise<Launcher> {
  return await startLauncher((dir) =>
    specConfig(dir, apps, {
      cluster: {
        slurm_conf: SLURM_CONF,
        port_range: freePortRange(20),
        job_prefix: PREFIX,
        poll_interval: 0.2,
      },
      ...extra,
    })
  );
}

/** Every job this file submitted (live or ended), by name prefix. */
async function ourJobs(): Promise<string[]> {
  return (await listJobs({ all: true })).filter((j) => j.name.startsWith(PREFIX)).map((j) => j.id);
}

/** Runs a test against the cluster; stops the launchers, then checks nothing is left. */
function slurmTest(name: string, fn: (launchers: Launcher[]) => Promise<void>): void {
  Deno.test({ name, ignore: slurmNeeds.ignore }, async () => {
    slurmNeeds.check();
    await waitForNodesUsable();
    const launchers: Launcher[] = [];
    try {
      await fn(launchers);
    } finally {
      for (const l of launchers) {
        await l.stop();
        await Deno.remove(l.dir, { recursive: true }).catch(() => {});
      }
      const ids = await ourJobs();
      await cancelTestJobs(PREFIX);
      await assertNothingLeft(ids);
    }
  });
}

async function postAsync(launcher: Launcher, body: unknown) {
  const res = await fetch(launcher.endpoint, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { prefer: "respond-async" },
  });
  return { status: res.status, headers: res.headers, json: await res.json() };
}

/** GET of a session: its status and answer. */
function describe(launcher: Launcher, id: string) {
  return launcher.request("GET", `${launcher.endpoint}/${id}`);
}

/** Connects through the built-in proxy, sends the secret, and returns what the app says. */
async function throughProxy(launcher: Launcher, id: string, secret: string) {
  const ws = new WebSocket(`${launcher.base.replace("http", "ws")}/proxy/${id}`);
  try {
    const reply = new Promise<Record<string, unknown>>((resolve, reject) => {
      ws.onmessage = (e) => resolve(JSON.parse(e.data));
      ws.onerror = () => reject(new Error(`no WebSocket to session ${id}`));
    });
    await within(10_000, "the proxied WebSocket to open", new Promise((r) => ws.onopen = r));
    ws.send(secret);
    return await within(10_000, "the app's answer through the proxy", reply);
  } finally {
    const closed = new Promise((r) => ws.onclose = r);
    ws.close();
    await closed;
  }
}

slurmTest(
  "six sessions land on more than one node, each reachable through the built-in proxy; DELETE leaves no job and no process",
  async (launchers) => {
    const launcher = await clusterLauncher({ viz: VIZ });
    launchers.push(launcher);
    const posts = await Promise.all(
      [1, 2, 3, 4, 5, 6].map(() => launcher.post({ application: "viz" })),
    );
    for (const p of posts) assert.equal(p.status, 200, JSON.stringify(p.json));
    const nodes = new Set<string>();
    const jobs: string[] = [];
    for (const { json } of posts) {
      const got = await describe(launcher, json.id as string);
      const job = got.json.job as Record<string, string>;
      assert.deepEqual([got.status, got.json.state, job.phase], [200, "ready", "running"]);
      assert.ok(SLURM_NODES.includes(job.node), job.node);
      nodes.add(job.node);
      jobs.push(job.id);
      const app = await throughProxy(launcher, json.id as string, json.secret as string);
      assert.equal(app.authenticated, true);
      const mapped = (await mapLines(join(launcher.dir, "proxy.map"))).find((l) =>
        l.startsWith(`${json.id} `)
      );
      assert.equal(mapped, `${json.id} 127.0.0.1:${app.port}`, "the map file: the node's address");
    }
    assert.ok(nodes.size > 1, `on more than one node: ${[...nodes]}`);
    assert.equal(jobProcesses(jobs).length > 0, true, "the apps run as the jobs' processes");

    const deletes = await Promise.all(
      posts.map(({ json }) => launcher.request("DELETE", `${launcher.endpoint}/${json.id}`)),
    );
    for (const d of deletes) assert.equal(d.status, 200);
    // DELETE answers once Slurm says the job is gone: nothing may be left at that moment.
    await assertNothingLeft(jobs);
  },
);

slurmTest("a drained node gets no session", async (launchers) => {
  const launcher = await clusterLauncher({ viz: VIZ });
  launchers.push(launcher);
  await drainNode("n2");
  try {
    const posts = await Promise.all([1, 2, 3, 4].map(() => launcher.post({ application: "viz" })));
    const nodes = await Promise.all(posts.map(async ({ status, json }) => {
      assert.equal(status, 200, JSON.stringify(json));
      return ((await describe(launcher, json.id as string)).json.job as Record<string, string>)
        .node;
    }));
    assert.ok(!nodes.includes("n2"), `none on the drained node: ${nodes}`);
  } finally {
    await resumeNode("n2");
  }
});

slurmTest(
  "with its partition full a session is queued with a reason, in its event stream, and ready once another is deleted",
  async (launchers) => {
    const token = "a-dashboard-token-for-the-test";
    const launcher = await clusterLauncher({ tiny: TINY }, { admin_token: token });
    launchers.push(launcher);
    const first = await launcher.post({ application: "tiny" });
    assert.equal(first.status, 200, JSON.stringify(first.json));
    const second = await postAsync(launcher, { application: "tiny" });
    assert.equal(second.status, 202);
    const id = second.json.id as string;
    const events = await EventReader.open(
      `${launcher.base}${second.headers.get("location")}/events`,
    );
    let queued = await events.next();
    while (queued?.event === "queued" && queued.data.reason !== "waiting for resources") {
      queued = await events.next();
    }
    assert.equal(queued?.event, "queued");
    assert.equal(queued?.data.partition, "tiny");
    assert.equal(queued?.data.position, 1);
    const pending = await describe(launcher, id);
    assert.equal(pending.status, 202);
    assert.equal(pending.json.state, "queued");
    assert.equal((pending.json.job as Record<string, string>).reason, "waiting for resources");
    const dashboard = await fetch(`${launcher.base}/_dashboard/api/state`, {
      headers: { authorization: `Bearer ${token}` },
    }).then((r) => r.json());
    const stages = dashboard.sessions.map((s: Record<string, unknown>) => s.stage).sort();
    assert.deepEqual(stages, ["queued", "ready"], "the dashboard tells queued from running");

    assert.equal(
      (await launcher.request("DELETE", `${launcher.endpoint}/${first.json.id}`)).status,
      200,
    );
    const later = await events.rest(30_000);
    const starting = later.find((e) => e.event === "starting");
    assert.equal(starting?.data.node, "n3");
    const ready = later.at(-1)!;
    assert.equal(ready.event, "ready");
    assert.equal(ready.data.id, id);
    const app = await throughProxy(launcher, id, ready.data.secret as string);
    assert.equal(app.authenticated, true);
  },
);

slurmTest(
  "queue_timeout answers 503 with Retry-After and the reason, and leaves no job",
  async (launchers) => {
    const launcher = await clusterLauncher({ tiny: TINY, hurried: { ...TINY, queue_timeout: 2 } });
    launchers.push(launcher);
    assert.equal((await launcher.post({ application: "tiny" })).status, 200);
    const res = await fetch(launcher.endpoint, {
      method: "POST",
      body: JSON.stringify({ application: "hurried" }),
    });
    const answer = await res.json();
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("retry-after"), "30");
    assert.match(
      answer.error,
      /waited 2 s in the Slurm queue without starting \(.+\); its job was cancelled/,
    );
    const live = (await listJobs()).filter((j) => j.name.startsWith(PREFIX));
    assert.equal(live.length, 1, `only the first session's job: ${JSON.stringify(live)}`);
  },
);

slurmTest("a job that exits before its ready line answers 503 with its exit", async (launchers) => {
  const broken = { cmd: ["/bin/sh", "-c", "echo starting; exit 3"], slurm: {} };
  const launcher = await clusterLauncher({ broken });
  launchers.push(launcher);
  const post = await launcher.post({ application: "broken" });
  assert.equal(post.status, 503);
  assert.match(
    post.json.error as string,
    /its job \d+ on n\d ended before it was ready: exited with code 3/,
  );
});

slurmTest(
  "a launcher killed with SIGKILL and started again adopts its running and queued jobs; DELETE then cancels them",
  async (launchers) => {
    const first = await clusterLauncher({ tiny: TINY });
    launchers.push(first);
    const running = await first.post({ application: "tiny" });
    assert.equal(running.status, 200, JSON.stringify(running.json));
    const queued = await postAsync(first, { application: "tiny" });
    const queuedId = queued.json.id as string;
    await within(
      15_000,
      "the second session to be queued",
      (async () => {
        while (
          ((await describe(first, queuedId)).json.job as Record<string, string>)?.reason !==
            "waiting for resources"
        ) {
          await new Promise((r) => setTimeout(r, 100));
        }
      })(),
    );
    await first.stop("SIGKILL");
    const jobs = await ourJobs();
    assert.equal((await listJobs({ ids: jobs })).length, 2, "the jobs outlive the launcher");

    const second = await restartLauncher(first);
    launchers.push(second);
    await second.waitForLog(/adopted 2 sessions/);
    const ready = await describe(second, running.json.id as string);
    assert.deepEqual([ready.status, ready.json.state, ready.json.secret], [
      200,
      "ready",
      running.json.secret,
    ]);
    const app = await throughProxy(
      second,
      running.json.id as string,
      running.json.secret as string,
    );
    assert.equal(app.authenticated, true);
    const stillQueued = await describe(second, queuedId);
    assert.deepEqual([stillQueued.status, stillQueued.json.state], [202, "queued"]);

    const events = await EventReader.open(`${second.endpoint}/${queuedId}/events`);
    assert.equal(
      (await second.request("DELETE", `${second.endpoint}/${running.json.id}`)).status,
      200,
    );
    const ended = await events.rest(30_000);
    assert.equal(ended.at(-1)?.event, "ready");
    assert.equal((await second.request("DELETE", `${second.endpoint}/${queuedId}`)).status, 200);
    await assertNothingLeft(jobs);
  },
);

slurmTest(
  "a job killed at its Slurm time limit ends its session with that reason (about 70 s: Slurm counts minutes)",
  async (launchers) => {
    const token = "a-dashboard-token-for-the-test";
    const short = { cmd: DEMO, slurm: { partition: "viz", time: "1" } };
    const launcher = await clusterLauncher({ short }, { admin_token: token });
    launchers.push(launcher);
    const post = await launcher.post({ application: "short" });
    assert.equal(post.status, 200, JSON.stringify(post.json));
    const line = await launcher.waitForLog(
      /session (\S+): its job (\d+) on (n\d) ended: (.*)/,
      150_000,
    );
    assert.equal(line[1], post.json.id);
    assert.equal(line[4], "was killed at its time limit (1:00)");
    await launcher.waitForLog(new RegExp(`session ${post.json.id} ended: its batch job ended`));
    assert.equal((await describe(launcher, post.json.id as string)).status, 404);
    const state = await fetch(`${launcher.base}/_dashboard/api/state`, {
      headers: { authorization: `Bearer ${token}` },
    }).then((r) => r.json());
    assert.equal(state.failures[0].outcome, "job_ended");
    assert.match(state.failures[0].error, /^job \d+ on n\d was killed at its time limit \(1:00\)$/);
  },
);
