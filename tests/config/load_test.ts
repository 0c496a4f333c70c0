import assert from "node:assert/strict";
import { join } from "node:path";
import {
  DEFAULT_LOG_DIR,
  FILE,
  parse,
  spec,
  TESTDATA,
  withApp,
  withResource,
  wslink,
} from "./test_utils.ts";
import { parseConfig } from "../../lib/config/load.ts";
import { ConfigError } from "../../lib/config/problems.ts";

Deno.test("parseConfig() loads a spec config and the equivalent wslink config into the same model", async () => {
  const specFile = join(TESTDATA, "equivalent_spec.config");
  const wslinkFile = join(TESTDATA, "equivalent_wslink.json");
  const a = parse(await Deno.readTextFile(specFile), specFile);
  const b = parse(await Deno.readTextFile(wslinkFile), wslinkFile);
  assert.deepStrictEqual([a.warnings, b.warnings], [[], []]);
  assert.deepStrictEqual([a.config.format, b.config.format], ["spec", "wslink"]);
  const { file: _a, format: _fa, unprovided: ua, ...specModel } = a.config;
  const { file: _b, format: _fb, unprovided: ub, ...wslinkModel } = b.config;
  assert.deepStrictEqual([ua, ub], ["refuse", "keep"]);
  assert.deepStrictEqual(specModel, wslinkModel);
  assert.deepStrictEqual(specModel, {
    listen: { hostname: "127.0.0.1", port: 9000 },
    endpoint: "/paraview",
    content: join(TESTDATA, "www"),
    logDir: join(TESTDATA, "logs"),
    mapFile: join(TESTDATA, "run", "proxy.map"),
    sessionUrl: "ws://USE_HOST/proxy?sessionId=${id}&path=ws",
    readyLines: ["Starting factory", "App running at"],
    timeoutMs: 30_000,
    stopGraceMs: 2_500,
    maxSessions: 5,
    resources: [
      { host: "localhost", first: 9001, last: 9010 },
      { host: "render-node", first: 9001, last: 9002 },
    ],
    properties: { python_exec: "/opt/paraview/bin/pvpython", workers: "4", debug: "false" },
    apps: {
      trame: {
        name: "trame",
        cmd: ["/opt/trame/run", "--host", "${host}", "--port", "${port}", "--authKey", "${secret}"],
        env: {},
        readyLines: ["App running at"],
        timeoutMs: 60_000,
        wsPath: "/ws",
        warm: 0,
        idleTimeoutMs: 60_000,
        maxLifetimeMs: 86_400_000,
      },
      visualizer: {
        name: "visualizer",
        cmd: ["$python_exec", "-m", "paraview.apps.visualizer", "--port", "$port"],
        dir: join(TESTDATA, "data"),
        env: { OMP_NUM_THREADS: "4" },
        readyLines: ["Starting factory", "App running at"],
        timeoutMs: 30_000,
        wsPath: "/ws",
        warm: 0,
        idleTimeoutMs: 600_000,
        maxLifetimeMs: 3_600_000,
      },
    },
    fields: [],
    sessionData: {},
    sanitize: {},
    idleTimeoutMs: 600_000,
    maxLifetimeMs: 86_400_000,
    stateFile: join(TESTDATA, "run", "state.json"),
    keepSessions: true,
    dashboardPath: "/admin",
    adminToken: "0123456789abcdef0123456789abcdef",
    apiToken: "fedcba9876543210fedcba9876543210",
    allowedOrigins: ["https://app.example.com", "http://localhost:3000"],
    rateLimit: { perMinute: 30, burst: 30 },
    headerTimeoutMs: 5_000,
    keepAliveTimeoutMs: 60_000,
    trustedProxies: ["10.0.0.0/8", "::1"],
    dashboardListen: { hostname: "127.0.0.1", port: 9090 },
    maxLogBytes: 2 * 1024 * 1024,
  });
});

Deno.test("parseConfig() fills in the defaults of a minimal config", async (t) => {
  const defaults = {
    listen: { hostname: "localhost", port: 8080 },
    endpoint: "/paraview",
    logDir: DEFAULT_LOG_DIR,
    sessionUrl: "ws://USE_HOST/proxy/${id}",
    readyLines: ["Starting factory", "App running at"],
    timeoutMs: 25_000,
    stopGraceMs: 5_000,
    maxSessions: 2,
    resources: [{ host: "localhost", first: 9001, last: 9002 }],
    properties: {},
    apps: {
      demo: {
        name: "demo",
        cmd: ["demo"],
        env: {},
        readyLines: ["Starting factory", "App running at"],
        timeoutMs: 25_000,
        wsPath: "/ws",
        warm: 0,
      },
    },
    fields: [],
    sessionData: {},
    sanitize: {},
    stateFile: `${DEFAULT_LOG_DIR}/pvw-launcher-state.json`,
    keepSessions: false,
    dashboardPath: "/_dashboard",
    allowedOrigins: [],
    headerTimeoutMs: 10_000,
    keepAliveTimeoutMs: 30_000,
    trustedProxies: ["127.0.0.0/8", "::1"],
    maxLogBytes: 16 * 1024 * 1024,
  };
  const formats = [["spec", spec(""), "refuse"], ["wslink", wslink(""), "keep"]] as const;
  for (const [format, text, unprovided] of formats) {
    await t.step(`${format} format`, () => {
      const { config, warnings } = parse(text);
      assert.deepStrictEqual(warnings, []);
      assert.deepStrictEqual(config, { file: FILE, format, ...defaults, unprovided });
    });
  }
});

Deno.test("parseConfig() needs a log folder when the caller has no default for it", async (t) => {
  const cases: [string, string, string][] = [
    ["spec", spec(""), '"log"'],
    ["wslink", wslink(""), '"configuration.log_dir"'],
  ];
  for (const [format, text, key] of cases) {
    await t.step(`${format} format`, () => {
      assert.throws(() => parseConfig(text, FILE), (err) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.problems.length, 1);
        assert.equal(err.problems[0].message.split(":")[0], "no folder for the session logs");
        assert.ok(err.problems[0].message.includes(`set ${key}`), err.problems[0].message);
        return true;
      });
    });
  }
});

Deno.test("parseConfig() counts every port of every range as the default session cap", () => {
  const { config } = parse(withResource(`    { "host": "b", "port": [9001, 9005] },`));
  assert.equal(config.maxSessions, 15);
});

Deno.test("parseConfig() takes the listen address and endpoint from the spec's url", async (t) => {
  const cases: [string, { hostname: string; port: number }, string][] = [
    ["http://localhost:8080/paraview", { hostname: "localhost", port: 8080 }, "/paraview"],
    ["http://0.0.0.0:9000/paraview/", { hostname: "0.0.0.0", port: 9000 }, "/paraview"],
    ["http://example.org/pv/launcher", { hostname: "example.org", port: 80 }, "/pv/launcher"],
    ["http://[::1]:8080/paraview", { hostname: "::1", port: 8080 }, "/paraview"],
    ["http://127.0.0.1:0/paraview", { hostname: "127.0.0.1", port: 0 }, "/paraview"],
  ];
  for (const [url, listen, endpoint] of cases) {
    await t.step(url, () => {
      const { config } = parse(spec(`  "url": "${url}",`));
      assert.deepStrictEqual([config.listen, config.endpoint], [listen, endpoint]);
    });
  }
});

Deno.test("parseConfig() normalises the wslink endpoint to one leading slash and none trailing", async (t) => {
  const cases = [
    ["paraview", "/paraview"],
    ["/paraview", "/paraview"],
    ["/paraview/", "/paraview"],
    [
      "pv/launch/",
      "/pv/launch",
    ],
  ];
  for (const [endpoint, expected] of cases) {
    await t.step(JSON.stringify(endpoint), () => {
      const { config } = parse(wslink(`    "endpoint": "${endpoint}",`));
      assert.equal(config.endpoint, expected);
    });
  }
});

Deno.test("parseConfig() resolves relative paths against the config file's folder", async (t) => {
  const text = `{
  "log": "logs", "map_file": "../run/proxy.map", "content": "./www",
  "resources": [{ "host": "localhost", "port": [9001, 9002] }],
  "applications": {
    "here": { "cmd": ["demo"], "dir": "." },
    "absolute": { "cmd": ["demo"], "dir": "/opt/app" },
  },
}`;
  await t.step("an absolute config path", () => {
    const { config } = parse(text, "/srv/pv/launcher.config");
    assert.deepStrictEqual(
      [config.logDir, config.mapFile, config.content, config.apps.here.dir],
      ["/srv/pv/logs", "/srv/run/proxy.map", "/srv/pv/www", "/srv/pv"],
    );
    assert.equal(config.apps.absolute.dir, "/opt/app");
  });
  await t.step("a config path relative to the current directory", () => {
    const { config } = parse(text, "conf/launcher.config");
    assert.equal(config.file, join(Deno.cwd(), "conf", "launcher.config"));
    assert.equal(config.logDir, join(Deno.cwd(), "conf", "logs"));
  });
  await t.step("the wslink format's paths", () => {
    const { config } = parse(
      wslink(`    "log_dir": "logs", "proxy_file": "proxy.map", "content": "www",`),
      "/srv/pv/wslink.json",
    );
    assert.deepStrictEqual(
      [config.logDir, config.mapFile, config.content],
      ["/srv/pv/logs", "/srv/pv/proxy.map", "/srv/pv/www"],
    );
  });
});

Deno.test("parseConfig() lets an application's ready line and timeout override the global ones", () => {
  const text = `{
  "wait_line": "Ready",
  "timeout": 5,
  "resources": [{ "host": "localhost", "port": [9001, 9002] }],
  "applications": {
    "inherits": { "cmd": ["a"] },
    "list": { "cmd": ["b"], "wait_line": ["Starting factory", "App running at"] },
    "wslink_name": { "cmd": ["c"], "ready_line": "Listening", "timeout": 0.5 },
  },
}`;
  const { config } = parse(text);
  const summary = Object.values(config.apps).map((a) => [a.name, a.readyLines, a.timeoutMs]);
  assert.deepStrictEqual(summary, [
    ["inherits", ["Ready"], 5_000],
    ["list", ["Starting factory", "App running at"], 5_000],
    ["wslink_name", ["Listening"], 500],
  ]);
  assert.deepStrictEqual([config.readyLines, config.timeoutMs], [["Ready"], 5_000]);
});

Deno.test("parseConfig() accepts Python string.Template syntax in commands and URLs", () => {
  const { config } = parse(`{
  "proxy_url": "ws://USE_HOST/proxy/\${id}?cost=$$5",
  "resources": [{ "host": "localhost", "port": [9001, 9002] }],
  "applications": {
    "demo": { "cmd": ["$python_exec", "--port=\${port}", "$$HOME", "plain", "a$_b9"] },
  },
}`);
  assert.equal(config.sessionUrl, "ws://USE_HOST/proxy/${id}?cost=$$5");
  assert.deepStrictEqual(config.apps.demo.cmd, [
    "$python_exec",
    "--port=${port}",
    "$$HOME",
    "plain",
    "a$_b9",
  ]);
});

Deno.test("parseConfig() keeps number and boolean properties as strings", () => {
  const { config } = parse(spec(`  "properties": { "s": "x", "n": 4, "f": 1.5, "b": true },`));
  assert.deepStrictEqual(config.properties, { s: "x", n: "4", f: "1.5", b: "true" });
});

Deno.test("parseConfig() reads wslink fields, sessionData and sanitize rules", () => {
  const { config } = parse(`{
  "configuration": {
    "fields": ["file", "updir"],
    "sanitize": {
      "file": { "type": "regexp", "regexp": "[-\\\\w./]+", "default": "none" },
      "pair": { "type": "regexp", "regexp": "(?P<w>\\\\w+)-(?P=w)", "default": "x-x" },
      "mode": { "type": "inList", "list": ["a", "b"], "default": "a" },
    },
  },
  "sessionData": { "updir": "/Home/\${port}" },
  "resources": [{ "host": "localhost", "port_range": [9001, 9002] }],
  "apps": { "demo": { "cmd": ["demo"] } },
}`);
  assert.deepStrictEqual(config.fields, ["file", "updir"]);
  assert.deepStrictEqual(config.sessionData, { updir: "/Home/${port}" });
  const { file, pair, mode } = config.sanitize;
  assert(file.type === "regexp" && pair.type === "regexp");
  assert.deepStrictEqual(
    ["data/a.vtk", "a b", "x;rm"].map((v) => file.pattern.test(v)),
    [true, false, false],
  );
  assert.deepStrictEqual(["ab-ab", "ab-cd"].map((v) => pair.pattern.test(v)), [true, false]);
  assert.deepStrictEqual(mode, { type: "inList", list: ["a", "b"], default: "a" });
});

Deno.test("parseConfig() accepts comments and trailing commas", () => {
  const { config, warnings } = parse(`// leading comment
{
  /* block
     comment */
  "url": "http://localhost:8080/paraview", // trailing comment
  "resources": [{ "host": "localhost", "port": [9001, 9002,], },],
  "applications": { "demo": { "cmd": ["demo",], }, },
}
// closing comment`);
  assert.deepStrictEqual(warnings, []);
  assert.deepStrictEqual(config.apps.demo.cmd, ["demo"]);
});

Deno.test("the shipped examples parse without errors or warnings", async (t) => {
  const examples = join(import.meta.dirname!, "..", "..", "examples");
  for (const [name, format] of [["launcher.config", "spec"], ["wslink.json", "wslink"]]) {
    await t.step(name, async () => {
      const file = join(examples, name);
      const { config, warnings } = parse(await Deno.readTextFile(file), file);
      assert.deepStrictEqual(warnings, []);
      assert.equal(config.format, format);
    });
  }
  await t.step("the demo app runs from the examples folder", async () => {
    const file = join(examples, "launcher.config");
    const { config } = parse(await Deno.readTextFile(file), file);
    assert.equal(config.apps.demo.dir, examples);
    await Deno.stat(join(examples, "demo_app.ts"));
  });
});

Deno.test("parseConfig() reads the operating settings in both formats", async (t) => {
  const settings = [
    `"idle_timeout": 300, "max_lifetime": 7200.5, "keep_sessions": true,`,
    `"state_file": "state/sessions.json", "dashboard_path": "/ops/dashboard/",`,
    `"admin_token": "0123456789abcdef", "api_token": "${"x".repeat(40)}",`,
    `"allowed_origins": ["https://App.Example.com:443/", "http://[::1]:3000"],`,
    `"rate_limit": { "per_minute": 60, "burst": 5 },`,
  ];
  const expected = {
    idleTimeoutMs: 300_000,
    maxLifetimeMs: 7_200_500,
    stateFile: "/srv/pv/state/sessions.json",
    keepSessions: true,
    dashboardPath: "/ops/dashboard",
    adminToken: "0123456789abcdef",
    apiToken: "x".repeat(40),
    allowedOrigins: ["https://app.example.com", "http://[::1]:3000"],
    rateLimit: { perMinute: 60, burst: 5 },
  };
  const texts = [
    ["spec", spec(settings.map((s) => `  ${s}`).join("\n"))],
    ["wslink", wslink(settings.map((s) => `    ${s}`).join("\n"))],
  ];
  for (const [format, text] of texts) {
    await t.step(`${format} format`, () => {
      const { config, warnings } = parse(text);
      assert.deepStrictEqual(warnings, []);
      const { idleTimeoutMs, maxLifetimeMs, stateFile, keepSessions, dashboardPath } = config;
      const { adminToken, apiToken, allowedOrigins, rateLimit } = config;
      assert.deepStrictEqual({
        idleTimeoutMs,
        maxLifetimeMs,
        stateFile,
        keepSessions,
        dashboardPath,
        adminToken,
        apiToken,
        allowedOrigins,
        rateLimit,
      }, expected);
    });
  }
});

Deno.test("parseConfig() keeps the state file next to the map file, else in the log folder", async (t) => {
  const cases: [string, string, string][] = [
    [
      "a spec map file",
      spec(`  "log": "logs", "map_file": "/var/www/proxy.map",`),
      "/var/www/pvw-launcher-state.json",
    ],
    [
      "a wslink proxy_file",
      wslink(`    "log_dir": "logs", "proxy_file": "run/proxy.map",`),
      "/srv/pv/run/pvw-launcher-state.json",
    ],
    ["no map file", spec(`  "log": "logs",`), "/srv/pv/logs/pvw-launcher-state.json"],
    [
      "an explicit state_file wins",
      spec(`  "map_file": "/var/www/proxy.map", "state_file": "/var/lib/pvw/state.json",`),
      "/var/lib/pvw/state.json",
    ],
  ];
  for (const [name, text, stateFile] of cases) {
    await t.step(name, () => assert.equal(parse(text).config.stateFile, stateFile));
  }
});

Deno.test("parseConfig() defaults a rate limit's burst to its rate, but at least 1", async (t) => {
  const cases: [string, { perMinute: number; burst: number }][] = [
    [`{ "per_minute": 30 }`, { perMinute: 30, burst: 30 }],
    [`{ "per_minute": 0.5 }`, { perMinute: 0.5, burst: 1 }],
    [`{ "per_minute": 10, "burst": 2.5 }`, { perMinute: 10, burst: 2.5 }],
  ];
  for (const [rateLimit, expected] of cases) {
    await t.step(rateLimit, () => {
      assert.deepStrictEqual(
        parse(spec(`  "rate_limit": ${rateLimit},`)).config.rateLimit,
        expected,
      );
    });
  }
});

Deno.test("parseConfig() lets an application's idle_timeout and max_lifetime override the global ones", async (t) => {
  const apps = `"inherits": { "cmd": ["a"] },
    "own": { "cmd": ["b"], "idle_timeout": 30, "max_lifetime": 0.25 },`;
  const texts = [
    [
      "spec",
      `{
  "idle_timeout": 600, "max_lifetime": 3600,
  "resources": [{ "host": "localhost", "port": [9001, 9002] }],
  "applications": {
    ${apps}
  },
}`,
    ],
    [
      "wslink",
      `{
  "configuration": { "idle_timeout": 600, "max_lifetime": 3600 },
  "resources": [{ "host": "localhost", "port_range": [9001, 9002] }],
  "apps": {
    ${apps}
  },
}`,
    ],
  ];
  for (const [format, text] of texts) {
    await t.step(format, () => {
      const { config } = parse(text);
      const summary = Object.values(config.apps)
        .map((a) => [a.name, a.idleTimeoutMs, a.maxLifetimeMs]);
      assert.deepStrictEqual(summary, [["inherits", 600_000, 3_600_000], ["own", 30_000, 250]]);
    });
  }
  await t.step("without global ones, an application's own apply alone", () => {
    const { config } = parse(withApp(`    "demo": { "cmd": ["x"], "idle_timeout": 60 },`));
    assert.equal(config.apps.demo.idleTimeoutMs, 60_000);
    assert(!("maxLifetimeMs" in config.apps.demo), "an absent lifetime is left out");
  });
});

Deno.test("parseConfig() reads dashboard_listen, max_log_size and trusted_proxies in their forms", async (t) => {
  const cases: [string, Record<string, unknown>][] = [
    [`"dashboard_listen": 9090`, { dashboardListen: { port: 9090 } }],
    [`"dashboard_listen": "[::1]:9090"`, { dashboardListen: { hostname: "::1", port: 9090 } }],
    [`"dashboard_listen": "localhost:0"`, { dashboardListen: { hostname: "localhost", port: 0 } }],
    [`"max_log_size": 65536`, { maxLogBytes: 65536 }],
    [`"max_log_size": "512K"`, { maxLogBytes: 512 * 1024 }],
    [`"max_log_size": "1.5 MiB"`, { maxLogBytes: 1.5 * 1024 * 1024 }],
    [`"max_log_size": "1g"`, { maxLogBytes: 1024 ** 3 }],
    [`"trusted_proxies": []`, { trustedProxies: [] }],
    [`"trusted_proxies": ["192.168.0.0/16", "2001:db8::/32"]`, {
      trustedProxies: ["192.168.0.0/16", "2001:db8::/32"],
    }],
    [`"header_timeout": 2.5`, { headerTimeoutMs: 2500 }],
  ];
  for (const [member, expected] of cases) {
    await t.step(member, () => {
      for (const text of [spec(`  ${member},`), wslink(`    ${member},`)]) {
        const { config, warnings } = parse(text);
        assert.deepStrictEqual(warnings, []);
        for (const [key, value] of Object.entries(expected)) {
          assert.deepStrictEqual(config[key as keyof typeof config], value, key);
        }
      }
    });
  }
});
