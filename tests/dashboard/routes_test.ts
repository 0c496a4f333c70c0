import assert from "node:assert/strict";
import type { LauncherConfig } from "../../lib/config/mod.ts";
import {
  dashboardAnnouncement,
  dashboardRoutes,
  MAX_LOG_BYTES,
} from "../../lib/dashboard/routes.ts";
import { COOKIE_NAME, CSRF_HEADER } from "../../lib/dashboard/auth.ts";
import { DashboardEvents } from "../../lib/dashboard/events.ts";
import { type DashboardState, stateReader } from "../../lib/dashboard/state.ts";
import { LaunchError } from "../../lib/errors/mod.ts";
import { createHandler, type LaunchObserver } from "../../lib/http/mod.ts";
import { PortPool, type SessionInfo, SessionManager } from "../../lib/sessions/mod.ts";
import { RecentFailures } from "../../lib/dashboard/recent_failures.ts";
import { FakeFollower, FakeSpawner, testConfig } from "../fakes.ts";

const TOKEN = "the-admin-token-0123456789";
const MADE_TOKEN = "a-token-made-at-start-0123456789";
const SECRET = "client-chosen-secret-42";
const LOCAL = "127.0.0.1";
const REMOTE = "203.0.113.7";

function makeConfig(logDir: string, overrides: Partial<LauncherConfig>): LauncherConfig {
  return testConfig({
    logDir,
    maxSessions: 5,
    resources: [{ host: "localhost", first: 9001, last: 9010 }],
    properties: { python_exec: "/opt/pv/bin/pvpython-private" },
    apps: {
      viz: {
        name: "viz",
        cmd: ["$python_exec", "--port", "$port", "--authKey", "$secret"],
        env: { DB_PASSWORD: "env-password-7" },
        readyLines: ["Starting factory"],
        timeoutMs: 10_000,
        wsPath: "/ws",
        warm: 0,
      },
    },
    stateFile: `${logDir}/state.json`,
    ...overrides,
  });
}

interface CallOptions {
  remote?: string;
  headers?: Record<string, string>;
  body?: string;
  host?: string;
}

/** A launcher's handler with the dashboard wired as main.ts wires it, on fakes. */
async function setUp(overrides: Partial<LauncherConfig> = {}) {
  const logDir = await Deno.makeTempDir({ prefix: "pvw-launcher-dashboard-" });
  const config = makeConfig(logDir, overrides);
  const spawner = new FakeSpawner();
  const follower = new FakeFollower();
  const pool = new PortPool(config.resources);
  const failures = new RecentFailures();
  const sessions = new SessionManager({ config, pool, spawner, follower });
  const state = stateReader({ sessions, ports: pool, failures, maxSessions: config.maxSessions });
  const events = new DashboardEvents(state, { intervalMs: 20 });
  sessions.onEnded(() => events.changed());
  const observer: LaunchObserver = {
    launched(application, outcome, readySeconds, error) {
      failures.launched(application, outcome, readySeconds, error);
      events.changed();
    },
  };
  // As main.ts does: without an admin_token, a token made at start.
  const adminToken = config.adminToken ?? MADE_TOKEN;
  const routes = dashboardRoutes({ config: { ...config, adminToken }, sessions, state, events });
  const handler = createHandler({ config, sessions, observer, routes });
  const call = (method: string, path: string, options: CallOptions = {}) =>
    handler(
      new Request(`http://${options.host ?? "127.0.0.1:8080"}${path}`, {
        method,
        headers: options.headers,
        body: options.body,
      }),
      { remoteAddr: { transport: "tcp", hostname: options.remote ?? LOCAL, port: 40000 } },
    );
  /** POSTs to the REST endpoint and prints the ready line once the process is spawned. */
  const launch = async (body: Record<string, unknown> = { application: "viz" }) => {
    const before = spawner.processes.length;
    const answer = call("POST", "/paraview", { body: JSON.stringify(body) });
    await waitFor(() =>
      spawner.processes.length > before &&
      follower.handlers.has(spawner.processes.at(-1)!.request.logFile)
    );
    follower.write(spawner.processes.at(-1)!.request.logFile, "Starting factory\n");
    const res = await answer;
    assert.equal(res.status, 200);
    return (await res.json()) as Record<string, string>;
  };
  const cleanUp = async () => {
    events.close();
    await sessions.stopAll();
    await Deno.remove(logDir, { recursive: true });
  };
  /** A request with the admin's bearer token. */
  const admin = (method: string, path: string, options: CallOptions = {}) =>
    call(method, path, {
      ...options,
      headers: { authorization: `Bearer ${adminToken}`, ...options.headers },
    });
  return { config, sessions, spawner, events, call, admin, launch, cleanUp };
}

/** Waits for microtasks until `condition` holds (fakes settle without timers). */
async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await Promise.resolve();
  assert(condition(), "condition never held");
}

async function json(res: Response): Promise<Record<string, unknown>> {
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  return await res.json();
}

async function drop(res: Response): Promise<Response> {
  await res.body?.cancel();
  return res;
}

Deno.test("GET /_dashboard redirects to /_dashboard/, which is the page", async () => {
  const { call, admin, cleanUp } = await setUp();
  try {
    const redirect = await drop(await call("GET", "/_dashboard"));
    assert.equal(redirect.status, 303);
    assert.equal(redirect.headers.get("location"), "/_dashboard/");
    const page = await admin("GET", "/_dashboard/");
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    const csp = page.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/]+=*'/);
    assert.match(csp, /frame-ancestors 'none'/);
    const html = await page.text();
    assert.match(html, /<script type="module">/);
    assert.doesNotMatch(html, /<!-- @/, "every placeholder is filled");
    assert.match(html, /data-auth="token"/);
    assert.equal((await drop(await admin("POST", "/_dashboard/"))).status, 405);
    assert.equal((await drop(await admin("GET", "/_dashboard/nothing"))).status, 404);
  } finally {
    await cleanUp();
  }
});

Deno.test("without admin_token the dashboard serves no one without the token made at start", async (t) => {
  const { call, admin, cleanUp } = await setUp();
  try {
    for (const path of ["/_dashboard/api/state", "/_dashboard/api/events"]) {
      await t.step(`${path}: 127.0.0.1 and ::1 get 401 JSON, as any client does`, async () => {
        for (const remote of [LOCAL, "::1", REMOTE]) {
          const res = await call("GET", path, { remote });
          assert.equal(res.status, 401);
          assert.match(String((await json(res)).error), /needs the admin token/);
        }
      });
      await t.step(`${path}: the made token opens it`, async () => {
        assert.equal((await drop(await admin("GET", path))).status, 200);
      });
    }
    await t.step("the page sends a browser without the cookie to the login form", async () => {
      const res = await drop(await call("GET", "/_dashboard/"));
      assert.equal(res.status, 303);
      assert.equal(res.headers.get("location"), "/_dashboard/login");
    });
    await t.step("the login URL with the made token logs in", async () => {
      const res = await drop(await call("GET", `/_dashboard/login?token=${MADE_TOKEN}`));
      assert.equal(res.status, 303);
      assert.equal(res.headers.get("location"), "/_dashboard/");
      assert.equal(res.headers.get("referrer-policy"), "no-referrer");
      const cookie = res.headers.get("set-cookie")!.split(";")[0];
      const state = await call("GET", "/_dashboard/api/state", { headers: { cookie } });
      assert.equal((await drop(state)).status, 200);
    });
  } finally {
    await cleanUp();
  }
});

Deno.test("with admin_token the dashboard needs the bearer token or the login cookie", async (t) => {
  const { call, cleanUp } = await setUp({ adminToken: TOKEN });
  try {
    await t.step("the right bearer token opens the API and the page, from anywhere", async () => {
      const headers = { authorization: `Bearer ${TOKEN}` };
      assert.equal(
        (await drop(await call("GET", "/_dashboard/api/state", { headers }))).status,
        200,
      );
      const page = await call("GET", "/_dashboard/", { headers, remote: REMOTE });
      assert.equal(page.status, 200);
      assert.match(await page.text(), /data-auth="token"/);
    });
    await t.step("a wrong bearer token gets 401 JSON, even from loopback", async () => {
      for (const authorization of [`Bearer ${TOKEN}x`, "Bearer ", `Basic ${btoa(TOKEN)}`, TOKEN]) {
        const res = await call("GET", "/_dashboard/api/state", { headers: { authorization } });
        assert.equal(res.status, 401, authorization);
        assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer /);
        assert.equal((await json(res)).error, "the admin token is not valid");
      }
    });
    await t.step(
      "no credentials: the API answers 401, the page sends to the login form",
      async () => {
        const api = await call("GET", "/_dashboard/api/state");
        assert.equal(api.status, 401);
        assert.match(String((await json(api)).error), /needs the admin token/);
        const page = await drop(await call("GET", "/_dashboard/"));
        assert.equal(page.status, 303);
        assert.equal(page.headers.get("location"), "/_dashboard/login");
      },
    );
  } finally {
    await cleanUp();
  }
});

Deno.test("the login form sets a signed HttpOnly SameSite=Strict cookie that never holds the token", async (t) => {
  const { call, cleanUp } = await setUp({ adminToken: TOKEN });
  const form = (token: string, headers: Record<string, string> = {}) =>
    call("POST", "/_dashboard/login", {
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body: new URLSearchParams({ token }).toString(),
    });
  try {
    let cookie = "";
    await t.step("GET login is a form that POSTs the token, with no script", async () => {
      const res = await call("GET", "/_dashboard/login", { remote: REMOTE });
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-security-policy") ?? "", /script-src 'none'/);
      const html = await res.text();
      assert.match(html, /<form method="post" action="login"/);
      assert.doesNotMatch(html, /<script/);
      assert.doesNotMatch(html, /not valid/);
    });
    await t.step("a wrong token sends back to the form, which says so", async () => {
      const res = await drop(await form("wrong-token-0123456789"));
      assert.equal(res.status, 303);
      assert.equal(res.headers.get("location"), "/_dashboard/login?failed");
      assert.equal(res.headers.get("set-cookie"), null);
      const again = await call("GET", "/_dashboard/login?failed");
      assert.match(await again.text(), /That token is not valid/);
    });
    await t.step("the right token sets the cookie and sends to the page", async () => {
      const res = await drop(await form(TOKEN, { origin: "http://127.0.0.1:8080" }));
      assert.equal(res.status, 303);
      assert.equal(res.headers.get("location"), "/_dashboard/");
      const setCookie = res.headers.get("set-cookie") ?? "";
      assert.match(
        setCookie,
        new RegExp(
          `^${COOKIE_NAME}=\\d+\\.[\\w-]{43}; Path=/_dashboard; Max-Age=\\d+; HttpOnly; SameSite=Strict$`,
        ),
      );
      assert.ok(!setCookie.includes(TOKEN), "the cookie does not hold the token");
      const sha = new Uint8Array(
        await crypto.subtle.digest("SHA-256", new TextEncoder().encode(TOKEN)),
      );
      const b64 = btoa(String.fromCharCode(...sha));
      const hex = [...sha].map((b) => b.toString(16).padStart(2, "0")).join("");
      for (
        const form of [b64, b64.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, ""), hex]
      ) {
        assert.ok(!setCookie.includes(form), "nor the token's hash");
      }
      cookie = setCookie.split(";")[0];
    });
    await t.step("the cookie opens the page and the API, from anywhere", async () => {
      const headers = { cookie };
      assert.equal(
        (await drop(await call("GET", "/_dashboard/", { headers, remote: REMOTE }))).status,
        200,
      );
      assert.equal(
        (await drop(await call("GET", "/_dashboard/api/state", { headers }))).status,
        200,
      );
      const forged = `${cookie.slice(0, -2)}AA`;
      const res = await call("GET", "/_dashboard/api/state", { headers: { cookie: forged } });
      assert.equal((await drop(res)).status, 401);
    });
    await t.step("a login POSTed by another site is refused", async () => {
      const res = await form(TOKEN, { origin: "http://evil.example" });
      assert.equal(res.status, 403);
      assert.equal((await drop(res)).headers.get("set-cookie"), null);
    });
    await t.step("logout clears the cookie", async () => {
      const res = await drop(await call("POST", "/_dashboard/logout", { headers: { cookie } }));
      assert.equal(res.status, 303);
      assert.equal(res.headers.get("location"), "/_dashboard/login");
      assert.match(
        res.headers.get("set-cookie") ?? "",
        new RegExp(`^${COOKIE_NAME}=; .*Max-Age=0`),
      );
    });
  } finally {
    await cleanUp();
  }
});

Deno.test("GET api/state lists the sessions, capacity and failures, and no secret", async () => {
  const { call, admin, launch, spawner, cleanUp } = await setUp();
  try {
    const a = await launch({ application: "viz", secret: SECRET, password: "pw-in-body-99" });
    spawner.failWith = new LaunchError(
      'command "/opt/pv/bin/pvpython-private" was not found',
      "spawn_error",
    );
    const failed = await drop(await call("POST", "/paraview", { body: '{"application": "viz"}' }));
    assert.equal(failed.status, 503);
    await drop(await call("POST", "/paraview", { body: '{"application": "nope"}' }));

    const res = await admin("GET", "/_dashboard/api/state");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("cache-control"), "no-store");
    const text = await res.text();
    const state = JSON.parse(text) as DashboardState;
    assert.equal(state.sessions.length, 1);
    const s = state.sessions[0];
    assert.deepEqual(Object.keys(s).sort(), [
      "adopted",
      "application",
      "bytesFromSession",
      "bytesToSession",
      "connections",
      "host",
      "id",
      "idleMs",
      "job",
      "lastActivityAt",
      "pid",
      "port",
      "readyMs",
      "stage",
      "startedAt",
      "state",
      "stops",
    ]);
    assert.deepEqual([s.stage, s.job], ["ready", null], "a local session has no job");
    assert.equal(s.id, a.id);
    assert.equal(s.application, "viz");
    assert.equal(`${s.host}:${s.port}`, "localhost:9001");
    assert.equal(s.state, "ready");
    assert.equal(typeof s.pid, "number");
    assert.deepEqual(s.stops, { idleAt: null, lifetimeAt: null });
    assert.deepEqual(state.capacity, { used: 1, max: 5, freePorts: 9, totalPorts: 10 });
    assert.deepEqual(
      state.failures.map((f) => [f.application, f.outcome, f.error]),
      [["viz", "spawn_error", 'command "/opt/pv/bin/pvpython-private" was not found']],
      "the spawn error is listed, the bad request is not",
    );
    for (const secret of [SECRET, "pw-in-body-99", "env-password-7", "--authKey", "sessionURL"]) {
      assert.ok(!text.includes(secret), `the state does not hold ${secret}`);
    }
  } finally {
    await cleanUp();
  }
});

Deno.test("GET api/sessions/:id/log answers a bounded tail of that session's log only", async (t) => {
  const { call, admin, launch, sessions, cleanUp } = await setUp();
  try {
    const { id } = await launch();
    const logFile = sessions.list()[0].logFile;
    const lines = Array.from({ length: 100_000 }, (_, i) => `line ${String(i).padStart(6, "0")}`);
    await Deno.writeTextFile(logFile, lines.join("\n") + "\n");
    const size = (await Deno.stat(logFile)).size;
    assert.ok(size > MAX_LOG_BYTES);
    const tail = async (query: string) => {
      const res = await admin("GET", `/_dashboard/api/sessions/${id}/log${query}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8");
      assert.equal(res.headers.get("x-log-size"), String(size));
      return await res.text();
    };
    await t.step("16 KiB by default, starting at a line", async () => {
      const text = await tail("");
      assert.ok(text.length <= 16 * 1024 && text.length > 16 * 1024 - 20);
      assert.match(text, /^line \d{6}\n/);
      assert.ok(text.endsWith("line 099999\n"));
    });
    await t.step("?bytes=N reads at most N bytes", async () => {
      assert.equal(await tail("?bytes=24"), "line 099998\nline 099999\n");
    });
    await t.step("at most 1 MiB whatever is asked", async () => {
      const text = await tail(`?bytes=${10 * MAX_LOG_BYTES}`);
      assert.ok(text.length <= MAX_LOG_BYTES && text.length > MAX_LOG_BYTES - 20);
    });
    await t.step("a bytes that is not a whole number is a 400", async () => {
      for (const bad of ["-1", "1e6", "abc", "1.5"]) {
        const res = await admin("GET", `/_dashboard/api/sessions/${id}/log?bytes=${bad}`);
        assert.equal(res.status, 400, bad);
        assert.match(String((await json(res)).error), /bytes/);
      }
    });
    await t.step(
      "an id that is not in the table is a 404 JSON, whatever it looks like",
      async () => {
        for (const bad of ["nope", "..%2Fstate.json", "%2e%2e", encodeURIComponent(logFile)]) {
          const res = await admin("GET", `/_dashboard/api/sessions/${bad}/log`);
          assert.equal(res.status, 404, bad);
          assert.match(String((await json(res)).error), /^(no session with id|nothing at)/);
        }
      },
    );
    await t.step("the id is found in any case, as the REST API and the proxy find it", async () => {
      const res = await admin("GET", `/_dashboard/api/sessions/${id.toUpperCase()}/log?bytes=12`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "line 099999\n");
    });
    await t.step("needs what the rest of the dashboard needs", async () => {
      const res = await call("GET", `/_dashboard/api/sessions/${id}/log`, { remote: REMOTE });
      assert.equal((await drop(res)).status, 401);
    });
  } finally {
    await cleanUp();
  }
});

Deno.test("POST api/sessions/:id/stop stops the session, for the page's own requests only", async (t) => {
  const { call, launch, sessions, spawner, cleanUp } = await setUp({ adminToken: TOKEN });
  const stop = (id: string, headers: Record<string, string>) =>
    call("POST", `/_dashboard/api/sessions/${id}/stop`, { headers });
  try {
    const { id } = await launch();
    const bearer = { authorization: `Bearer ${TOKEN}` };
    const login = await drop(
      await call("POST", "/_dashboard/login", {
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: `token=${TOKEN}`,
      }),
    );
    const cookie = login.headers.get("set-cookie")!.split(";")[0];
    await t.step("with the cookie, a request without the page's header is refused", async () => {
      const res = await stop(id, { cookie, origin: "http://127.0.0.1:8080" });
      assert.equal(res.status, 403);
      assert.match(String((await json(res)).error), /other sites/);
    });
    await t.step("with the cookie, a request from another origin is refused", async () => {
      const res = await stop(id, { cookie, origin: "http://evil.example", [CSRF_HEADER]: "1" });
      assert.equal((await drop(res)).status, 403);
      assert.equal(sessions.list()[0].state, "ready");
    });
    await t.step("GET is not allowed", async () => {
      const res = await call("GET", `/_dashboard/api/sessions/${id}/stop`, { headers: bearer });
      assert.equal((await drop(res)).status, 405);
    });
    await t.step("the page's own request stops the session's process group", async () => {
      const headers = { cookie, origin: "http://127.0.0.1:8080", [CSRF_HEADER]: "1" };
      const res = await stop(id, headers);
      assert.equal(res.status, 200);
      assert.deepEqual(await json(res), { id, stopped: true });
      assert.equal(sessions.size, 0);
      assert.deepEqual(spawner.signals[0], [spawner.processes[0].pid, "SIGTERM"]);
    });
    await t.step("an unknown or ended session is a 404 JSON", async () => {
      const res = await stop(id, bearer);
      assert.equal(res.status, 404);
      assert.match(String((await json(res)).error), /no session with id/);
    });
    await t.step("a bearer request needs no page header", async () => {
      const other = await launch();
      const res = await stop(other.id, bearer);
      assert.equal((await drop(res)).status, 200);
    });
    await t.step("without credentials it is a 401 and nothing stops", async () => {
      const third = await launch();
      const res = await stop(third.id, { [CSRF_HEADER]: "1" });
      assert.equal((await drop(res)).status, 401);
      assert.equal(sessions.size, 1);
    });
  } finally {
    await cleanUp();
  }
});

/** Reads server-sent events from a stream, one at a time. */
class EventReader {
  #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";
  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.pipeThrough(new TextDecoderStream()).getReader();
  }
  /** The next `state` event's data (comments are skipped), or null once the stream ends. */
  async next(): Promise<DashboardState | null> {
    for (;;) {
      const end = this.#buffer.indexOf("\n\n");
      if (end >= 0) {
        const block = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        const data = block.split("\n").find((l) => l.startsWith("data: "));
        if (block.includes("event: state") && data) return JSON.parse(data.slice(6));
        continue;
      }
      const { done, value } = await this.#reader.read();
      if (done) return null;
      this.#buffer += value;
    }
  }
  /** Waits for a state that satisfies `test`. */
  async until(test: (s: DashboardState) => boolean): Promise<DashboardState> {
    for (;;) {
      const state = await this.next();
      assert.ok(state, "the stream ended first");
      if (test(state)) return state;
    }
  }
  cancel(): Promise<void> {
    return this.#reader.cancel();
  }
}

Deno.test("GET api/events pushes the state when a session starts and ends, and ends cleanly", async (t) => {
  const { admin, launch, sessions, events, cleanUp } = await setUp();
  try {
    const res = await admin("GET", "/_dashboard/api/events");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
    assert.equal(res.headers.get("cache-control"), "no-store");
    const stream = new EventReader(res.body!);
    let id = "";
    await t.step("the first event is the state now", async () => {
      assert.deepEqual((await stream.next())?.sessions, []);
      assert.equal(events.clients, 1);
    });
    await t.step("a launched session is pushed", async () => {
      id = (await launch()).id;
      const state = await stream.until((s) => s.sessions.some((x) => x.state === "ready"));
      assert.equal(state.sessions[0].id, id);
    });
    await t.step("proxy traffic is pushed by the timer", async () => {
      const traffic = (sessions.list()[0] as SessionInfo).traffic;
      traffic.opened();
      traffic.toSession(1234);
      const state = await stream.until((s) => s.sessions[0]?.bytesToSession === 1234);
      assert.equal(state.sessions[0].connections, 1);
      traffic.closed();
    });
    await t.step("a stopped session is pushed", async () => {
      await sessions.stop(id, "dashboard");
      await stream.until((s) => s.sessions.length === 0);
    });
    await t.step("a page that goes away leaves no client and no timer behind", async () => {
      await stream.cancel();
      assert.equal(events.clients, 0);
    });
    await t.step("shutting down ends every stream", async () => {
      const streams = await Promise.all([1, 2].map(() => admin("GET", "/_dashboard/api/events")));
      const readers = streams.map((r) => new EventReader(r.body!));
      for (const r of readers) assert.ok(await r.next());
      assert.equal(events.clients, 2);
      events.close();
      for (const r of readers) assert.equal(await r.next(), null);
      assert.equal(events.clients, 0);
      const late = new EventReader((await admin("GET", "/_dashboard/api/events")).body!);
      assert.equal(await late.next(), null, "a page that comes later gets an ended stream");
    });
  } finally {
    await cleanUp();
  }
});

Deno.test("DashboardEvents sends a heartbeat comment while nothing changes", async () => {
  const state: DashboardState = {
    now: 0,
    sessions: [],
    capacity: { used: 0, max: 1, freePorts: 1, totalPorts: 1 },
    failures: [],
    warm: [],
  };
  let now = 0;
  const events = new DashboardEvents(() => ({ ...state, now: now++ }), {
    intervalMs: 5,
    heartbeatMs: 10,
  });
  const reader = events.open().pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes(": heartbeat\n\n")) text += (await reader.read()).value;
  assert.equal(text.match(/event: state/g)?.length, 1, "time alone is not a change");
  await reader.cancel();
  assert.equal(events.clients, 0);
});

Deno.test("dashboardAnnouncement() says where the dashboard is and, without admin_token, gives a login URL", () => {
  const here = { dashboardPath: "/_dashboard" };
  assert.deepEqual(
    dashboardAnnouncement(here, { hostname: "0.0.0.0", port: 8080 }, false, "tok-123"),
    [
      "dashboard: log in at http://localhost:8080/_dashboard/login?token=tok-123 (a token made at start; set admin_token to keep one across restarts)",
    ],
  );
  assert.deepEqual(
    dashboardAnnouncement(
      { ...here, adminToken: "secret-secret-16" },
      { hostname: "::1", port: 9090 },
      true,
      "secret-secret-16",
    ),
    [
      "dashboard listening on http://[::1]:9090/_dashboard/",
      "dashboard: http://[::1]:9090/_dashboard/ (log in with the admin_token)",
    ],
  );
});
