import assert from "node:assert/strict";
import { ConfigError } from "../lib/errors.ts";
import {
  assertProblems,
  FILE,
  parse,
  problemsOf,
  spec,
  withApp,
  withResource,
  wslink,
} from "./config_test_utils.ts";

Deno.test("parseConfig() reports each kind of invalid value at the value, with its key path", async (t) => {
  const cases: [string, string, [string, RegExp][]][] = [
    ["a string where a number goes", spec(`  "timeout": "10",`), [
      ["4:14 error timeout", /^expected a positive number of seconds, found the string "10"$/],
    ]],
    ["a timeout of zero", spec(`  "timeout": 0,`), [
      ["4:14 error timeout", /expected a positive number of seconds, found the number 0/],
    ]],
    ["a negative stop_grace", spec(`  "stop_grace": -1,`), [
      ["4:17 error stop_grace", /expected a positive number of seconds, found the number -1/],
    ]],
    ["max_session below 1", spec(`  "max_session": 0,`), [
      ["4:18 error max_session", /expected at least 1 session, found 0/],
    ]],
    ["a fractional max_session", spec(`  "max_session": 1.5,`), [
      ["4:18 error max_session", /expected an integer, found the number 1.5/],
    ]],
    ["a $ followed by a digit", spec(`  "proxy_url": "ws://h/proxy/$1",`), [
      ["4:16 error proxy_url", /"\$1" is not a template variable.*write \$\$ for a literal \$/],
    ]],
    ["a trailing $", spec(`  "proxy_url": "ws://h/proxy/$",`), [
      ["4:16 error proxy_url", /"\$" is not a template variable/],
    ]],
    ["an unclosed ${", spec(`  "proxy_url": "ws://h/proxy/\${id",`), [
      ["4:16 error proxy_url", /"\$\{id" is not a template variable/],
    ]],
    ["a list as a property", spec(`  "properties": { "a": "x", "b": [1] },`), [
      ["4:34 error properties.b", /expected a string, a number or a boolean, found a list/],
    ]],
    ["null as a property", spec(`  "properties": { "a": null },`), [
      ["4:24 error properties.a", /found null/],
    ]],
    ["a url that is not http", spec(`  "url": "https://localhost/paraview",`), [
      ["4:10 error url", /plain HTTP/],
    ]],
    ["a url without a path", spec(`  "url": "http://localhost:8080/",`), [
      ["4:10 error url", /expected a path after the host/],
    ]],
    ["a url that is no URL", spec(`  "url": "not a url",`), [
      ["4:10 error url", /expected a URL such as "http:\/\/localhost:8080\/paraview"/],
    ]],
  ];
  for (const [name, text, expected] of cases) {
    await t.step(name, () => assertProblems(problemsOf(text), expected));
  }
});

Deno.test("parseConfig() reports invalid resources at the range, naming both overlapping ones", async (t) => {
  const cases: [string, string, [string, RegExp][]][] = [
    ["an empty range", `    { "host": "b", "port": [9100, 9001] },`, [
      [
        "5:28 error resources[1].port",
        /empty port range: the first port 9100 is after the last 9001/,
      ],
    ]],
    ["ports outside 1..65535", `    { "host": "b", "port": [0, 70000] },`, [
      ["5:29 error resources[1].port[0]", /expected a port in 1\.\.65535, found 0/],
      ["5:32 error resources[1].port[1]", /expected a port in 1\.\.65535, found 70000/],
    ]],
    ["a port that is not an integer", `    { "host": "b", "port": [9001.5, 9002] },`, [
      ["5:29 error resources[1].port[0]", /expected an integer, found the number 9001.5/],
    ]],
    [
      "a range that overlaps another on the same host",
      `    { "host": "a", "port_range": [9005, 9020] },`,
      [
        [
          "5:34 error resources[1].port_range",
          /ports 9005-9020 on host "a" overlap resources\[0\]\.port \(9001-9010\)/,
        ],
      ],
    ],
    ["a missing host", `    { "port": [9100, 9101] },`, [
      ["5:5 error resources[1].host", /missing required key "host"/],
    ]],
    ["missing ports", `    { "host": "b" },`, [
      ["5:5 error resources[1].port", /missing required key "port"/],
    ]],
    ["both port and port_range", `    { "host": "b", "port": [1, 2], "port_range": [3, 4] },`, [
      ["5:36 error resources[1].port_range", /give either "port" or "port_range", not both/],
    ]],
    ["a single port", `    { "host": "b", "port": 9100 },`, [
      [
        "5:28 error resources[1].port",
        /expected a port range \[first, last\], found the number 9100/,
      ],
    ]],
    ["a range of one number", `    { "host": "b", "port": [9100] },`, [
      ["5:28 error resources[1].port", /expected a port range \[first, last\], found a list of 1/],
    ]],
  ];
  for (const [name, resource, expected] of cases) {
    await t.step(name, () => assertProblems(problemsOf(withResource(resource)), expected));
  }
  await t.step("the same ports on different hosts are fine", () => {
    const { config } = parse(withResource(`    { "host": "b", "port": [9001, 9010] },`));
    assert.equal(config.resources.length, 2);
  });
  await t.step("no resources at all", () => {
    const text = `{\n  "applications": { "demo": { "cmd": ["demo"] } },\n  "resources": [],\n}`;
    assertProblems(problemsOf(text), [["3:16 error resources", /expected at least one resource/]]);
  });
  await t.step("no resources key", () => {
    const text = `{\n  "applications": { "demo": { "cmd": ["demo"] } },\n}`;
    assertProblems(problemsOf(text), [["1:1 error resources", /missing required key "resources"/]]);
  });
});

Deno.test("parseConfig() reports invalid applications at the value, with its key path", async (t) => {
  const cases: [string, string, [string, RegExp][]][] = [
    ["a missing cmd", `    "demo": { "dir": "/tmp" },`, [
      ["4:13 error applications.demo.cmd", /missing required key "cmd"/],
    ]],
    ["an empty cmd", `    "demo": { "cmd": [] },`, [
      ["4:22 error applications.demo.cmd", /expected at least the program to run, found \[\]/],
    ]],
    ["a cmd written as a shell line", `    "demo": { "cmd": "pvpython app.py" },`, [
      [
        "4:22 error applications.demo.cmd",
        /such as \["pvpython", \.\.\.\], found a string; .*shell/,
      ],
    ]],
    ["a number in cmd", `    "demo": { "cmd": ["pvpython", 3] },`, [
      ["4:35 error applications.demo.cmd[1]", /^expected a string, found the number 3$/],
    ]],
    ["a bad template in cmd", `    "loader": { "cmd": ["pvpython", "app.py", "$1"] },`, [
      ["4:47 error applications.loader.cmd[2]", /"\$1" is not a template variable/],
    ]],
    ["an empty program", `    "demo": { "cmd": ["", "x"] },`, [
      ["4:23 error applications.demo.cmd[0]", /expected the program to run, found an empty string/],
    ]],
    ["a number in env", `    "demo": { "cmd": ["x"], "env": { "N": 4 } },`, [
      ["4:43 error applications.demo.env.N", /expected a string, found the number 4/],
    ]],
    ["a bad env name", `    "demo": { "cmd": ["x"], "env": { "A=B": "1" } },`, [
      ['4:38 error applications.demo.env["A=B"]', /cannot be an environment variable name/],
    ]],
    ["a number as dir", `    "demo": { "cmd": ["x"], "dir": 3 },`, [
      ["4:36 error applications.demo.dir", /expected a string, found the number 3/],
    ]],
    ["a timeout of zero", `    "demo": { "cmd": ["x"], "timeout": 0 },`, [
      ["4:40 error applications.demo.timeout", /expected a positive number of seconds/],
    ]],
    ["no ready line", `    "demo": { "cmd": ["x"], "ready_line": [] },`, [
      ["4:43 error applications.demo.ready_line", /expected at least one ready line, found \[\]/],
    ]],
    ["an empty ready line", `    "demo": { "cmd": ["x"], "wait_line": ["a", ""] },`, [
      ["4:48 error applications.demo.wait_line[1]", /expected a non-empty string/],
    ]],
    [
      "both wait_line and ready_line",
      `    "demo": { "cmd": ["x"], "wait_line": "a", "ready_line": "b" },`,
      [
        [
          "4:47 error applications.demo.ready_line",
          /give either "wait_line" or "ready_line", not both/,
        ],
      ],
    ],
    ["an empty application name", `    "": { "cmd": ["x"] },`, [
      ['4:5 error applications[""]', /an application name must not be empty/],
    ]],
  ];
  for (const [name, app, expected] of cases) {
    await t.step(name, () => assertProblems(problemsOf(withApp(app)), expected));
  }
  await t.step("no applications", () => {
    assertProblems(problemsOf(withApp("")), [
      ["3:19 error applications", /expected at least one application, found \{\}/],
    ]);
  });
  await t.step("applications as a list", () => {
    const text =
      `{\n  "resources": [{ "host": "h", "port": [1, 2] }],\n  "applications": ["demo"],\n}`;
    assertProblems(problemsOf(text), [[
      "3:19 error applications",
      /expected an object, found a list/,
    ]]);
  });
  await t.step("no applications key", () => {
    const text =
      `{\n  "url": "http://localhost:8080/paraview",\n  "resources": [{ "host": "h", "port": [1, 2] }],\n}`;
    assertProblems(problemsOf(text), [[
      "1:1 error applications",
      /missing required key "applications"/,
    ]]);
  });
});

Deno.test("parseConfig() reports invalid wslink settings at the value, with its key path", async (t) => {
  const cases: [string, string, [string, RegExp][]][] = [
    ["a string timeout", `    "timeout": "25",`, [
      [
        "3:16 error configuration.timeout",
        /expected a positive number of seconds, found the string "25"/,
      ],
    ]],
    ["a port above 65535", `    "port": 70000,`, [
      [
        "3:13 error configuration.port",
        /expected a port in 0\.\.65535 \(0 picks a free one\), found 70000/,
      ],
    ]],
    ["an empty endpoint", `    "endpoint": "/",`, [
      ["3:17 error configuration.endpoint", /expected a path such as "paraview"/],
    ]],
    ["a bad template in sessionURL", `    "sessionURL": "ws://USE_HOST/proxy?id=\${id&x=$",`, [
      ["3:19 error configuration.sessionURL", /"\$\{id" is not a template variable/],
    ]],
    ["a number in fields", `    "fields": ["file", 1],`, [
      ["3:24 error configuration.fields[1]", /expected a string, found the number 1/],
    ]],
    [
      "a bad sanitize regexp",
      `    "sanitize": { "file": { "type": "regexp", "regexp": "[a-", "default": "x" } },`,
      [["3:57 error configuration.sanitize.file.regexp", /^invalid regular expression: /]],
    ],
    [
      "an unknown sanitize type",
      `    "sanitize": { "file": { "type": "enum", "list": [], "default": "x" } },`,
      [[
        "3:37 error configuration.sanitize.file.type",
        /expected "regexp" or "inList", found "enum"/,
      ]],
    ],
    [
      "a sanitize rule without default",
      `    "sanitize": { "mode": { "type": "inList", "list": ["a"] } },`,
      [
        ["3:27 error configuration.sanitize.mode.default", /missing required key "default"/],
      ],
    ],
  ];
  for (const [name, setting, expected] of cases) {
    await t.step(name, () => assertProblems(problemsOf(wslink(setting)), expected));
  }
  await t.step("a bad template in sessionData", () => {
    const text =
      `{\n  "sessionData": { "updir": "/Home/$" },\n  "apps": { "a": { "cmd": ["a"] } },\n` +
      `  "resources": [{ "host": "h", "port_range": [1, 2] }],\n}`;
    assertProblems(problemsOf(text), [[
      "2:29 error sessionData.updir",
      /"\$" is not a template variable/,
    ]]);
  });
});

Deno.test("parseConfig() reports a config whose format cannot be told", async (t) => {
  await t.step("neither format's keys", () => {
    assertProblems(problemsOf(`{ "resources": [] }`), [
      [
        "1:1 error ",
        /cannot tell which format.*"url" and "applications".*"configuration" and "apps"/,
      ],
    ]);
  });
  await t.step("keys of both formats", () => {
    const text = `{\n  "url": "http://localhost:8080/paraview",\n  "apps": {},\n}`;
    assertProblems(problemsOf(text), [
      ["3:3 error apps", /mixes the two formats \("url" is a spec key, "apps" a wslink key\)/],
    ]);
  });
  await t.step("a list at the top level", () => {
    assertProblems(problemsOf(`[{ "url": "http://localhost:8080/paraview" }]`), [
      ["1:1 error ", /expected an object \{ \.\.\. \} at the top level, found a list/],
    ]);
  });
});

Deno.test("parseConfig() reports every problem at once, in file order", () => {
  const text = `{
  "timeout": -5,
  "resources": [{ "host": "h", "port": [2, 1] }],
  "applications": {
    "a": { "cmd": [], "wait_lines": "x" },
    "b": { "dir": 1 },
  },
  "max_session": "many",
}`;
  let error: unknown;
  try {
    parse(text);
  } catch (err) {
    error = err;
  }
  assert(error instanceof ConfigError);
  assertProblems(error.problems, [
    ["2:14 error timeout", /positive number of seconds/],
    ["3:40 error resources[0].port", /empty port range/],
    ["5:19 error applications.a.cmd", /expected at least the program to run/],
    ["5:23 warning applications.a.wait_lines", /did you mean "wait_line"\?/],
    ["6:10 error applications.b.cmd", /missing required key "cmd"/],
    ["6:19 error applications.b.dir", /expected a string/],
    ["8:18 error max_session", /expected an integer, found the string "many"/],
  ]);
  assert.deepStrictEqual([error.file, error.line, error.column], [FILE, 2, 14]);
  assert.match(error.message, /^6 errors in \/srv\/pv\/launcher.config:\n/);
});
