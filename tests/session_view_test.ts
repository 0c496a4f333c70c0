import assert from "node:assert/strict";
import { parseConfig } from "../lib/config.ts";
import type { LauncherConfig } from "../lib/config_types.ts";
import { sessionAnswer, type SessionFacts } from "../lib/session_view.ts";

const PROPERTY = "/opt/paraview/bin/pvpython";

/** A config read by the real loader, so it keeps up with the model; `fields` varies per test. */
function config(format: "spec" | "wslink", fields: string[] = []): LauncherConfig {
  const text = format === "spec"
    ? JSON.stringify({
      resources: [{ host: "localhost", port: [9001, 9002] }],
      properties: { python_exec: PROPERTY },
      applications: { viz: { cmd: ["$python_exec", "--port", "$port"] } },
    })
    : JSON.stringify({
      configuration: { fields },
      resources: [{ host: "localhost", port_range: [9001, 9002] }],
      properties: { python_exec: PROPERTY },
      apps: { viz: { cmd: ["$python_exec", "--port", "$port"] } },
    });
  return parseConfig(text, "/srv/pv/launcher.config", { logDir: "/var/log/pvw" }).config;
}

/** A session as the session table would describe it; a client that sent `body`. */
function facts(body: Record<string, unknown>, overrides: Partial<SessionFacts> = {}): SessionFacts {
  const client: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) {
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") {
      client[k] = String(v);
    }
  }
  return {
    id: "sess1",
    sessionUrl: "ws://localhost:8080/proxy/sess1",
    secret: "s3cr3t",
    body,
    client,
    host: "localhost",
    port: 9001,
    sessionData: {},
    ...overrides,
  };
}

const OWN = { id: "sess1", sessionURL: "ws://localhost:8080/proxy/sess1", secret: "s3cr3t" };

Deno.test("sessionAnswer() in the spec format answers the POSTed body plus id, sessionURL and secret", async (t) => {
  await t.step("every key of the body, nested ones included", () => {
    const body = { application: "viz", node: 4, opts: { a: [1, 2] }, none: null };
    assert.deepEqual(sessionAnswer(config("spec"), facts(body)), { ...body, ...OWN });
  });
  await t.step("the launcher's id, sessionURL and secret replace the client's", () => {
    const body = { application: "viz", id: "mine", sessionURL: "ws://evil/", secret: "guess" };
    assert.deepEqual(sessionAnswer(config("spec"), facts(body)), { application: "viz", ...OWN });
  });
  await t.step("nothing else: no host, port, session data or property", () => {
    const answer = sessionAnswer(
      config("spec"),
      facts({ application: "viz" }, { sessionData: { updir: "/Home/9001" } }),
    );
    assert.deepEqual(answer, { application: "viz", ...OWN });
    assert.ok(!JSON.stringify(answer).includes(PROPERTY));
  });
});

Deno.test("sessionAnswer() in the wslink format answers only id, sessionURL, secret, sessionManagerURL, fields and sessionData", () => {
  const body = {
    application: "viz",
    file: "../../etc/passwd; rm",
    sessionManagerURL: "http://h/paraview/",
    other: "kept out",
    opts: { a: 1 },
  };
  const session = facts(body, { sessionData: { updir: "/Home/9001" } });
  session.client.file = "none"; // what a sanitize rule made of it
  assert.deepEqual(sessionAnswer(config("wslink", ["file", "host", "port"]), session), {
    ...OWN,
    sessionManagerURL: "http://h/paraview/",
    file: "none",
    host: "localhost",
    port: 9001,
    updir: "/Home/9001",
  });
});

Deno.test("sessionAnswer() in the wslink format leaves out fields that name nothing the client sent", async (t) => {
  const cases: [name: string, field: string, body: Record<string, unknown>][] = [
    ["a key the client did not send", "file", { application: "viz" }],
    ["an object value (never a template value)", "opts", { application: "viz", opts: { a: 1 } }],
    ["an array value", "list", { application: "viz", list: [1, 2] }],
    ["a null value", "none", { application: "viz", none: null }],
    ["an inherited name", "toString", { application: "viz" }],
  ];
  for (const [name, field, body] of cases) {
    await t.step(name, () => {
      assert.deepEqual(sessionAnswer(config("wslink", [field]), facts(body)), OWN);
    });
  }
});

Deno.test("sessionAnswer() never answers a property, even when a field names it", async (t) => {
  const wslink = config("wslink", ["python_exec", "cmd", "env", "properties"]);
  await t.step("the client did not send the key", () => {
    const answer = sessionAnswer(wslink, facts({ application: "viz" }));
    assert.deepEqual(answer, OWN);
    assert.ok(!JSON.stringify(answer).includes(PROPERTY));
  });
  await t.step("the client sent the key: its own value comes back, not the property", () => {
    const answer = sessionAnswer(wslink, facts({ application: "viz", python_exec: "/bin/sh" }));
    assert.deepEqual(answer, { ...OWN, python_exec: "/bin/sh" });
    assert.ok(!JSON.stringify(answer).includes(PROPERTY));
  });
});

Deno.test("sessionAnswer() in the wslink format answers sessionManagerURL only when it is a string", async (t) => {
  const cases: [name: string, value: unknown, expected: Record<string, unknown>][] = [
    ["a string", "http://h/paraview/", { ...OWN, sessionManagerURL: "http://h/paraview/" }],
    ["absent", undefined, OWN],
    ["a number", 42, OWN],
    ["an object", { url: "http://h/" }, OWN],
  ];
  for (const [name, value, expected] of cases) {
    await t.step(name, () => {
      const body = value === undefined ? {} : { sessionManagerURL: value };
      assert.deepEqual(sessionAnswer(config("wslink"), facts(body)), expected);
    });
  }
});

Deno.test("sessionAnswer() in the wslink format keeps id, sessionURL and secret the launcher's", () => {
  const answer = sessionAnswer(
    config("wslink", ["id", "sessionURL", "secret"]),
    facts(
      { id: "mine", sessionURL: "ws://evil/", secret: "guess" },
      { sessionData: { id: "data-id", secret: "data-secret", updir: "/Home/9001" } },
    ),
  );
  assert.deepEqual(answer, { ...OWN, updir: "/Home/9001" });
});
