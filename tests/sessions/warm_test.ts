import assert from "node:assert/strict";
import type { AppConfig, LauncherConfig } from "../../lib/config/mod.ts";
import { NoCapacityError, UnknownSessionError } from "../../lib/sessions/errors.ts";
import { SessionManager } from "../../lib/sessions/manager.ts";
import { PortPool } from "../../lib/sessions/port_pool.ts";
import type { SavedSession } from "../../lib/sessions/state_file.ts";
import { SessionTable } from "../../lib/sessions/table.ts";
import { within } from "../integration/harness.ts";
import { FakeFollower, FakeMap, type FakeProcess, FakeSpawner, testConfig } from "../fakes.ts";

const APP: AppConfig = {
  name: "pv",
  cmd: ["/opt/pv", "--port", "$port", "--authKey", "$secret"],
  env: {},
  readyLines: ["Starting factory"],
  timeoutMs: 10_000,
  wsPath: "/ws",
  warm: 2,
};

/**
 * A manager whose `/opt/pv` processes print their ready line as soon as they start (unless
 * `silent`), and whose `/opt/cold` ones wait for the test.
 */
function setUp(overrides: Partial<LauncherConfig> = {}, behaviour = { silent: false }) {
  const follower = new FakeFollower();
  const ready = (p: FakeProcess) =>
    queueMicrotask(() => follower.write(p.request.logFile, "Starting factory"));
  const spawner = new FakeSpawner({
    "/opt/pv": (p) => behaviour.silent || ready(p),
    "/opt/cold": ready,
  });
  const config = testConfig({
    apps: { pv: APP, cold: { ...APP, name: "cold", cmd: ["/opt/cold", "$port"], warm: 0 } },
    resources: [{ host: "localhost", first: 9001, last: 9004 }],
    maxSessions: 4,
    ...overrides,
  });
  const table = new SessionTable();
  const map = new FakeMap();
  const pool = new PortPool(config.resources);
  let clock = 1_000_000;
  const sessions = new SessionManager({
    config,
    table,
    pool,
    spawner,
    follower,
    map,
    now: () => clock,
    reapIntervalMs: 2,
    warm: { firstRetryMs: 5, maxRetryMs: 40, stableMs: 60_000 },
  });
  const advance = (ms: number) => clock += ms;
  return { config, spawner, follower, map, pool, table, sessions, advance };
}

/** Waits, with a deadline, until `condition` holds (fakes and retries settle on timers). */
async function until(what: string, condition: () => boolean): Promise<void> {
  await within(
    5000,
    what,
    (async () => {
      while (!condition()) await new Promise((r) => setTimeout(r, 1));
    })(),
  );
}

const waiting = (s: SessionManager, app = "pv") =>
  s.warmCounts().find((c) => c.application === app)?.waiting ?? 0;

Deno.test("warmUp() starts the warm processes; they wait, and are no session to GET, DELETE or the proxy", async () => {
  const { sessions, spawner, map } = setUp();
  sessions.warmUp();
  await until("2 waiting", () => waiting(sessions) === 2);
  assert.equal(spawner.processes.length, 2);
  assert.deepEqual(sessions.list(), [], "no session");
  const [w] = sessions.warmProcesses();
  assert.equal(w.state, "waiting");
  assert.equal(sessions.route(w.id), undefined);
  assert.throws(() => sessions.get(w.id), UnknownSessionError);
  await assert.rejects(sessions.stop(w.id), UnknownSessionError);
  assert.equal(map.lines.size, 0, "not routed until handed out");
  await sessions.stopAll();
});

Deno.test("a POST gets a waiting process at once, with its id and secret, and a replacement starts", async () => {
  const { sessions, spawner, map, advance } = setUp();
  sessions.warmUp();
  await until("2 waiting", () => waiting(sessions) === 2);
  const [oldest] = sessions.warmProcesses();
  const startedBefore = oldest.startedAt;
  advance(60_000);
  const s = await sessions.launch({ application: "pv", user: "ann" });
  assert.equal(s.id, oldest.id, "the longest-waiting one");
  assert.equal(s.state, "ready");
  assert.equal(s.startedAt, startedBefore + 60_000, "its lifetime starts at hand-out");
  assert.deepEqual(s.answer, {
    application: "pv",
    user: "ann",
    id: s.id,
    sessionURL: `ws://localhost:8080/proxy/${s.id}`,
    secret: s.answer.secret,
  });
  const proc = spawner.processes.find((p) => p.pid === s.pid)!;
  assert.deepEqual(proc.request.args, ["--port", String(s.port), "--authKey", s.answer.secret]);
  assert.equal(map.lines.get(s.id), `localhost:${s.port}`);
  assert.equal(sessions.get(s.id), s);
  await until("the pool refilled", () => waiting(sessions) === 2);
  assert.equal(spawner.processes.length, 3);
  const [counts] = sessions.warmCounts();
  assert.deepEqual([counts.hits, counts.misses], [1, 0]);
  await sessions.stopAll();
});

Deno.test("a POST with its own secret starts cold, with that secret, and counts as a miss", async () => {
  const { sessions, spawner } = setUp();
  sessions.warmUp();
  await until("2 waiting", () => waiting(sessions) === 2);
  const s = await sessions.launch({ application: "pv", secret: "mine-and-only-mine" });
  assert.equal(s.answer.secret, "mine-and-only-mine");
  assert.ok(!sessions.warmProcesses().some((w) => w.id === s.id));
  assert.deepEqual(spawner.processes.at(-1)!.request.args.slice(2), [
    "--authKey",
    "mine-and-only-mine",
  ]);
  assert.equal(waiting(sessions), 2, "the waiting ones are still there");
  assert.equal(sessions.warmCounts()[0].misses, 1);
  await sessions.stopAll();
});

Deno.test("a warm process never makes a POST fail: at capacity a waiting one gives its place", async () => {
  // 4 places: 2 warm processes of pv, then cold sessions until every place is taken.
  const { sessions, pool } = setUp();
  sessions.warmUp();
  await until("2 waiting", () => waiting(sessions) === 2);
  const cold = [];
  for (let i = 0; i < 4; i++) cold.push(await sessions.launch({ application: "cold" }));
  assert.equal(sessions.list().length, 4);
  assert.equal(waiting(sessions), 0, "both gave their places");
  assert.equal(pool.available, 0);
  await assert.rejects(sessions.launch({ application: "cold" }), NoCapacityError);
  await sessions.stop(cold[0].id);
  await until("a place refilled with a warm process", () => waiting(sessions) === 1);
  await sessions.stopAll();
});

Deno.test("a warm process that dies while it waits is replaced, after a back-off when it dies soon", async () => {
  const { sessions, spawner } = setUp();
  sessions.warmUp();
  await until("2 waiting", () => waiting(sessions) === 2);
  const [first] = sessions.warmProcesses();
  spawner.processes.find((p) => p.pid === first.pid)!.exit({ code: 1, signal: null });
  await until("replaced", () => waiting(sessions) === 2 && spawner.processes.length === 3);
  assert.ok(!sessions.warmProcesses().some((w) => w.id === first.id));
  assert.equal(sessions.warmCounts()[0].failures, 1);
  await sessions.stopAll();
});

Deno.test("an app whose warm processes keep failing is retried with a growing back-off", async () => {
  const behaviour = { silent: true };
  const { sessions, spawner } = setUp({ apps: { pv: { ...APP, timeoutMs: 1 } } }, behaviour);
  sessions.warmUp();
  await until("three failures in a row", () => sessions.warmCounts()[0].failures >= 3);
  const starts = spawner.processes.length;
  // 2 at first, then 2 per retry: a back-off, not a loop (5, 10, 20 ms, then 40 ms).
  assert.ok(starts <= 2 * (sessions.warmCounts()[0].failures + 1), `${starts} starts`);
  behaviour.silent = false;
  await until("2 waiting once the app works", () => waiting(sessions) === 2);
  await sessions.stopAll();
});

Deno.test("warm processes are kept in the state file and adopted as warm by the next launcher", async () => {
  const first = setUp();
  first.sessions.warmUp();
  await until("2 waiting", () => waiting(first.sessions) === 2);
  const saved: SavedSession[] = [...first.table.savedJson()].map((j) => JSON.parse(j));
  assert.deepEqual(saved.map((s) => s.state), ["waiting", "waiting"]);
  const secrets = first.sessions.warmProcesses().map((w) => w.answer.secret);
  assert.deepEqual(saved.map((s) => s.state === "waiting" && s.secret), secrets);
  // The next launcher, on the same (fake) processes.
  const second = setUp();
  const spawner = first.spawner;
  const adopted = new SessionManager({
    config: second.config,
    table: second.table,
    pool: second.pool,
    spawner,
    follower: second.follower,
    map: second.map,
  });
  await adopted.adopt(saved);
  assert.equal(waiting(adopted), 2);
  const s = await adopted.launch({ application: "pv" });
  assert.ok(secrets.includes(s.answer.secret), "handed out with the secret it was started with");
  await adopted.stopAll();
  first.sessions.close();
});

Deno.test("warm processes are not stopped for idleness: their clocks start at hand-out", async () => {
  const { sessions, advance } = setUp({
    apps: { pv: { ...APP, idleTimeoutMs: 10, maxLifetimeMs: 10 } },
  });
  sessions.warmUp();
  await until("2 waiting", () => waiting(sessions) === 2);
  advance(3_600_000);
  await new Promise((r) => setTimeout(r, 20)); // several reaper rounds (every 2 ms)
  assert.equal(waiting(sessions), 2);
  await sessions.stopAll();
});
