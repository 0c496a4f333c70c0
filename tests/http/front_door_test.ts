import assert from "node:assert/strict";
import type { LauncherConfig } from "../../lib/config/mod.ts";
import { CORS_HEADERS, CORS_METHODS, FrontDoor } from "../../lib/http/front_door.ts";
import { createHandler } from "../../lib/http/handler.ts";
import { opsRoutes } from "../../lib/ops/mod.ts";
import { PortPool, SessionManager } from "../../lib/sessions/mod.ts";
import { clientKey, RateLimiter } from "../../lib/http/rate_limit.ts";
import { FakeFollower, FakeMap, FakeSpawner, NullMetrics, testConfig } from "../fakes.ts";

const LAUNCHER = "http://launcher.test:8080";
const ALLOWED = "https://app.example.com";
const TOKEN = "0123456789abcdef0123456789abcdef";
const CLIENT: Deno.NetAddr = { transport: "tcp", hostname: "192.0.2.10", port: 50000 };

function makeConfig(overrides: Partial<LauncherConfig>): LauncherConfig {
  return testConfig({
    sessionUrl: "ws://USE_HOST/proxy/$id",
    maxSessions: 50,
    resources: [{ host: "localhost", first: 9001, last: 9050 }],
    properties: {},
    apps: {
      viz: {
        name: "viz",
        cmd: ["/opt/viz", "--port", "$port"],
        env: {},
        readyLines: ["Starting factory"],
        timeoutMs: 10_000,
        wsPath: "/ws",
        warm: 0,
      },
    },
    allowedOrigins: [ALLOWED],
    ...overrides,
  });
}

interface Send {
  origin?: string;
  headers?: Record<string, string>;
  body?: string;
  from?: Deno.NetAddr;
  /** It came over the launcher's own TLS listener. */
  tls?: boolean;
}

/** A handler over fakes whose `/opt/viz` prints its ready line at once, and a fake clock. */
function setUp(overrides: Partial<LauncherConfig> = {}) {
  const config = makeConfig(overrides);
  const follower = new FakeFollower();
  const spawner = new FakeSpawner({
    "/opt/viz": (p) => follower.write(p.request.logFile, "wslink: Starting factory\n"),
  });
  const sessions = new SessionManager({
    config,
    pool: new PortPool(config.resources),
    spawner,
    follower,
    map: new FakeMap(),
    baseEnv: {},
  });
  const clock = { now: 0 };
  const frontDoor = new FrontDoor({ ...config, now: () => clock.now });
  const routes = opsRoutes({
    metrics: new NullMetrics(),
    shuttingDown: () => false,
    snapshot: () => ({
      sessions: [],
      freePorts: 1,
      totalPorts: 1,
      maxSessions: 1,
      proxy: { connections: 0, bytesToSessions: 0, bytesFromSessions: 0 },
    }),
  });
  const handler = createHandler({ config, sessions, frontDoor, routes });
  const send = async (method: string, path: string, opts: Send = {}) => {
    const headers = new Headers(opts.headers);
    if (opts.origin !== undefined) headers.set("origin", opts.origin);
    const res = await handler(
      new Request(LAUNCHER + path, { method, headers, body: opts.body }),
      { remoteAddr: opts.from ?? CLIENT, tls: opts.tls },
    );
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
  };
  const post = (opts: Send = {}) =>
    send("POST", "/paraview", { body: '{"application": "viz"}', ...opts });
  return { config, spawner, sessions, clock, frontDoor, send, post };
}

function assertNoCors(headers: Headers): void {
  assert.equal(headers.get("access-control-allow-origin"), null);
}

Deno.test("a POST from a page of another origin is refused with 403 JSON and spawns nothing", async (t) => {
  const { spawner, sessions, post } = setUp();
  const foreign = [
    ["another site", "https://evil.example"],
    ["a sandboxed page or a file (null)", "null"],
    ["an allowed host as a prefix of another", "https://app.example.com.evil.example"],
    ["an allowed host over another scheme", "http://app.example.com"],
    ["an allowed host on another port", "https://app.example.com:8443"],
    ["the launcher's host on another port", "http://launcher.test:8081"],
    ["the launcher's host over https", "https://launcher.test:8080"],
    ["not an origin", "evil"],
    ["an empty Origin", ""],
    ["a non-web scheme", "chrome-extension://abcdef"],
  ];
  for (const [name, origin] of foreign) {
    await t.step(name, async () => {
      const res = await post({ origin, headers: { "content-type": "text/plain;charset=UTF-8" } });
      assert.equal(res.status, 403);
      assert.match(res.json.error, /may not use this launcher/);
      assertNoCors(res.headers);
      assert.equal(spawner.processes.length, 0, "nothing was spawned");
      assert.equal(sessions.size, 0);
    });
  }
  await t.step("a forged X-Forwarded-Host naming another site does not help it", async () => {
    const res = await post({
      origin: "https://evil.example",
      headers: { "x-forwarded-host": "app.evil.example" },
    });
    assert.equal(res.status, 403);
    assert.equal(spawner.processes.length, 0);
  });
});

Deno.test("GET and DELETE from a page of another origin are refused and stop nothing", async () => {
  const { sessions, send, post } = setUp();
  const { json: session } = await post();
  for (const method of ["GET", "DELETE"]) {
    const res = await send(method, `/paraview/${session.id}`, { origin: "https://evil.example" });
    assert.equal(res.status, 403, method);
    assertNoCors(res.headers);
  }
  assert.equal(sessions.size, 1, "the session still runs");
  await sessions.stopAll();
});

Deno.test("a POST without Origin, from the launcher's own origin or an allowed one is answered 200", async (t) => {
  const { spawner, sessions, post } = setUp();
  await t.step("no Origin (curl, a server): no CORS headers, Vary: Origin", async () => {
    const res = await post();
    assert.equal(res.status, 200);
    assert.equal(res.json.application, "viz");
    assertNoCors(res.headers);
    assert.equal(res.headers.get("vary"), "Origin");
  });
  const cases: [string, string, Record<string, string>][] = [
    ["the launcher's own origin", LAUNCHER, {}],
    ["its own origin, in another case", "HTTP://Launcher.TEST:8080", {}],
    ["an allowed origin", ALLOWED, {}],
    ["an allowed origin with its default port", "https://app.example.com:443", {}],
    ["the public origin of a TLS proxy in front", "https://viz.example.org", {
      "x-forwarded-host": "viz.example.org",
      "x-forwarded-proto": "https",
    }],
    ["the first of several forwarded values", "https://viz.example.org", {
      "x-forwarded-host": "viz.example.org, internal.example:8080",
      "x-forwarded-proto": "https, http",
    }],
  ];
  for (const [name, origin, headers] of cases) {
    await t.step(`${name}: CORS headers name it`, async () => {
      const res = await post({ origin, headers });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("access-control-allow-origin"), origin);
      assert.equal(res.headers.get("vary"), "Origin");
      assert.equal(
        res.headers.get("access-control-expose-headers"),
        "retry-after, location, preference-applied",
      );
      assert.equal(res.headers.get("access-control-allow-credentials"), null);
    });
  }
  assert.equal(spawner.processes.length, cases.length + 1);
  await sessions.stopAll();
});

Deno.test("error answers to an allowed origin carry CORS headers, so its page can read them", async () => {
  const { send, post } = setUp();
  const bad = await post({ origin: ALLOWED, body: "{not json" });
  assert.equal(bad.status, 400);
  assert.match(bad.json.error, /not valid JSON/);
  assert.equal(bad.headers.get("access-control-allow-origin"), ALLOWED);
  const missing = await send("GET", "/paraview/nope", { origin: ALLOWED });
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get("access-control-allow-origin"), ALLOWED);
});

Deno.test("OPTIONS on the endpoint answers CORS preflights", async (t) => {
  const { send, spawner } = setUp({ apiToken: TOKEN });
  const preflight = { "access-control-request-method": "POST" };
  for (const path of ["/paraview", "/paraview/", "/paraview/some-id"]) {
    await t.step(`from an allowed origin at ${path}: 204 with what it may send`, async () => {
      const res = await send("OPTIONS", path, { origin: ALLOWED, headers: preflight });
      assert.equal(res.status, 204, "no token needed: browsers send none with a preflight");
      assert.equal(res.headers.get("access-control-allow-origin"), ALLOWED);
      assert.equal(res.headers.get("access-control-allow-methods"), CORS_METHODS);
      assert.equal(res.headers.get("access-control-allow-headers"), CORS_HEADERS);
      assert.equal(res.headers.get("access-control-max-age"), "600");
      assert.equal(res.headers.get("vary"), "Origin");
    });
  }
  await t.step("the allowed methods and headers are the REST API's", () => {
    assert.equal(CORS_METHODS, "POST, GET, DELETE");
    assert.equal(CORS_HEADERS, "content-type, authorization, prefer");
  });
  await t.step("from another origin: 403 JSON, no CORS headers", async () => {
    const res = await send("OPTIONS", "/paraview", {
      origin: "https://evil.example",
      headers: preflight,
    });
    assert.equal(res.status, 403);
    assert.match(res.json.error, /evil\.example/);
    assertNoCors(res.headers);
  });
  await t.step("without Origin (not a preflight): 204 with Allow", async () => {
    const res = await send("OPTIONS", "/paraview");
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("allow"), "POST, OPTIONS");
    assertNoCors(res.headers);
    assert.equal(
      (await send("OPTIONS", "/paraview/x")).headers.get("allow"),
      "GET, DELETE, OPTIONS",
    );
  });
  await t.step("Chrome's private network preflight is allowed for an allowed origin", async () => {
    const res = await send("OPTIONS", "/paraview", {
      origin: ALLOWED,
      headers: { ...preflight, "access-control-request-private-network": "true" },
    });
    assert.equal(res.headers.get("access-control-allow-private-network"), "true");
  });
  await t.step("a method the path does not take is 405 with OPTIONS in Allow", async () => {
    const res = await send("PUT", "/paraview", { origin: ALLOWED });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "POST, OPTIONS");
  });
  assert.equal(spawner.processes.length, 0);
});

Deno.test("api_token: the REST API needs Authorization: Bearer <token>", async (t) => {
  const { spawner, sessions, send, post } = setUp({ apiToken: TOKEN });
  await t.step("no Authorization: 401 with a Bearer challenge, nothing spawned", async () => {
    const res = await post();
    assert.equal(res.status, 401);
    assert.match(res.json.error, /Authorization: Bearer/);
    assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="pvw-launcher"');
  });
  const wrong = [
    ["a wrong token", `Bearer ${TOKEN.replace("0", "1")}`],
    ["a prefix of the token", `Bearer ${TOKEN.slice(0, -1)}`],
    ["the token and more", `Bearer ${TOKEN}x`],
    ["another scheme", `Basic ${btoa(`user:${TOKEN}`)}`],
    ["the bare token", TOKEN],
    ["an empty bearer", "Bearer "],
  ];
  for (const [name, authorization] of wrong) {
    await t.step(`${name}: 401 invalid_token`, async () => {
      const res = await post({ headers: { authorization } });
      assert.equal(res.status, 401);
      assert.equal(res.json.error, "the bearer token is not valid");
      assert.match(res.headers.get("www-authenticate")!, /error="invalid_token"/);
    });
  }
  assert.equal(spawner.processes.length, 0, "no refused request spawned anything");
  const authorization = `bearer  ${TOKEN}`;
  await t.step("the right token (scheme in any case): POST, GET and DELETE work", async () => {
    const launched = await post({ headers: { authorization } });
    assert.equal(launched.status, 200);
    const path = `/paraview/${launched.json.id}`;
    assert.equal((await send("GET", path)).status, 401, "GET needs it too");
    assert.equal((await send("DELETE", path)).status, 401, "DELETE needs it too");
    assert.equal((await send("GET", path, { headers: { authorization } })).status, 200);
    assert.equal((await send("DELETE", path, { headers: { authorization } })).status, 200);
    assert.equal(sessions.size, 0);
  });
  await t.step("a 401 to an allowed origin carries CORS headers", async () => {
    const res = await post({ origin: ALLOWED });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get("access-control-allow-origin"), ALLOWED);
  });
  await t.step("/metrics and /healthz stay open", async () => {
    assert.equal((await send("GET", "/metrics")).status, 200);
    assert.equal((await send("GET", "/healthz")).status, 200);
  });
});

Deno.test("rate_limit: 429 with Retry-After after the burst, and recovery as time passes", async (t) => {
  // 6 a minute: one request back every 10 s.
  const { spawner, sessions, clock, frontDoor, send, post } = setUp({
    rateLimit: { perMinute: 6, burst: 2 },
  });
  await t.step("the burst passes, the next POST is 429 JSON with Retry-After", async () => {
    assert.equal((await post()).status, 200);
    assert.equal((await post()).status, 200);
    const res = await post({ origin: ALLOWED });
    assert.equal(res.status, 429);
    assert.match(res.json.error, /too many launch requests/);
    assert.equal(res.headers.get("retry-after"), "10");
    assert.equal(res.headers.get("access-control-allow-origin"), ALLOWED);
    assert.equal(spawner.processes.length, 2, "the refused POST spawned nothing");
  });
  await t.step("Retry-After counts down in whole seconds, never below 1", async () => {
    clock.now += 4_500;
    assert.equal((await post()).headers.get("retry-after"), "6");
    clock.now += 5_499;
    assert.equal((await post()).headers.get("retry-after"), "1");
  });
  await t.step("once the time has passed a POST goes through again", async () => {
    clock.now += 1;
    assert.equal((await post()).status, 200);
    assert.equal((await post()).status, 429);
  });
  await t.step("GET and DELETE are not limited", async () => {
    const id = sessions.list()[0].id;
    for (let i = 0; i < 5; i++) assert.equal((await send("GET", `/paraview/${id}`)).status, 200);
  });
  await t.step("each client has its own bucket", async () => {
    const other: Deno.NetAddr = { ...CLIENT, hostname: "198.51.100.7" };
    assert.equal((await post({ from: other })).status, 200);
  });
  await t.step("behind a local proxy, X-Forwarded-For's last entry is the client", async () => {
    const proxy: Deno.NetAddr = { ...CLIENT, hostname: "127.0.0.1" };
    const via = (client: string) => ({ from: proxy, headers: { "x-forwarded-for": client } });
    assert.equal((await post(via("203.0.113.1"))).status, 200);
    assert.equal((await post(via("203.0.113.1"))).status, 200);
    assert.equal((await post(via("203.0.113.1"))).status, 429);
    assert.equal((await post(via("198.51.100.99, 203.0.113.1"))).status, 429, "forged first");
    assert.equal((await post(via("203.0.113.2"))).status, 200);
  });
  await t.step("from a remote peer, X-Forwarded-For is ignored", async () => {
    const res = await post({ headers: { "x-forwarded-for": "203.0.113.50" } });
    assert.equal(res.status, 429);
  });
  assert(frontDoor.trackedClients <= 5);
  await sessions.stopAll();
});

Deno.test("RateLimiter forgets idle clients and never holds more than maxClients", async (t) => {
  await t.step("buckets that have refilled are dropped at the next sweep", () => {
    let now = 0;
    const limiter = new RateLimiter({ perMinute: 60, burst: 3 }, { now: () => now });
    for (let i = 0; i < 500; i++) assert.equal(limiter.take(`10.0.${i >> 8}.${i & 255}`), 0);
    assert.equal(limiter.size, 500);
    now += 3_000; // an empty bucket refills in burst / rate = 3 s
    assert.equal(limiter.take("10.1.0.1"), 0);
    assert.equal(limiter.size, 1);
  });
  await t.step("a bucket that has not refilled survives a sweep", () => {
    let now = 0;
    const limiter = new RateLimiter({ perMinute: 60, burst: 2 }, { now: () => now });
    assert.equal(limiter.take("a"), 0);
    assert.equal(limiter.take("a"), 0);
    now = 1_500;
    assert.equal(limiter.take("a"), 0, "1.5 requests back, one taken");
    now = 2_000; // a sweep: "a" holds 1 of 2
    assert.equal(limiter.take("b"), 0);
    assert.equal(limiter.size, 2);
    assert.equal(limiter.take("a"), 0);
    assert.equal(limiter.take("a"), 1, "a fresh bucket would have let this one pass");
  });
  await t.step("at the cap the least recently seen client is forgotten", () => {
    const limiter = new RateLimiter({ perMinute: 1, burst: 1 }, { now: () => 0, maxClients: 3 });
    for (const c of ["a", "b", "c"]) limiter.take(c);
    limiter.take("a"); // refused, but now the most recent
    limiter.take("d");
    assert.equal(limiter.size, 3);
    assert.equal(limiter.take("a"), 60, "a is still remembered");
    assert.equal(limiter.take("b"), 0, "b was forgotten");
  });
  await t.step("10,000 distinct clients on a cap of 1,000", () => {
    const limiter = new RateLimiter({ perMinute: 1, burst: 1 }, {
      now: () => 0,
      maxClients: 1_000,
    });
    for (let i = 0; i < 10_000; i++) limiter.take(`c${i}`);
    assert.equal(limiter.size, 1_000);
  });
});

Deno.test("clientKey() counts IPv6 clients by /64 and IPv4-mapped ones as IPv4", () => {
  const cases: [string, string][] = [
    ["192.0.2.1", "192.0.2.1"],
    ["::ffff:192.0.2.1", "192.0.2.1"],
    ["::FFFF:c000:0201", "192.0.2.1"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:db8:1:2::9", "2001:db8:1:2::/64"],
    ["2001:0DB8:0001:0002:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"],
    ["2001:db8::", "2001:db8:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["64:ff9b::192.0.2.1", "64:ff9b:0:0::/64"],
    ["not:an::address::", "not:an::address::"],
    ["unknown", "unknown"],
  ];
  for (const [address, key] of cases) assert.equal(clientKey(address), key, address);
});

Deno.test("over the launcher's own TLS listener its https pages are its own, and a USE_HOST sessionURL says wss", async (t) => {
  const { sessions, send, post } = setUp();
  const own = "https://launcher.test:8080";
  let id = "";
  await t.step("POST from its https page: 200, sessionURL wss://USE_HOST/...", async () => {
    const res = await post({ origin: own, tls: true });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.headers.get("access-control-allow-origin"), own);
    id = res.json.id;
    assert.equal(res.json.sessionURL, `wss://USE_HOST/proxy/${id}`);
  });
  await t.step("GET and DELETE answer the same scheme", async () => {
    const got = await send("GET", `/paraview/${id}`, { tls: true });
    assert.equal(got.json.sessionURL, `wss://USE_HOST/proxy/${id}`);
    const stopped = await send("DELETE", `/paraview/${id}`, { tls: true });
    assert.equal(stopped.status, 200);
  });
  await t.step("the same request in the clear: ws://", async () => {
    const res = await post();
    assert.equal(res.json.sessionURL, `ws://USE_HOST/proxy/${res.json.id}`);
  });
  await t.step(
    "its http page is another origin over TLS, and its https page in the clear",
    async () => {
      assert.equal((await post({ origin: LAUNCHER, tls: true })).status, 403);
      assert.equal((await post({ origin: own })).status, 403);
    },
  );
  await t.step("a preflight from its https page over TLS is answered", async () => {
    const headers = { "access-control-request-method": "POST" };
    const res = await send("OPTIONS", "/paraview", { origin: own, headers, tls: true });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), own);
  });
  await t.step("X-Forwarded-Proto: https from a trusted terminator: wss", async () => {
    const terminator: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 40000 };
    const headers = { "x-forwarded-proto": "https" };
    const res = await post({ headers, from: terminator });
    assert.equal(res.json.sessionURL, `wss://USE_HOST/proxy/${res.json.id}`);
  });
  await t.step("X-Forwarded-Proto: https from anyone else is not believed: ws", async () => {
    const res = await post({ headers: { "x-forwarded-proto": "https" } });
    assert.equal(res.json.sessionURL, `ws://USE_HOST/proxy/${res.json.id}`);
  });
  await sessions.stopAll();
});

Deno.test("an absolute sessionURL the admin wrote is answered as written, even over TLS", async () => {
  const { sessions, post } = setUp({ sessionUrl: "ws://render.example.org:9000/proxy/$id" });
  const res = await post({ tls: true });
  assert.equal(res.status, 200);
  assert.equal(res.json.sessionURL, `ws://render.example.org:9000/proxy/${res.json.id}`);
  await sessions.stopAll();
});
