import assert from "node:assert/strict";
import { assertProblems, parse, problemsOf, spec, where, withApp, wslink } from "./test_utils.ts";

// Config files that the wslink launcher runs must load: what it accepts is at most a warning.

Deno.test('"content": "" means no static files, in both formats', () => {
  for (const text of [wslink(`    "content": "",`), spec(`  "content": "",`)]) {
    const { config, warnings } = parse(text);
    assert.equal(config.content, undefined);
    assert.deepEqual(warnings, []);
  }
});

Deno.test('"endpoint": "" serves the REST API at "//", as wslink does, with a warning', () => {
  const text = wslink(`    "endpoint": "",`);
  const { config, warnings } = parse(text);
  assert.equal(config.endpoint, "//");
  assertProblems(warnings, [["3:17 warning configuration.endpoint", /at "\/\/", as the wslink/]]);
});

Deno.test('"endpoint": "/" serves the REST API at "/" (POST) and "/<id>", as wslink does', () => {
  const { config, warnings } = parse(wslink(`    "endpoint": "/",`));
  assert.equal(config.endpoint, "/");
  assert.deepEqual(warnings, []);
});

Deno.test('"apps": {} loads with a warning (the trame image\'s base config)', async (t) => {
  const wslinkText = `{
  "configuration": { "host": "0.0.0.0", "port": 80 },
  "resources": [{ "host": "0.0.0.0", "port_range": [9001, 9002] }],
  "properties": {},
  "apps": {}
}`;
  for (
    const [format, text, at] of [
      ["wslink", wslinkText, "5:11 warning apps"],
      ["spec", withApp(""), "3:19 warning applications"],
    ]
  ) {
    await t.step(format, () => {
      const { config, warnings } = parse(text);
      assert.deepEqual(config.apps, {});
      assertProblems(warnings, [[at, /no applications: every launch request will be refused/]]);
    });
  }
});

Deno.test("a $ that starts no variable is a literal $, in both formats, without a warning", () => {
  const cmd = `["sh", "-c", "exec app \\"$0\\" $1 $@ $* $# $? $! $- $ end $", "\${port}"]`;
  for (
    const text of [
      withApp(`    "demo": { "cmd": ${cmd} },`),
      wslink(`    "sessionURL": "ws://USE_HOST/proxy?sessionId=\${id}&cost=5$",`),
    ]
  ) {
    assert.deepEqual(parse(text).warnings, []);
  }
});

Deno.test("a ${ that closes no name is a literal $ too, with a warning (likely a typo)", () => {
  assertProblems(parse(spec(`  "proxy_url": "ws://h/proxy/\${id",`)).warnings, [
    ["4:16 warning proxy_url", /"\$\{id" is not a template variable, so its "\$" is taken as is/],
  ]);
});

Deno.test("wslink format: a cmd variable no property provides is listed with a warning", () => {
  const text = `{
  "configuration": { "host": "localhost", "port": 9000 },
  "resources": [{ "host": "localhost", "port_range": [9001, 9002] }],
  "properties": { "python": "/usr/bin/python3" },
  "apps": {
    "sandtank": {
      "cmd": ["\${python}", "server.py", "--port", "\${port}", "--data", "\${dataDir}"]
    }
  }
}`;
  const { warnings } = parse(text);
  assert.deepEqual(warnings.map(where), ["7:72 warning apps.sandtank.cmd[5]"]);
  assert.match(
    warnings[0].message,
    /no property gives "dataDir" a value: unless the client sends "dataDir", application "sandtank" gets "\$\{dataDir\}" as written/,
  );
});

Deno.test("spec format: client variables such as the spec's $node are not warned about", () => {
  const text = withApp(`    "launcher": { "cmd": ["run", "$host", "$port", "$node", "$user"] },`);
  assert.deepEqual(parse(text).warnings, []);
});

Deno.test("ws_path: where a WebSocket to the bare session URL goes, per application", async (t) => {
  await t.step("read in both formats", () => {
    assert.equal(
      parse(withApp(`    "pv": { "cmd": ["pv"], "ws_path": "/paraview/ws" },`)).config.apps.pv
        .wsPath,
      "/paraview/ws",
    );
    const w = wslink("").replace(`"cmd": ["demo"]`, `"cmd": ["demo"], "ws_path": "/"`);
    assert.equal(parse(w).config.apps.demo.wsPath, "/");
  });
  await t.step("defaults to /ws", () => {
    assert.equal(parse(spec("")).config.apps.demo.wsPath, "/ws");
  });
  await t.step("must be a path", () => {
    assertProblems(problemsOf(withApp(`    "pv": { "cmd": ["pv"], "ws_path": "ws" },`)), [
      ["4:39 error applications.pv.ws_path", /expected a path such as "\/ws", found "ws"/],
    ]);
  });
});
