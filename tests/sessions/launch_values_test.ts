import assert from "node:assert/strict";
import {
  ASSIGNED_NAMES,
  compileTemplate,
  MissingVariableError,
  parseConfig,
  type SanitizeRule,
} from "../../lib/config/mod.ts";
import {
  checkVariables,
  clientValues,
  compileTemplates,
  lookupIn,
  renderSession,
  unprovidedVariables,
} from "../../lib/sessions/launch_values.ts";

Deno.test("clientValues() turns scalars into strings and drops everything else", () => {
  const { values, replaced } = clientValues({
    application: "viz",
    node: 4,
    ratio: 1.5,
    big: 1e21,
    debug: true,
    quiet: false,
    empty: "",
    none: null,
    opts: { a: 1 },
    list: ["a"],
  }, {});
  assert.deepEqual(values, {
    application: "viz",
    node: "4",
    ratio: "1.5",
    big: "1e+21",
    debug: "true",
    quiet: "false",
    empty: "",
  });
  assert.deepEqual(replaced, []);
});

Deno.test("clientValues() applies sanitize rules and reports each replacement", async (t) => {
  const rules: Record<string, SanitizeRule> = {
    file: { type: "regexp", pattern: /^(?:[-\w./]+)$/, default: "none" },
    node: { type: "regexp", pattern: /^(?:\d+)$/, default: "1" },
    mode: { type: "inList", list: ["fast", "slow"], default: "slow" },
  };
  const cases: [
    name: string,
    body: Record<string, unknown>,
    values: Record<string, string>,
    replaced: string[],
  ][] = [
    ["values that pass are kept", { file: "data/can.ex2", node: 8, mode: "fast" }, {
      file: "data/can.ex2",
      node: "8",
      mode: "fast",
    }, []],
    ["a value that fails a regexp is replaced", { file: "../x; rm -rf /" }, { file: "none" }, [
      "file",
    ]],
    ["a number is checked as its string", { node: 2.5 }, { node: "1" }, ["node"]],
    ["a value outside the list is replaced", { mode: "FAST" }, { mode: "slow" }, ["mode"]],
    ["a boolean is checked as its string", { mode: true }, { mode: "slow" }, ["mode"]],
    ["keys without a rule are not checked", { other: "../x; rm" }, { other: "../x; rm" }, []],
    ["an object under a ruled key is dropped, not replaced", { file: { a: 1 } }, {}, []],
  ];
  for (const [name, body, values, replaced] of cases) {
    await t.step(name, () => {
      const result = clientValues(body, rules);
      assert.deepEqual(result.values, values);
      assert.deepEqual(result.replaced, replaced.map((key) => ({ key, replacement: values[key] })));
    });
  }
  await t.step("every replacement is reported, in body order", () => {
    const { replaced } = clientValues({ mode: "x", file: "a b", node: "n" }, rules);
    assert.deepEqual(replaced, [
      { key: "mode", replacement: "slow" },
      { key: "file", replacement: "none" },
      { key: "node", replacement: "1" },
    ]);
  });
  await t.step("a key named like an Object.prototype member has no rule", () => {
    const { values, replaced } = clientValues({ toString: "x", constructor: "y" }, rules);
    assert.deepEqual(values, { toString: "x", constructor: "y" });
    assert.deepEqual(replaced, []);
  });
});

const FILE = "/srv/pv/launcher.config";

/** Templates of a spec config whose one application `viz` runs `cmd`. */
function specTemplates(cmd: string[], proxyUrl = "ws://USE_HOST/proxy/$id") {
  const { config } = parseConfig(
    JSON.stringify({
      resources: [{ host: "localhost", port: [9001, 9002] }],
      proxy_url: proxyUrl,
      properties: { python_exec: "/opt/pv/bin/pvpython" },
      applications: { viz: { cmd } },
    }),
    FILE,
    { logDir: "/var/log/pvw" },
  );
  const { shared, apps } = compileTemplates(config);
  return { config, shared, viz: apps.get("viz")! };
}

/** Templates of a wslink config with `sessionData`. */
function wslinkTemplates(
  sessionData: Record<string, string>,
  sessionUrl = "ws://h/proxy?sessionId=${id}",
) {
  const { config } = parseConfig(
    JSON.stringify({
      configuration: { sessionURL: sessionUrl },
      sessionData,
      resources: [{ host: "localhost", port_range: [9001, 9002] }],
      apps: { trame: { cmd: ["/opt/trame/run", "--port", "${port}"] } },
    }),
    FILE,
    { logDir: "/var/log/pvw" },
  );
  const { shared, apps } = compileTemplates(config);
  return { config, shared, trame: apps.get("trame")! };
}

/** Runs `fn`, which must throw a MissingVariableError, and returns it. */
function missing(fn: () => unknown): MissingVariableError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof MissingVariableError, `expected MissingVariableError, got ${err}`);
    return err;
  }
  assert.fail("expected a MissingVariableError");
}

Deno.test("checkVariables() throws MissingVariableError naming the application and the key", async (t) => {
  await t.step("a variable of the argv", () => {
    const { viz } = specTemplates(["$python_exec", "--node", "$node"]);
    const err = missing(() => checkVariables(viz, { python_exec: "/x" }, {}));
    assert.deepEqual([err.variable, err.where], ["node", 'application "viz"']);
    assert.match(err.message, /application "viz" needs a value for "node"/);
  });
  await t.step("a variable of the session URL", () => {
    const { viz } = specTemplates(["app"], "ws://$gateway/proxy/$id");
    assert.equal(missing(() => checkVariables(viz, {}, {})).variable, "gateway");
  });
  await t.step("a variable of the session data", () => {
    const { trame } = wslinkTemplates({ updir: "/Home/${user}" });
    const err = missing(() => checkVariables(trame, {}, {}));
    assert.deepEqual([err.variable, err.where], ["user", 'application "trame"']);
  });
  await t.step("a property of another name does not count", () => {
    const { viz } = specTemplates(["$node"]);
    assert.equal(
      missing(() => checkVariables(viz, { nodes: "1" }, { Node: "1" })).variable,
      "node",
    );
  });
  await t.step("an inherited name is no value", () => {
    const { viz } = specTemplates(["$toString"]);
    assert.equal(missing(() => checkVariables(viz, {}, {})).variable, "toString");
  });
});

Deno.test("checkVariables() accepts the assigned names, properties and client keys", async (t) => {
  await t.step("every assigned name, with no value given", () => {
    const { viz } = specTemplates(ASSIGNED_NAMES.map((n) => `$${n}`), "ws://$host:$port/$id");
    checkVariables(viz, {}, {});
  });
  await t.step("a property", () => {
    checkVariables(specTemplates(["$python_exec"]).viz, { python_exec: "/x" }, {});
  });
  await t.step("a client key", () => {
    checkVariables(specTemplates(["app", "$node"]).viz, {}, { node: "4" });
  });
});

Deno.test("lookupIn() prefers assigned values, then properties, then the client's", async (t) => {
  const lookup = lookupIn(
    { port: "9001", secret: "assigned" },
    { port: "1", python_exec: "/opt/pv", empty: "" },
    { port: "2", python_exec: "/bin/sh", secret: "client", node: "4", empty: "client" },
  );
  const cases: [name: string, expected: string | undefined][] = [
    ["port", "9001"],
    ["secret", "assigned"],
    ["python_exec", "/opt/pv"],
    ["empty", ""],
    ["node", "4"],
    ["nothing", undefined],
    ["toString", undefined],
    ["__proto__", undefined],
    ["constructor", undefined],
  ];
  for (const [name, expected] of cases) {
    await t.step(name, () => assert.equal(lookup(name), expected));
  }
});

Deno.test("renderSession() renders the session URL first, so argv and session data can use $sessionURL", () => {
  const { shared, viz } = specTemplates(
    ["$python_exec", "--url", "$sessionURL", "--port=${port}", "--node", "$node", "$$HOME"],
    "ws://$host:$port/proxy/$id",
  );
  const rendered = renderSession(shared, viz, {
    assigned: { id: "abc", host: "localhost", port: "9001", secret: "s", application: "viz" },
    properties: { python_exec: "/opt/pv/bin/pvpython" },
    client: { node: "4", python_exec: "/bin/sh", port: "1", sessionURL: "ws://evil/" },
  });
  assert.deepEqual(rendered, {
    sessionUrl: "ws://localhost:9001/proxy/abc",
    argv: [
      "/opt/pv/bin/pvpython",
      "--url",
      "ws://localhost:9001/proxy/abc",
      "--port=9001",
      "--node",
      "4",
      "$HOME",
    ],
    sessionData: {},
  });
});

Deno.test("renderSession() renders wslink session data with every value", () => {
  const { shared, trame } = wslinkTemplates({
    updir: "/Home/${port}",
    url: "${sessionURL}",
    who: "${user}",
  });
  const rendered = renderSession(shared, trame, {
    assigned: { id: "abc", host: "localhost", port: "9001", secret: "s", application: "trame" },
    properties: {},
    client: { user: "ann" },
  });
  assert.deepEqual(rendered, {
    sessionUrl: "ws://h/proxy?sessionId=abc",
    argv: ["/opt/trame/run", "--port", "9001"],
    sessionData: { updir: "/Home/9001", url: "ws://h/proxy?sessionId=abc", who: "ann" },
  });
});

Deno.test("renderSession() throws MissingVariableError naming the application when a value is missing", () => {
  const { shared, viz } = specTemplates(["app", "$node"]);
  const values = { assigned: { id: "abc" }, properties: {}, client: {} };
  const err = missing(() => renderSession(shared, viz, values));
  assert.deepEqual([err.variable, err.where], ["node", 'application "viz"']);
});

Deno.test("renderSession() leaves a variable without a value as written when told to keep it", () => {
  const { shared, trame } = wslinkTemplates({ where: "${dataDir}/$user" });
  const app = { ...trame, cmd: [compileTemplate("--data=${dataDir}"), compileTemplate("$x$$")] };
  const values = { assigned: { id: "abc", port: "9001" }, properties: {}, client: { user: "ann" } };
  const rendered = renderSession(shared, app, values, "keep");
  assert.deepEqual(rendered.argv, ["--data=${dataDir}", "$x$"]);
  assert.deepEqual(rendered.sessionData, { where: "${dataDir}/ann" });
});

Deno.test("unprovidedVariables() lists what neither the launcher, properties nor client give", () => {
  const { viz } = specTemplates(["$python_exec", "$node", "${user}", "$port", "$node"]);
  assert.deepEqual(unprovidedVariables(viz, {}, {}), ["python_exec", "node", "user"]);
  assert.deepEqual(unprovidedVariables(viz, { python_exec: "/x" }, { user: "ann" }), ["node"]);
  assert.deepEqual(unprovidedVariables(viz, { python_exec: "/x" }, { node: "1", user: "u" }), []);
});
