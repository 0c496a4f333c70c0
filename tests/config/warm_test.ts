import assert from "node:assert/strict";
import { assertProblems, parse, problemsOf, withApp } from "./test_utils.ts";

Deno.test("warm: how many started processes of an app wait for clients, read in both formats", () => {
  const spec = withApp(
    `    "viz": { "cmd": ["pv", "--port", "$port", "--authKey", "$secret"], "warm": 3 },`,
  );
  assert.equal(parse(spec).config.apps.viz.warm, 3);
  const wslink = `{
  "configuration": { "host": "localhost", "port": 9000 },
  "resources": [{ "host": "localhost", "port_range": [9001, 9010] }],
  "properties": { "python": "/usr/bin/python3" },
  "apps": { "trame": { "cmd": ["\${python}", "app.py", "--port", "\${port}"], "warm": 2 } }
}`;
  const { config, warnings } = parse(wslink);
  assert.equal(config.apps.trame.warm, 2);
  assert.deepEqual(warnings, []);
  assert.equal(parse(withApp(`    "viz": { "cmd": ["pv"] },`)).config.apps.viz.warm, 0, "default");
});

Deno.test("warm is refused on an app whose cmd uses a key only a client could send, naming it", () => {
  assertProblems(
    problemsOf(
      withApp(`    "viz": { "cmd": ["pv", "--node", "$node", "--port", "$port"], "warm": 2 },`),
    ),
    [[
      "4:75 error applications.viz.warm",
      /starts before any client asks, but the cmd uses "node", which no property gives/,
    ]],
  );
  // warm: 0 says nothing is started early: any cmd is fine.
  assert.deepEqual(
    parse(withApp(`    "viz": { "cmd": ["pv", "$node"], "warm": 0 },`)).warnings,
    [],
  );
});

Deno.test("warm must be a whole number of processes, 0 or more", () => {
  assertProblems(problemsOf(withApp(`    "viz": { "cmd": ["pv"], "warm": -1 },`)), [
    ["4:37 error applications.viz.warm", /expected a number of processes, 0 or more, found -1/],
  ]);
  assertProblems(problemsOf(withApp(`    "viz": { "cmd": ["pv"], "warm": 1.5 },`)), [
    ["4:37 error applications.viz.warm", /expected an integer, found the number 1.5/],
  ]);
});

Deno.test("more warm processes than sessions can run is a warning", () => {
  const text = `{
  "resources": [{ "host": "localhost", "port": [9001, 9004] }],
  "applications": {
    "a": { "cmd": ["a"], "warm": 3 },
    "b": { "cmd": ["b"], "warm": 2 }
  }
}`;
  assertProblems(parse(text).warnings, [
    ["3:19 warning applications", /ask for 5 warm processes, more than the 4 sessions/],
  ]);
});
