import assert from "node:assert/strict";
import {
  assertProblems,
  parse,
  problemsOf,
  spec,
  where,
  withApp,
  withResource,
  wslink,
} from "./test_utils.ts";

Deno.test("parseConfig() warns about unknown keys and suggests the nearest known one", async (t) => {
  const cases: [string, string, [string, RegExp][]][] = [
    [
      "a misspelt application key",
      withApp(`    "demo": { "cmd": ["x"], "wait_lines": "Ready" },`),
      [
        [
          "4:29 warning applications.demo.wait_lines",
          /^unknown key "wait_lines"; did you mean "wait_line"\?$/,
        ],
      ],
    ],
    ["a wslink name in a spec config", spec(`  "log_dir": "/tmp/logs",`), [
      ["4:3 warning log_dir", /^unknown key "log_dir"; did you mean "log"\?$/],
    ]],
    ["a case slip in a wslink config", wslink(`    "sessionUrl": "ws://USE_HOST/proxy",`), [
      ["3:5 warning configuration.sessionUrl", /did you mean "sessionURL"\?/],
    ]],
    [
      "a configuration key at the wslink top level",
      `{
  "timeout": 25,
  "resources": [{ "host": "localhost", "port_range": [9001, 9002] }],
  "apps": { "demo": { "cmd": ["demo"] } },
}`,
      [["2:3 warning timeout", /did you mean "configuration.timeout"\?/]],
    ],
    ["a misspelt operating key in a spec config", spec(`  "idle_timout": 600,`), [
      ["4:3 warning idle_timout", /^unknown key "idle_timout"; did you mean "idle_timeout"\?$/],
    ]],
    ["a misspelt operating key in a wslink config", wslink(`    "idle_timout": 600,`), [
      [
        "3:5 warning configuration.idle_timout",
        /^unknown key "idle_timout"; did you mean "idle_timeout"\?$/,
      ],
    ]],
    [
      "an operating key at the wslink top level",
      `{
  "keep_sessions": true,
  "resources": [{ "host": "localhost", "port_range": [9001, 9002] }],
  "apps": { "demo": { "cmd": ["demo"] } },
}`,
      [["2:3 warning keep_sessions", /did you mean "configuration.keep_sessions"\?/]],
    ],
    [
      "a misspelt application lifetime",
      withApp(`    "demo": { "cmd": ["x"], "max_lifetme": 60 },`),
      [["4:29 warning applications.demo.max_lifetme", /did you mean "max_lifetime"\?/]],
    ],
    ["a misspelt rate_limit key", spec(`  "rate_limit": { "per_minutes": 10 },`), [
      ["4:17 error rate_limit.per_minute", /missing required key "per_minute"/],
      ["4:19 warning rate_limit.per_minutes", /did you mean "per_minute"\?/],
    ]],
    ["a key like no other", spec(`  "colour": "blue",`), [
      ["4:3 warning colour", /^unknown key "colour"; it is ignored$/],
    ]],
    ["a misspelt resource key", withResource(`    { "host": "b", "port": [1, 2], "hots": "c" },`), [
      ["5:36 warning resources[1].hots", /did you mean "host"\?/],
    ]],
    ["a repeated key", spec(`  "timeout": 5,\n  "timeout": 6,`), [
      ["5:3 warning timeout", /duplicate key "timeout"; this one replaces the earlier one/],
    ]],
    ["a property no template can name", spec(`  "properties": { "my-exec": "/bin/x" },`), [
      ["4:19 warning properties.my-exec", /can never be used/],
    ]],
  ];
  for (const [name, text, expected] of cases) {
    await t.step(name, () => {
      const hasError = expected.some(([at]) => at.includes(" error "));
      assertProblems(hasError ? problemsOf(text) : parse(text).warnings, expected);
    });
  }
  await t.step("the last of repeated keys counts", () => {
    assert.equal(parse(spec(`  "timeout": 5,\n  "timeout": 6,`)).config.timeoutMs, 6_000);
  });
});

Deno.test("parseConfig() warns when max_session exceeds the ports and caps it at the port count", () => {
  const { config, warnings } = parse(spec(`  "max_session": 10,`));
  assertProblems(warnings, [
    [
      "4:18 warning max_session",
      /10 sessions need more ports than "resources" has \(2\); at most 2/,
    ],
  ]);
  assert.equal(config.maxSessions, 2);
});

Deno.test("ConfigError lists the warnings along with the errors", () => {
  const problems = problemsOf(spec(`  "colour": "blue",\n  "timeout": 0,`));
  assert.deepStrictEqual(problems.map(where), ["4:3 warning colour", "5:14 error timeout"]);
});

Deno.test("parseConfig() warns about an origin listed twice and keeps one", () => {
  const { config, warnings } = parse(
    spec(`  "allowed_origins": ["https://a.example.com", "https://A.example.com:443"],`),
  );
  assertProblems(warnings, [
    ["4:48 warning allowed_origins[1]", /^"https:\/\/a.example.com" is listed more than once$/],
  ]);
  assert.deepStrictEqual(config.allowedOrigins, ["https://a.example.com"]);
});

Deno.test("parseConfig() warns when api_token is admin_token, without repeating it", () => {
  const token = "0123456789abcdef";
  const { config, warnings } = parse(
    spec(`  "admin_token": "${token}",\n  "api_token": "${token}",`),
  );
  assertProblems(warnings, [
    ["5:16 warning api_token", /^api_token is the same as admin_token: every API client could/],
  ]);
  assert(!warnings[0].message.includes(token));
  assert.deepStrictEqual([config.adminToken, config.apiToken], [token, token]);
});
