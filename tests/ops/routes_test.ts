import assert from "node:assert/strict";
import type { Route } from "../../lib/http/mod.ts";
import { LauncherMetrics, type MetricsSnapshot } from "../../lib/ops/metrics.ts";
import { METRICS_CONTENT_TYPE, opsRoutes } from "../../lib/ops/routes.ts";
import { parseExposition, sampleValue } from "../exposition.ts";
import { NullMetrics } from "../fakes.ts";

/** A launcher's state that the test changes between requests. */
function world() {
  const state = {
    closing: false,
    snapshot: {
      sessions: [{ application: "viz", state: "ready" }, { application: "viz", state: "starting" }],
      freePorts: 8,
      totalPorts: 10,
      maxSessions: 5,
      proxy: { connections: 1, bytesToSessions: 10, bytesFromSessions: 20 },
    } as MetricsSnapshot,
  };
  const metrics = new LauncherMetrics({ clock: () => 0, residentMemory: () => 1 });
  const routes = opsRoutes({
    metrics,
    snapshot: () => structuredClone(state.snapshot),
    shuttingDown: () => state.closing,
  });
  return { state, metrics, routes };
}

/** Finds the route and handler as the HTTP layer does, and calls it. */
function call(routes: Route[], method: string, path: string): Promise<Response> {
  const req = new Request(`http://127.0.0.1${path}`, { method });
  for (const r of routes) {
    const match = r.pattern.exec({ pathname: new URL(req.url).pathname });
    if (!match) continue;
    const handler = r.methods[method];
    if (!handler) return Promise.resolve(new Response(null, { status: 405 }));
    return handler(req, match.pathname.groups, {});
  }
  return Promise.resolve(new Response(null, { status: 404 }));
}

Deno.test("opsRoutes() serves /metrics and /healthz for GET and HEAD only", async () => {
  const { routes } = world();
  assert.deepStrictEqual(
    routes.map((r) => [r.pattern.pathname, Object.keys(r.methods)]),
    [["/metrics", ["GET", "HEAD"]], ["/healthz", ["GET", "HEAD"]]],
  );
  for (const path of ["/metrics/", "/metrics/x", "/health"]) {
    assert.strictEqual((await call(routes, "GET", path)).status, 404, path);
  }
});

Deno.test("GET /metrics answers the Prometheus text format of the live state", async () => {
  const { state, metrics, routes } = world();
  metrics.launched("viz", "ready", 0.2);
  const res = await call(routes, "GET", "/metrics");
  assert.strictEqual(res.status, 200);
  assert.strictEqual(res.headers.get("content-type"), METRICS_CONTENT_TYPE);
  assert.strictEqual(METRICS_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
  assert.strictEqual(res.headers.get("cache-control"), "no-store");
  let parsed = parseExposition(await res.text());
  assert.strictEqual(
    sampleValue(parsed, "pvw_launcher_launches_total", { application: "viz", outcome: "ready" }),
    1,
  );
  assert.strictEqual(sampleValue(parsed, "pvw_launcher_free_ports"), 8);
  assert.strictEqual(
    sampleValue(parsed, "pvw_launcher_sessions", { application: "viz", state: "starting" }),
    1,
  );

  state.snapshot.freePorts = 7;
  parsed = parseExposition(await (await call(routes, "GET", "/metrics")).text());
  assert.strictEqual(sampleValue(parsed, "pvw_launcher_free_ports"), 7, "read at each scrape");
});

Deno.test("GET /metrics with NullMetrics answers an empty exposition", async () => {
  const routes = opsRoutes({
    metrics: new NullMetrics(),
    snapshot: () => world().state.snapshot,
    shuttingDown: () => false,
  });
  const res = await call(routes, "GET", "/metrics");
  assert.strictEqual(res.status, 200);
  assert.strictEqual(await res.text(), "");
});

Deno.test("GET /healthz answers 200 while running and 503 once shutting down", async (t) => {
  const { state, routes } = world();
  await t.step("running", async () => {
    const res = await call(routes, "GET", "/healthz");
    assert.strictEqual(res.status, 200);
    assert.strictEqual(res.headers.get("content-type"), "application/json; charset=utf-8");
    assert.strictEqual(res.headers.get("cache-control"), "no-store");
    assert.deepStrictEqual(await res.json(), {
      status: "ok",
      sessions: 2,
      capacity: 5,
      freePorts: 8,
    });
  });
  await t.step("shutting down", async () => {
    state.closing = true;
    state.snapshot.sessions = [];
    state.snapshot.freePorts = 10;
    const res = await call(routes, "GET", "/healthz");
    assert.strictEqual(res.status, 503);
    assert.deepStrictEqual(await res.json(), {
      status: "shutting down",
      sessions: 0,
      capacity: 5,
      freePorts: 10,
    });
  });
});

Deno.test("HEAD answers the status and headers of GET, without a body", async (t) => {
  const { state, routes } = world();
  const cases: [string, string, number, boolean][] = [
    ["/metrics", METRICS_CONTENT_TYPE, 200, false],
    ["/healthz", "application/json; charset=utf-8", 200, false],
    ["/healthz", "application/json; charset=utf-8", 503, true],
  ];
  for (const [path, type, status, closing] of cases) {
    await t.step(`${path} ${status}`, async () => {
      state.closing = closing;
      const res = await call(routes, "HEAD", path);
      assert.strictEqual(res.status, status);
      assert.strictEqual(res.headers.get("content-type"), type);
      assert.strictEqual(res.headers.get("cache-control"), "no-store");
      assert.strictEqual(res.body, null);
    });
  }
});

Deno.test("GET /healthz answers 503 with the error while the listener cannot accept, and the descriptors", async () => {
  const { state } = world();
  const listener = { accepting: true } as { accepting: boolean; since?: number; error?: string };
  const routes = opsRoutes({
    metrics: new NullMetrics(),
    snapshot: () => state.snapshot,
    shuttingDown: () => state.closing,
    listener: () => listener,
    descriptors: () => ({ open: 1020, limit: 1024 }),
  });
  let res = await call(routes, "GET", "/healthz");
  assert.strictEqual(res.status, 200);
  assert.deepStrictEqual((await res.json()).descriptors, { open: 1020, limit: 1024 });
  Object.assign(listener, {
    accepting: false,
    since: Date.UTC(2026, 0, 1),
    error: "Too many open files",
  });
  res = await call(routes, "GET", "/healthz");
  assert.strictEqual(res.status, 503);
  assert.deepStrictEqual(await res.json(), {
    status: "failing",
    problems: ["the listener refuses connections"],
    refusing: { error: "Too many open files", since: "2026-01-01T00:00:00.000Z" },
    sessions: 2,
    capacity: 5,
    freePorts: 8,
    descriptors: { open: 1020, limit: 1024 },
  });
  state.closing = true;
  res = await call(routes, "GET", "/healthz");
  assert.strictEqual(res.status, 503);
  assert.strictEqual((await res.json()).status, "shutting down");
});

Deno.test("GET /healthz answers 503 while a kept file cannot be written, and says which, not where", async () => {
  const { state, routes } = world();
  state.snapshot.files = [
    { file: "map", stale: true, failures: 2 },
    { file: "state", stale: false, failures: 0 },
  ];
  const res = await call(routes, "GET", "/healthz");
  assert.strictEqual(res.status, 503);
  const body = await res.json();
  assert.strictEqual(body.status, "failing");
  assert.deepStrictEqual(body.problems, ["the map file cannot be written"]);
  state.snapshot.files[0].stale = false;
  const again = await call(routes, "GET", "/healthz");
  assert.strictEqual(again.status, 200);
  const ok = await again.json();
  assert.strictEqual(ok.status, "ok");
  assert.strictEqual(ok.problems, undefined);
});
