import assert from "node:assert/strict";
import { ConfigError } from "../../lib/config/problems.ts";
import {
  assertProblems,
  FILE,
  parse,
  problemsOf,
  spec,
  withApp,
  withResource,
  wslink,
} from "./test_utils.ts";

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
    ["a list as a property", spec(`  "properties": { "a": "x", "b": [1] },`), [
      ["4:34 error properties.b", /expected a string, a number or a boolean, found a list/],
    ]],
    ["null as a property", spec(`  "properties": { "a": null },`), [
      ["4:24 error properties.a", /found null/],
    ]],
    ["a url that is not http or https", spec(`  "url": "ftp://localhost/paraview",`), [
      ["4:10 error url", /serves HTTP, or HTTPS with tls_cert and tls_key/],
    ]],
    ["an https url without a certificate", spec(`  "url": "https://localhost/paraview",`), [
      ["4:10 error url", /^an "https:\/\/" url needs the certificate and key: set "tls_cert"/],
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
    ["an idle_timeout of zero", `    "demo": { "cmd": ["x"], "idle_timeout": 0 },`, [
      ["4:45 error applications.demo.idle_timeout", /expected a positive number of seconds/],
    ]],
    ["a max_lifetime as a string", `    "demo": { "cmd": ["x"], "max_lifetime": "1d" },`, [
      [
        "4:45 error applications.demo.max_lifetime",
        /expected a positive number of seconds, found the string "1d"/,
      ],
    ]],
    ["an empty application name", `    "": { "cmd": ["x"] },`, [
      ['4:5 error applications[""]', /an application name must not be empty/],
    ]],
  ];
  for (const [name, app, expected] of cases) {
    await t.step(name, () => assertProblems(problemsOf(withApp(app)), expected));
  }
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
    ["an endpoint at the proxy", `    "endpoint": "proxy",`, [
      [
        "3:17 error configuration.endpoint",
        /^the REST endpoint "\/proxy" overlaps the built-in proxy at "\/proxy", which the launcher serves first/,
      ],
    ]],
    ["an endpoint under the proxy", `    "endpoint": "/proxy/launch",`, [
      ["3:17 error configuration.endpoint", /overlaps the built-in proxy at "\/proxy"/],
    ]],
    ["an endpoint at the metrics", `    "endpoint": "metrics",`, [
      ["3:17 error configuration.endpoint", /overlaps the metrics at "\/metrics"/],
    ]],
    ["an endpoint at the health check", `    "endpoint": "healthz/",`, [
      ["3:17 error configuration.endpoint", /overlaps the health check at "\/healthz"/],
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
});

Deno.test("parseConfig() reports invalid operating settings at the value, in both formats", async (t) => {
  // Each member is line 4 of a spec config, indented by 2, and line 3 of a wslink config,
  // indented by 4 inside "configuration"; the places below are the spec's.
  const cases: [string, string, [string, RegExp][]][] = [
    ["an idle_timeout of zero", `"idle_timeout": 0`, [
      ["4:19 error idle_timeout", /^expected a positive number of seconds, found the number 0$/],
    ]],
    ["a max_lifetime as a string", `"max_lifetime": "1h"`, [
      ["4:19 error max_lifetime", /^expected a positive number of seconds, found the string "1h"$/],
    ]],
    ["keep_sessions as a string", `"keep_sessions": "yes"`, [
      ["4:20 error keep_sessions", /^expected true or false, found the string "yes"$/],
    ]],
    ["an empty state_file", `"state_file": ""`, [
      ["4:17 error state_file", /^expected a path, found an empty string$/],
    ]],
    ["a dashboard_path without a leading slash", `"dashboard_path": "admin"`, [
      ["4:21 error dashboard_path", /^expected a path starting with "\/", such as "\/_dashboard"$/],
    ]],
    ["the dashboard at /", `"dashboard_path": "//"`, [
      ["4:21 error dashboard_path", /^the dashboard cannot be at "\/"/],
    ]],
    ["the dashboard at the REST endpoint", `"dashboard_path": "/paraview/"`, [
      [
        "4:21 error dashboard_path",
        /^"\/paraview" overlaps the REST endpoint "\/paraview"; choose another path$/,
      ],
    ]],
    ["the dashboard under the REST endpoint", `"dashboard_path": "/paraview/admin"`, [
      ["4:21 error dashboard_path", /overlaps the REST endpoint "\/paraview"/],
    ]],
    ["the dashboard under /proxy", `"dashboard_path": "/proxy/admin"`, [
      ["4:21 error dashboard_path", /overlaps the built-in proxy at "\/proxy"/],
    ]],
    ["the dashboard at /metrics", `"dashboard_path": "/metrics"`, [
      ["4:21 error dashboard_path", /overlaps the metrics at "\/metrics"/],
    ]],
    ...["/a b", "/a/../b", "/a?x=1", "/a//b"].map((path): [string, string, [string, RegExp][]] => [
      `the dashboard at ${JSON.stringify(path)}`,
      `"dashboard_path": "${path}"`,
      [["4:21 error dashboard_path", /^expected a path as browsers send it: no spaces/]],
    ]),
    ["a short admin_token", `"admin_token": "hunter2hunter2"`, [
      [
        "4:18 error admin_token",
        /^a token of 14 characters is too easy to guess; use at least 16, such as the output/,
      ],
    ]],
    ["an empty admin_token", `"admin_token": ""`, [
      ["4:18 error admin_token", /^expected a string of at least 16 characters, found an empty/],
    ]],
    ["an api_token as a number", `"api_token": 12345678901234567890`, [
      ["4:16 error api_token", /^expected a string of at least 16 characters, found a number$/],
    ]],
    ["an api_token with a space", `"api_token": "abcdefgh ijklmnopq"`, [
      ["4:16 error api_token", /^a token may hold only visible ASCII characters, without spaces/],
    ]],
    ["allowed_origins of *", `"allowed_origins": "*"`, [
      ["4:22 error allowed_origins", /^"\*" is not allowed: any web page could launch sessions;/],
    ]],
    [
      "a * among allowed_origins",
      `"allowed_origins": ["https://a.example.com", "https://*.b.com"]`,
      [
        ["4:48 error allowed_origins[1]", /^"\*" is not allowed.*list each origin/],
      ],
    ],
    ["allowed_origins as one string", `"allowed_origins": "https://app.example.com"`, [
      [
        "4:22 error allowed_origins",
        /^expected a list of origins such as \["https:\/\/app.example.com"\], found a string/,
      ],
    ]],
    ["an origin with a path", `"allowed_origins": ["https://App.example.com/launch"]`, [
      [
        "4:23 error allowed_origins[0]",
        /^an origin has no path, query or user name: write "https:\/\/app.example.com"$/,
      ],
    ]],
    ["an origin without a scheme", `"allowed_origins": ["app.example.com"]`, [
      ["4:23 error allowed_origins[0]", /^expected an origin \(scheme:\/\/host\[:port\]\)/],
    ]],
    ["an ftp origin", `"allowed_origins": ["ftp://files.example.com"]`, [
      ["4:23 error allowed_origins[0]", /http: and https: pages only$/],
    ]],
    ["a rate_limit as a number", `"rate_limit": 10`, [
      [
        "4:17 error rate_limit",
        /^expected an object such as \{"per_minute": 30, "burst": 10\}, found the number 10$/,
      ],
    ]],
    ["a rate_limit without per_minute", `"rate_limit": { "burst": 5 }`, [
      ["4:17 error rate_limit.per_minute", /^missing required key "per_minute"$/],
    ]],
    ["a per_minute of zero", `"rate_limit": { "per_minute": 0 }`, [
      [
        "4:33 error rate_limit.per_minute",
        /^expected a positive number of requests a minute, found the number 0$/,
      ],
    ]],
    ["a burst below 1", `"rate_limit": { "per_minute": 10, "burst": 0.5 }`, [
      [
        "4:46 error rate_limit.burst",
        /^expected at least 1 request at once, found 0.5: no request would pass$/,
      ],
    ]],
    ["a header_timeout of zero", `"header_timeout": 0`, [
      ["4:21 error header_timeout", /^expected a positive number of seconds, found the number 0$/],
    ]],
    ["a keepalive_timeout as a string", `"keepalive_timeout": "30"`, [
      ["4:24 error keepalive_timeout", /^expected a positive number of seconds, found the string/],
    ]],
    ["a trusted proxy that is a host name", `"trusted_proxies": ["proxy.example.com", "::1"]`, [
      [
        "4:23 error trusted_proxies[0]",
        /^expected an IP address or a network such as "10.0.0.0\/8" or "::1", found "proxy/,
      ],
    ]],
    ["a trusted network with a prefix too long", `"trusted_proxies": ["10.0.0.0/33"]`, [
      ["4:23 error trusted_proxies[0]", /^expected an IP address or a network/],
    ]],
    ["a dashboard_listen without a port", `"dashboard_listen": "127.0.0.1"`, [
      [
        "4:23 error dashboard_listen",
        /^expected a port such as 9090, or "127.0.0.1:9090", found the string "127.0.0.1"$/,
      ],
    ]],
    ["a dashboard_listen port out of range", `"dashboard_listen": 70000`, [
      ["4:23 error dashboard_listen", /a port is 0..65535/],
    ]],
    [
      "a dashboard_listen on the launcher's own port (8080 by default)",
      `"dashboard_listen": 8080`,
      [
        ["4:23 error dashboard_listen", /^port 8080 is the launcher's own: the dashboard needs a/],
      ],
    ],
    ["a max_log_size below 64K", `"max_log_size": "10K"`, [
      [
        "4:19 error max_log_size",
        /^a session log must be able to hold at least 64K, found 10240 bytes$/,
      ],
    ]],
    ["a max_log_size in an unknown unit", `"max_log_size": "2 parsecs"`, [
      ["4:19 error max_log_size", /^expected a number of bytes, or a size such as "16M" or "512K"/],
    ]],
  ];
  const inWslink = ([at, message]: [string, RegExp]): [string, RegExp] => [
    at.replace(
      /^4:(\d+) (\w+) /,
      (_, column, severity) => `3:${Number(column) + 2} ${severity} configuration.`,
    ),
    message,
  ];
  for (const [name, member, expected] of cases) {
    await t.step(name, async (t) => {
      await t.step("spec", () => assertProblems(problemsOf(spec(`  ${member},`)), expected));
      await t.step("wslink", () => {
        assertProblems(problemsOf(wslink(`    ${member},`)), expected.map(inWslink));
      });
    });
  }
  await t.step("a state_file that is the map file", async (t) => {
    const message = /^the state file cannot be the map file: each would overwrite the other$/;
    await t.step("spec", () => {
      const text = spec(`  "map_file": "run/proxy.map", "state_file": "run/proxy.map",`);
      assertProblems(problemsOf(text), [["4:46 error state_file", message]]);
    });
    await t.step("wslink", () => {
      const text = wslink(`    "proxy_file": "run/proxy.map", "state_file": "run/proxy.map",`);
      assertProblems(problemsOf(text), [["3:50 error configuration.state_file", message]]);
    });
  });
  await t.step("an endpoint at the default dashboard path, reported at the endpoint", async (t) => {
    const message =
      /^the dashboard is at "\/_dashboard" by default, which overlaps the REST endpoint "\/_dashboard"; set "dashboard_path" to another path$/;
    await t.step("spec", () => {
      const text = spec(`  "url": "http://localhost:8080/_dashboard/",`);
      assertProblems(problemsOf(text), [["4:10 error url", message]]);
    });
    await t.step("wslink", () => {
      const text = wslink(`    "endpoint": "_dashboard",`);
      assertProblems(problemsOf(text), [["3:17 error configuration.endpoint", message]]);
    });
    await t.step("fine with another dashboard_path", () => {
      const text = spec(`  "url": "http://localhost:8080/_dashboard", "dashboard_path": "/ops",`);
      assert.equal(parse(text).config.dashboardPath, "/ops");
    });
  });
});

Deno.test("parseConfig() never repeats a token in its messages", async (t) => {
  const tokens = [
    "hunter2hunter2",
    "abcdefgh ijklmnopq",
    "s3cr\u00e9t-s3cr\u00e9t-s3cr\u00e9t",
    "1234567890",
  ];
  for (const token of tokens) {
    await t.step(token, () => {
      const value = /^\d+$/.test(token) ? token : `"${token}"`;
      const problems = problemsOf(spec(`  "admin_token": ${value}, "api_token": ${value},`));
      assert.equal(problems.length, 2);
      const decoded = JSON.parse(value).toString();
      for (const { message } of problems) assert(!message.includes(decoded), message);
    });
  }
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
