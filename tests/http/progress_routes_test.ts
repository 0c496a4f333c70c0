import assert from "node:assert/strict";
import type { LauncherConfig } from "../../lib/config/mod.ts";
import { createHandler } from "../../lib/http/handler.ts";
import { prefersAsync } from "../../lib/http/progress_routes.ts";
import type { LaunchObserver, LaunchOutcome } from "../../lib/http/mod.ts";
import { PortPool, SessionManager } from "../../lib/sessions/mod.ts";
import { FakeFollower, FakeMap, FakeSpawner, testConfig } from "../fakes.ts";

Deno.test("prefersAsync() finds respond-async among the preferences, in any case", async (t) => {
  const cases: [string | undefined, boolean][] = [
    [undefined, false],
    ["respond-async", true],
    ["Respond-Async", true],
    ["wait=10, respond-async", true],
    ["respond-async; x=1", true],
    ["handling=lenient", false],
    ["respond-asynchronously", false],
  ];
  for (const [prefer, expected] of cases) {
    await t.step(String(prefer), () => {
      const headers: Record<string, string> = prefer === undefined ? {} : { prefer };
      assert.equal(prefersAsync(new Request("http://l/", { headers })), expected);
    });
  }
});

/** A POST of application "viz" that asks not to wait (`Prefer: respond-async`). */
function asyncPost(url = "http://l/paraview"): Request {
  return new Request(url, {
    method: "POST",
    body: JSON.stringify({ application: "viz" }),
    headers: { prefer: "respond-async" },
  });
}

/** A handler over fakes whose app prints its ready line when the test says. */
function setUp(overrides: Partial<LauncherConfig> = {}) {
  const config = testConfig({ properties: {}, ...overrides });
  config.apps.viz.cmd = ["/opt/viz", "--port", "$port"];
  const follower = new FakeFollower();
  const spawner = new FakeSpawner({ "/opt/viz": () => {} });
  const sessions = new SessionManager({
    config,
    pool: new PortPool(config.resources),
    spawner,
    follower,
    map: new FakeMap(),
  });
  const outcomes: LaunchOutcome[] = [];
  const observer: LaunchObserver = { launched: (_app, outcome) => outcomes.push(outcome) };
  const handler = createHandler({ config, sessions, observer });
  const ready = () => {
    const p = spawner.processes.at(-1)!;
    follower.write(p.request.logFile, "Starting factory\n");
  };
  return { handler, sessions, spawner, ready, outcomes };
}

Deno.test("a POST with Prefer: respond-async is answered 202 before the session is ready, told once to the observer when it is", async () => {
  const { handler, sessions, ready, outcomes } = setUp();
  const res = await handler(asyncPost());
  assert.equal(res.status, 202);
  const { id, events } = await res.json();
  assert.equal(res.headers.get("location"), `/paraview/${id}`);
  assert.equal(events, `/paraview/${id}/events`);
  assert.deepEqual(outcomes, [], "not told before the outcome is known");
  const stream = await handler(new Request(`http://l/paraview/${id}/events`));
  const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
  const first = await reader.read();
  assert.match(
    first.value!,
    /^event: starting\ndata: \{"id":"[a-z2-7]+","host":"localhost","port":9001\}\n\n$/,
  );
  ready();
  let rest = "";
  for (let r = await reader.read(); !r.done; r = await reader.read()) rest += r.value;
  assert.match(
    rest,
    /^event: ready\ndata: \{.*"sessionURL":"ws:\/\/localhost:8080\/proxy\/[a-z2-7]+".*\}\n\n$/,
  );
  assert.deepEqual(outcomes, ["ready"]);
  await sessions.stopAll();
});

Deno.test("a client that leaves the event stream leaves nothing running; an unknown id is a JSON 404", async () => {
  const { handler, sessions, ready } = setUp();
  const res = await handler(asyncPost());
  const { id } = await res.json();
  const stream = await handler(new Request(`http://l/paraview/${id}/events`));
  await stream.body!.cancel();
  const missing = await handler(new Request("http://l/paraview/nope/events"));
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { error: 'no session with id "nope"' });
  ready();
  await sessions.stopAll();
});

Deno.test("with the root endpoint of a wslink config, Location is an absolute URL, not //<id>", async () => {
  const { handler, sessions, ready } = setUp({ endpoint: "//" });
  const res = await handler(asyncPost("http://launcher.test:8080//"));
  const { id } = await res.json();
  assert.equal(res.headers.get("location"), `http://launcher.test:8080//${id}`);
  const get = await handler(new Request(res.headers.get("location")!));
  assert.equal(get.status, 202);
  assert.deepEqual(await get.json(), { id, application: "viz", state: "starting" });
  ready();
  await sessions.stopAll();
});

Deno.test("over TLS, an absolute Location says https and the ready event's USE_HOST sessionURL says wss", async () => {
  const { handler, sessions, ready } = setUp({
    endpoint: "//",
    sessionUrl: "ws://USE_HOST/proxy/${id}",
  });
  const post = (tls: boolean) => handler(asyncPost("http://launcher.test:8443//"), { tls });
  const overTls = await post(true);
  const { id, events } = await overTls.json();
  assert.equal(overTls.headers.get("location"), `https://launcher.test:8443//${id}`);
  assert.equal(events, `https://launcher.test:8443//${id}/events`);
  ready();
  const readyEvent = async (tls: boolean) => {
    const stream = await handler(new Request(`http://launcher.test:8443//${id}/events`), { tls });
    return (await stream.text()).split("\n\n").find((e) => e.startsWith("event: ready"));
  };
  assert.match((await readyEvent(true))!, /"sessionURL":"wss:\/\/USE_HOST\/proxy\//);
  assert.match((await readyEvent(false))!, /"sessionURL":"ws:\/\/USE_HOST\/proxy\//);
  const plain = await post(false);
  assert.match(plain.headers.get("location")!, /^http:\/\/launcher\.test:8443\/\/[a-z2-7]+$/);
  await plain.body?.cancel();
  await sessions.stopAll();
});

Deno.test("DELETE of a session still starting answers that it stopped, not an answer it never had", async () => {
  const { handler, sessions } = setUp();
  const res = await handler(asyncPost());
  const { id } = await res.json();
  const del = () => handler(new Request(`http://l/paraview/${id}`, { method: "DELETE" }));
  // The second while the first is stopping it: no answer either.
  const [first, second] = await Promise.all([del(), del()]);
  for (const deleted of [first, second]) {
    assert.equal(deleted.status, 200);
    assert.deepEqual(await deleted.json(), { id, application: "viz", state: "stopped" });
  }
  await sessions.stopAll();
});

Deno.test("at the root endpoint, a content file whose path ends in /events is the content's", async () => {
  const content = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${content}/docs`);
    await Deno.writeTextFile(`${content}/docs/events`, "the events page");
    const { handler, sessions } = setUp({ endpoint: "/", content });
    const res = await handler(new Request("http://l/docs/events"));
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "the events page");
    const unknown = await handler(new Request("http://l/abcdefghijklmnopqrstuvwxyz/events"));
    assert.equal(unknown.status, 404);
    assert.match((await unknown.json()).error, /no session with id/);
    await sessions.stopAll();
  } finally {
    await Deno.remove(content, { recursive: true });
  }
});
