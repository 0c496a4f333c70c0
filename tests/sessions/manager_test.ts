import assert from "node:assert/strict";
import { type LauncherConfig, MissingVariableError } from "../../lib/config/mod.ts";
import { LaunchError } from "../../lib/errors/mod.ts";
import {
  NoCapacityError,
  ShuttingDownError,
  UnknownApplicationError,
  UnknownSessionError,
} from "../../lib/sessions/errors.ts";
import { PortPool } from "../../lib/sessions/port_pool.ts";
import { SessionManager } from "../../lib/sessions/manager.ts";
import type { SavedSession } from "../../lib/sessions/state_file.ts";
import type { StopReason } from "../../lib/sessions/stop_reasons.ts";
import { SessionTable } from "../../lib/sessions/table.ts";
import { within } from "../integration/harness.ts";
import { FakeFollower, FakeMap, FakeSpawner, testConfig } from "../fakes.ts";

interface SetUpOptions {
  spawner?: FakeSpawner;
  map?: FakeMap;
  persist?: (durable: boolean) => Promise<void>;
  now?: () => number;
  ended?: { push(entry: [string, StopReason]): void };
  table?: SessionTable;
}

/** The sessions whose process was spawned, as the state file keeps them. */
function savedIn(table: SessionTable): SavedSession[] {
  return [...table.savedJson()].map((json) => JSON.parse(json));
}

function setUp(overrides: Partial<LauncherConfig> = {}, options: SetUpOptions = {}) {
  const config = testConfig(overrides);
  const spawner = options.spawner ?? new FakeSpawner();
  const follower = new FakeFollower();
  const map = options.map ?? new FakeMap();
  const pool = new PortPool(config.resources);
  const table = options.table ?? new SessionTable();
  const sessions = new SessionManager({
    config,
    table,
    pool,
    spawner,
    follower,
    map,
    baseEnv: { HOME: "/root" },
    now: options.now,
    reapIntervalMs: 2,
    persist: options.persist,
  });
  sessions.onEnded((s, reason) => options.ended?.push([s.id, reason]));
  /** Launches and makes the newest process print its ready line as soon as it is spawned. */
  const launchReady = async (body: Record<string, unknown>) => {
    const launching = sessions.launch(body);
    await waitFor(() =>
      follower.handlers.size > 0 && spawner.processes.length > 0 && latestFollowed()
    );
    follower.write(spawner.processes.at(-1)!.request.logFile, "wslink: Starting factory");
    return await launching;
  };
  const latestFollowed = () => follower.handlers.has(spawner.processes.at(-1)!.request.logFile);
  return { config, spawner, follower, map, pool, table, sessions, launchReady };
}

/** Waits for microtasks until `condition` holds (fakes settle without timers). */
async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await Promise.resolve();
  assert(condition(), "condition never held");
}

Deno.test("SessionManager.launch() answers once the ready line is printed, with id, sessionURL and secret", async () => {
  const { sessions, launchReady, map, spawner } = setUp();
  const s = await launchReady({ application: "viz", node: 4 });
  assert.deepEqual(s.state, "ready");
  assert.deepEqual(s.answer.sessionURL, `ws://localhost:8080/proxy/${s.id}`);
  assert.deepEqual(s.answer.node, 4);
  assert.match(s.answer.secret as string, /^[A-Za-z0-9_-]{32}$/);
  assert.deepEqual(map.lines.get(s.id), "localhost:9001");
  const req = spawner.processes[0].request;
  assert.deepEqual(req.command, "/opt/pvpython");
  assert.deepEqual(req.args, ["--port", "9001", "--authKey", s.answer.secret, "--node", "4"]);
  assert.deepEqual(req.env, { HOME: "/root", PYTHONUNBUFFERED: "1", OMP_NUM_THREADS: "2" });
  assert.deepEqual(req.logFile, `/var/log/pvw/${s.id}.log`);
  assert.deepEqual(sessions.get(s.id), s);
  await sessions.stopAll();
});

Deno.test("SessionManager.launch() lets properties and assigned values win over client keys", async () => {
  const { sessions, launchReady, spawner } = setUp();
  const s = await launchReady({
    application: "viz",
    node: 1,
    python_exec: "/bin/evil",
    port: 1,
    secret: "mine",
  });
  const req = spawner.processes[0].request;
  assert.deepEqual(req.command, "/opt/pvpython");
  assert.deepEqual(req.args.slice(0, 4), ["--port", "9001", "--authKey", "mine"]);
  assert.deepEqual(s.answer.secret, "mine", "a secret the client sends is the session's secret");
  await sessions.stopAll();
});

Deno.test("SessionManager.launch() refuses bad requests before allocating anything", async (t) => {
  const { sessions, pool, spawner } = setUp();
  await t.step("unknown application", async () => {
    await rejectsWith(() => sessions.launch({ application: "nope" }), UnknownApplicationError);
  });
  await t.step("no application", async () => {
    await rejectsWith(() => sessions.launch({}), UnknownApplicationError);
  });
  await t.step("a variable with no value", async () => {
    const err = await rejectsWith(
      () => sessions.launch({ application: "viz" }),
      MissingVariableError,
    );
    assert.match(err.message, /application "viz" needs a value for "node"/);
  });
  assert.deepEqual(pool.available, 3);
  assert.deepEqual(spawner.processes.length, 0);
});

Deno.test("SessionManager.launch() throws NoCapacityError at max_session, counting starting sessions", async () => {
  const { sessions, launchReady } = setUp({ maxSessions: 2 });
  await launchReady({ application: "viz", node: 1 });
  const starting = sessions.launch({ application: "viz", node: 1 });
  await rejectsWith(() => sessions.launch({ application: "viz", node: 1 }), NoCapacityError);
  await sessions.stopAll();
  await rejectsWith(() => starting, LaunchError);
});

Deno.test("SessionManager.launch() throws NoCapacityError when every port is taken", async () => {
  const { sessions, launchReady } = setUp();
  for (let i = 0; i < 3; i++) await launchReady({ application: "viz", node: 1 });
  await rejectsWith(() => sessions.launch({ application: "viz", node: 1 }), NoCapacityError);
  await sessions.stopAll();
});

Deno.test("SessionManager.launch() fails at once when the process exits before its ready line", async () => {
  const { sessions, spawner, pool, map } = setUp();
  const launching = sessions.launch({ application: "viz", node: 1 });
  await waitFor(() => spawner.processes.length === 1);
  spawner.processes[0].exit({ code: 2, signal: null });
  const err = await rejectsWith(() => launching, LaunchError);
  assert.deepEqual([err.reason, err.exitCode], ["exited", 2]);
  assert.match(err.message, /exited with code 2 before it was ready/);
  assert.deepEqual([pool.available, sessions.size, map.lines.size], [3, 0, 0]);
});

Deno.test("SessionManager.launch() stops a process that prints no ready line in time", async () => {
  const config = testConfig();
  config.apps.viz.timeoutMs = 20;
  const { sessions, spawner, pool } = setUp({ apps: config.apps });
  const err = await rejectsWith(
    () => sessions.launch({ application: "viz", node: 1 }),
    LaunchError,
  );
  assert.deepEqual(err.reason, "timeout");
  assert.deepEqual(spawner.signals, [[1000, "SIGTERM"]]);
  assert.deepEqual([pool.available, sessions.size], [3, 0]);
});

Deno.test("SessionManager.launch() releases the port when the command cannot start", async () => {
  const { sessions, spawner, pool } = setUp();
  spawner.failWith = new LaunchError('command "/opt/pvpython" was not found', "spawn_error");
  await rejectsWith(() => sessions.launch({ application: "viz", node: 1 }), LaunchError);
  assert.deepEqual([pool.available, sessions.size], [3, 0]);
});

Deno.test("a session is not ready until its map line and state are written; stopped meanwhile, its launch fails as stopped", async () => {
  const map = new FakeMap();
  const { sessions, spawner, follower } = setUp({}, { map });
  map.hold();
  const launching = sessions.launch({ application: "viz", node: 1 });
  await waitFor(() => follower.handlers.size === 1);
  const logFile = spawner.processes[0].request.logFile;
  follower.write(logFile, "Starting factory\n");
  await waitFor(() => map.held.length === 1);
  // The ready line is in, the map is being written: the client has no answer yet.
  const id = map.held[0].split(" ")[1];
  assert.throws(() => sessions.get(id), UnknownSessionError, "GET must not find it yet");
  assert.equal(sessions.route(id), undefined, "the proxy must not route it yet");
  const stopping = sessions.stop(id);
  map.release();
  await stopping;
  const failed = await launching.then(() => undefined, (err) => err);
  assert.ok(failed instanceof LaunchError && failed.reason === "stopped", String(failed));
  assert.equal(failed.message, 'application "viz" was stopped before it was ready');
  assert.throws(() => sessions.get(id), UnknownSessionError);
  assert.equal(map.lines.size, 0);
  assert.deepEqual(spawner.signals, [[1000, "SIGTERM"]]);
  await sessions.stopAll();
});

Deno.test("a session stopped while starting that prints its ready line in its grace period is never mapped, and its port is free", async () => {
  const spawner = new FakeSpawner();
  spawner.ignoreTerm = true;
  const { sessions, follower, map, pool } = setUp({ stopGraceMs: 300 }, { spawner });
  const launching = sessions.launch({ application: "viz", node: 1 });
  const failed = launching.then(() => undefined, (err) => err);
  await waitFor(() => follower.handlers.size === 1 && spawner.processes.length === 1);
  const logFile = spawner.processes[0].request.logFile;
  const id = logFile.slice(logFile.lastIndexOf("/") + 1, -".log".length);
  const stopping = sessions.stop(id);
  await waitFor(() => spawner.signals.length === 1);
  // SIGTERM is not heeded at once: the ready line comes while the launcher waits.
  follower.write(logFile, "Starting factory\n");
  const err = await failed;
  assert.ok(err instanceof LaunchError && err.reason === "stopped", String(err));
  assert.equal(map.lines.size, 0, "no map line may name a session that is ending");
  await stopping; // SIGKILL after the grace period
  assert.deepEqual(spawner.signals.map(([, signal]) => signal), ["SIGTERM", "SIGKILL"]);
  assert.equal(map.lines.size, 0);
  assert.deepEqual([pool.available, sessions.size], [3, 0]);
});

Deno.test("a session is saved at its spawn, durably once ready before its answer, and at its end", async () => {
  const saves: [string, boolean][] = [];
  const table = new SessionTable();
  const persist = (durable: boolean) => {
    const states = savedIn(table).map((s) => s.state ?? "ready").join(",");
    saves.push([states, durable]);
    return Promise.resolve();
  };
  const set = setUp({}, { persist, table });
  const s = await set.launchReady({ application: "viz", node: 1 });
  assert.deepEqual(saves, [["starting", false], ["ready", true]]);
  await set.sessions.stop(s.id);
  assert.deepEqual(saves.at(-1), ["", false]);
});

Deno.test("SessionManager.stop() sends SIGTERM, then SIGKILL after the grace period", async (t) => {
  await t.step("a process that obeys SIGTERM gets no SIGKILL", async () => {
    const { sessions, launchReady, spawner, map, pool } = setUp();
    const s = await launchReady({ application: "viz", node: 1 });
    await sessions.stop(s.id);
    assert.deepEqual(spawner.signals, [[1000, "SIGTERM"]]);
    assert.deepEqual([map.lines.size, pool.available, sessions.size], [0, 3, 0]);
    assert.throws(() => sessions.get(s.id), UnknownSessionError);
  });
  await t.step("a process that ignores SIGTERM is killed", async () => {
    const { sessions, launchReady, spawner } = setUp();
    spawner.ignoreTerm = true;
    const s = await launchReady({ application: "viz", node: 1 });
    await sessions.stop(s.id);
    assert.deepEqual(spawner.signals, [[1000, "SIGTERM"], [1000, "SIGKILL"]]);
  });
});

Deno.test("a ready session whose process exits by itself is removed and its port freed", async () => {
  const { sessions, launchReady, spawner, map, pool } = setUp();
  const s = await launchReady({ application: "viz", node: 1 });
  spawner.processes[0].exit({ code: 0, signal: null });
  await waitFor(() => sessions.size === 0);
  assert.deepEqual([map.lines.size, pool.available], [0, 3]);
  assert.throws(() => sessions.get(s.id), UnknownSessionError);
});

Deno.test("SessionManager.stopAll() stops every session and refuses new ones", async () => {
  const { sessions, launchReady, spawner } = setUp();
  await launchReady({ application: "viz", node: 1 });
  await launchReady({ application: "viz", node: 1 });
  await sessions.stopAll();
  assert(spawner.processes.every((p) => p.done));
  await rejectsWith(() => sessions.launch({ application: "viz", node: 1 }), ShuttingDownError);
});

Deno.test("wslink configs answer id, sessionURL, secret, sessionManagerURL and fields only", async () => {
  const { sessions, launchReady } = setUp({
    format: "wslink",
    fields: ["file", "host", "port", "python_exec", "updir"],
    sessionData: { updir: "/Home/${port}" },
    sanitize: { file: { type: "regexp", pattern: /^(?:[-\w./]+)$/, default: "none" } },
  });
  const s = await launchReady({
    application: "viz",
    node: 1,
    file: "../../etc/passwd; rm",
    sessionManagerURL: "http://x/paraview/",
    other: "kept out",
  });
  assert.deepEqual(s.answer, {
    id: s.id,
    sessionURL: `ws://localhost:8080/proxy/${s.id}`,
    secret: s.answer.secret,
    sessionManagerURL: "http://x/paraview/",
    file: "none",
    host: "localhost",
    port: 9001,
    updir: "/Home/9001",
  });
  await sessions.stopAll();
});

/** Awaits a rejection of the given type and returns the error. */
async function rejectsWith<E extends Error>(
  fn: () => Promise<unknown>,
  type: new (...args: never[]) => E,
): Promise<E> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof type, `expected ${type.name}, got ${err}`);
    return err;
  }
  throw new Error(`expected ${type.name}`);
}

/** Records ended sessions; `next(n)` resolves once `n` have ended (fails after 5 s). */
function endings() {
  const list: [string, StopReason][] = [];
  let wake = () => {};
  return {
    list,
    push(entry: [string, StopReason]) {
      list.push(entry);
      wake();
    },
    next(n: number): Promise<void> {
      return within(
        5000,
        `${n} sessions to end`,
        new Promise<void>((resolve) => {
          wake = () => list.length >= n && resolve();
          wake();
        }),
      );
    },
  };
}

Deno.test("an idle session is stopped after idle_timeout, a connected one is not", async () => {
  let now = 1_000_000;
  const ended = endings();
  const config = testConfig();
  config.apps.viz.idleTimeoutMs = 60_000;
  const { sessions, launchReady } = setUp({ apps: config.apps }, { now: () => now, ended });
  const idle = await launchReady({ application: "viz", node: 1 });
  const busy = await launchReady({ application: "viz", node: 1 });
  busy.traffic.opened();
  assert.deepEqual(sessions.deadlines(idle), { idleStopAt: 1_060_000, lifetimeEndsAt: null });
  assert.equal(sessions.deadlines(busy).idleStopAt, null, "no idle deadline while connected");
  now += 60_000;
  await ended.next(1);
  assert.deepEqual(ended.list, [[idle.id, "idle"]]);
  assert.equal(sessions.get(busy.id).state, "ready");
  await sessions.stopAll();
});

Deno.test("a session is stopped at max_lifetime, connected or not", async () => {
  let now = 5_000;
  const ended = endings();
  const config = testConfig();
  config.apps.viz.maxLifetimeMs = 3_600_000;
  const { sessions, launchReady } = setUp({ apps: config.apps }, { now: () => now, ended });
  const s = await launchReady({ application: "viz", node: 1 });
  s.traffic.opened();
  const about = sessions.describe(s.id);
  assert.ok("stops" in about);
  assert.equal(about.stops.lifetimeAt, new Date(3_605_000).toISOString());
  now += 3_600_000;
  await ended.next(1);
  assert.deepEqual(ended.list, [[s.id, "lifetime"]]);
  sessions.close();
});

Deno.test("SessionManager.adopt() takes over live sessions and drops the dead ones", async () => {
  const spawner = new FakeSpawner();
  const first = setUp({}, { spawner });
  const live = await first.launchReady({ application: "viz", node: 1 });
  const dead = await first.launchReady({ application: "viz", node: 1 });
  const saved = savedIn(first.table);
  assert.equal(saved.length, 2);
  // The first launcher dies without stopping anything; then one session's process ends.
  spawner.processes.find((p) => p.pid === dead.pid)!.exit({ code: 0, signal: null });
  const second = setUp({}, { spawner });
  assert.deepEqual(await second.sessions.adopt(saved), { adopted: 1, stopped: 0, dropped: 1 });
  const adopted = second.sessions.get(live.id);
  assert.equal(adopted.adopted, true);
  assert.deepEqual(adopted.answer, live.answer);
  assert.deepEqual([...second.map.lines], [[live.id, `localhost:${live.port}`]]);
  assert.equal(second.pool.available, 2, "the adopted session's port is taken again");
  await second.sessions.stop(live.id);
  assert.equal(second.pool.available, 3);
  second.sessions.close();
});

Deno.test("SessionManager.adopt() stops, and counts, the sessions the previous launcher left starting", async () => {
  const spawner = new FakeSpawner();
  const first = setUp({}, { spawner });
  const launching = first.sessions.launch({ application: "viz", node: 1 }).catch((e) => e);
  await waitFor(() => savedIn(first.table).length === 1);
  const saved = savedIn(first.table);
  assert.equal(saved[0].state, "starting");
  const second = setUp({}, { spawner });
  assert.deepEqual(await second.sessions.adopt(saved), { adopted: 0, stopped: 1, dropped: 0 });
  assert.deepEqual(spawner.signals, [[spawner.processes[0].pid, "SIGTERM"]]);
  await waitFor(() => second.sessions.size === 0);
  await launching;
  first.sessions.close();
  second.sessions.close();
});

Deno.test("an adopted session whose id has capitals is found by its lower-cased id too", async () => {
  const spawner = new FakeSpawner();
  const first = setUp({}, { spawner });
  const live = await first.launchReady({ application: "viz", node: 1 });
  // An older launcher made mixed-case base64url ids.
  const saved = savedIn(first.table).map((s) => ({
    ...s,
    id: "kX2-Old_Id9",
    logFile: s.logFile.replace(`${s.id}.log`, "kX2-Old_Id9.log"),
  }));
  const second = setUp({}, { spawner });
  assert.deepEqual(await second.sessions.adopt(saved), { adopted: 1, stopped: 0, dropped: 0 });
  for (const id of ["kX2-Old_Id9", "kx2-old_id9"]) {
    assert.equal(second.sessions.get(id).id, "kX2-Old_Id9");
    assert.equal(second.sessions.route(id)?.port, live.port);
  }
  assert.equal(second.sessions.route("KX2-OLD_ID9")?.port, live.port, "any case");
  assert.equal(second.sessions.route("kx2-old_id8"), undefined);
  await second.sessions.stop("kx2-old_id9");
  assert.equal(second.sessions.route("kx2-old_id9"), undefined);
  assert.equal(second.sessions.route("kX2-Old_Id9"), undefined);
  second.sessions.close();
});

Deno.test("new session ids are lower-case, so a lower-cased session URL still finds them", async () => {
  const { sessions, launchReady } = setUp();
  const s = await launchReady({ application: "viz", node: 1 });
  assert.match(s.id, /^[a-z2-7]{26}$/);
  const url = (s.answer.sessionURL as string).toLowerCase();
  assert.equal(sessions.route(url.slice(url.lastIndexOf("/") + 1))?.port, s.port);
  await sessions.stopAll();
});

Deno.test("route() sends a bare session URL's WebSocket to the application's ws_path", async () => {
  const { sessions, launchReady } = setUp();
  const s = await launchReady({ application: "viz", node: 1 });
  assert.equal(sessions.route(s.id)?.wsPath, "/ws");
  const other = setUp({ apps: { viz: { ...testConfig().apps.viz, wsPath: "/paraview" } } });
  const t = await other.launchReady({ application: "viz", node: 1 });
  assert.equal(other.sessions.route(t.id)?.wsPath, "/paraview");
  await Promise.all([sessions.stopAll(), other.sessions.stopAll()]);
});

Deno.test("a client's own secret passes its sanitize rule like any other value", async () => {
  const { sessions, launchReady, spawner } = setUp({
    format: "wslink",
    sanitize: { secret: { type: "regexp", pattern: /^(?:[A-Za-z0-9]{8,})$/, default: "fallback" } },
  });
  const bad = await launchReady({ application: "viz", node: 1, secret: "--help x" });
  assert.equal(bad.answer.secret, "fallback");
  assert.deepEqual(spawner.processes[0].request.args.slice(2, 4), ["--authKey", "fallback"]);
  const good = await launchReady({ application: "viz", node: 1, secret: "Abcdefgh12" });
  assert.equal(good.answer.secret, "Abcdefgh12");
  await sessions.stop(bad.id);
  await sessions.stop(good.id);
  // A number is a value like any other: refused by the rule, the default is used, as logged.
  const numeric = await launchReady({ application: "viz", node: 1, secret: 1234 });
  assert.equal(numeric.answer.secret, "fallback");
  assert.deepEqual(spawner.processes[2].request.args.slice(2, 4), ["--authKey", "fallback"]);
  await sessions.stop(numeric.id);
  const empty = await launchReady({ application: "viz", node: 1, secret: "" });
  assert.equal(empty.answer.secret, "fallback", "an empty one fails the rule too");
  await sessions.stopAll();
});

Deno.test("wslink format: a variable nothing provides reaches the app as written", async () => {
  const { sessions, launchReady, spawner } = setUp({ format: "wslink", unprovided: "keep" });
  const s = await launchReady({ application: "viz" });
  assert.equal(s.state, "ready");
  assert.deepEqual(spawner.processes[0].request.args.slice(4), ["--node", "$node"]);
  await sessions.stopAll();
});

Deno.test("SessionManager.adopt() refuses entries that are not exactly a session, and signals none", async (t) => {
  const spawner = new FakeSpawner();
  const first = setUp({}, { spawner });
  const live = await first.launchReady({ application: "viz", node: 1 });
  const [good] = savedIn(first.table);
  const cases: [string, Record<string, unknown>][] = [
    ["a log outside the log folder", { logFile: "/etc/shadow" }],
    ["a log of another name", { logFile: "/var/log/pvw/other.log" }],
    ["a host outside the resources", { host: "169.254.169.254" }],
    ["a port outside the resources", { port: 22 }],
    ["pid 1", { pid: 1 }],
    ["an id that is a path", { id: "../x", logFile: "/var/log/x.log" }],
  ];
  for (const [name, change] of cases) {
    await t.step(name, async () => {
      const second = setUp({}, { spawner });
      const entry = { ...good, ...change } as typeof good;
      assert.deepEqual(await second.sessions.adopt([entry]), {
        adopted: 0,
        stopped: 0,
        dropped: 1,
      });
      assert.equal(second.sessions.size, 0);
      await second.sessions.stopAll();
    });
  }
  assert.deepEqual(spawner.signals, [], "no process was signalled");
  await first.sessions.stop(live.id);
});

Deno.test("SessionManager.detachAll() leaves ready sessions running and saved", async () => {
  const { sessions, launchReady, spawner, table } = setUp();
  const s = await launchReady({ application: "viz", node: 1 });
  await sessions.detachAll();
  assert.equal(spawner.signals.length, 0, "no signal was sent");
  assert.deepEqual(savedIn(table).map((x) => x.id), [s.id]);
  await rejectsWith(() => sessions.launch({ application: "viz", node: 1 }), ShuttingDownError);
});
