import assert from "node:assert/strict";
import { type LauncherConfig, parseConfig } from "../../lib/config/mod.ts";
import { sessionAnswer, type SessionFacts } from "../../lib/sessions/answer.ts";

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
  return {
    id: "sess1",
    sessionUrl: "ws://localhost:8080/proxy/sess1",
    secret: "s3cr3t",
    body,
    replaced: {},
    usesSecret: false,
    host: "localhost",
    port: 9001,
    sessionData: {},
    ...overrides,
  };
}

const OWN = { id: "sess1", sessionURL: "ws://localhost:8080/proxy/sess1", secret: "s3cr3t" };
/** What the wslink format always answers (the secret only under its rule, see below). */
const WSLINK_OWN = { id: OWN.id, sessionURL: OWN.sessionURL };

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

Deno.test("sessionAnswer() in the wslink format answers only id, sessionURL, sessionManagerURL and fields", () => {
  const body = {
    application: "viz",
    file: "../../etc/passwd; rm",
    count: 3,
    debug: true,
    sessionManagerURL: "http://h/paraview/",
    other: "kept out",
    opts: { a: 1 },
  };
  const session = facts(body, {
    sessionData: { updir: "/Home/9001", other_data: "not in fields" },
    replaced: { file: "none" }, // what a sanitize rule made of it
  });
  const fields = ["file", "host", "port", "updir", "count", "debug"];
  assert.deepEqual(sessionAnswer(config("wslink", fields), session), {
    ...WSLINK_OWN,
    sessionManagerURL: "http://h/paraview/",
    file: "none",
    host: "localhost",
    port: 9001,
    updir: "/Home/9001",
    count: 3,
    debug: true,
  });
});

Deno.test("sessionAnswer() in the wslink format answers the secret when the cmd uses it or a field names it", async (t) => {
  const cases: [name: string, usesSecret: boolean, fields: string[], answered: boolean][] = [
    ["the cmd passes ${secret} (--authKey)", true, [], true],
    ['"fields" names "secret"', false, ["secret"], true],
    ["neither: the app expects wslink's default secret", false, [], false],
  ];
  for (const [name, usesSecret, fields, answered] of cases) {
    await t.step(name, () => {
      const answer = sessionAnswer(config("wslink", fields), facts({}, { usesSecret }));
      assert.deepEqual(answer, answered ? OWN : WSLINK_OWN);
    });
  }
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
      assert.deepEqual(sessionAnswer(config("wslink", [field]), facts(body)), WSLINK_OWN);
    });
  }
});

Deno.test("sessionAnswer() never answers a property, even when a field names it", async (t) => {
  const wslink = config("wslink", ["python_exec", "cmd", "env", "properties"]);
  await t.step("the client did not send the key", () => {
    const answer = sessionAnswer(wslink, facts({ application: "viz" }));
    assert.deepEqual(answer, WSLINK_OWN);
    assert.ok(!JSON.stringify(answer).includes(PROPERTY));
  });
  await t.step("the client sent the key: its own value comes back, not the property", () => {
    const answer = sessionAnswer(wslink, facts({ application: "viz", python_exec: "/bin/sh" }));
    assert.deepEqual(answer, { ...WSLINK_OWN, python_exec: "/bin/sh" });
    assert.ok(!JSON.stringify(answer).includes(PROPERTY));
  });
});

Deno.test("sessionAnswer() in the wslink format answers sessionManagerURL only when it is a string", async (t) => {
  const cases: [name: string, value: unknown, expected: Record<string, unknown>][] = [
    ["a string", "http://h/paraview/", { ...WSLINK_OWN, sessionManagerURL: "http://h/paraview/" }],
    ["absent", undefined, WSLINK_OWN],
    ["a number", 42, WSLINK_OWN],
    ["an object", { url: "http://h/" }, WSLINK_OWN],
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
  assert.deepEqual(answer, OWN);
});
