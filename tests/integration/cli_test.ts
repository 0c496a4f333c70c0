import assert from "node:assert/strict";
import { join } from "node:path";
import denoConfig from "../../deno.json" with { type: "json" };
import { ENTRY, PERMISSIONS } from "./harness.ts";
import { checkNamespaces, freshTmpfs, NO_NAMESPACES } from "./namespace.ts";

const EXAMPLES = join(import.meta.dirname!, "../../examples");

/** Runs the launcher's command line to its end, through `wrap` if given. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return await wrapped([], ...args);
}

async function wrapped(
  wrap: string[],
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const argv = [...wrap, Deno.execPath(), "run", "--quiet", ...PERMISSIONS, ENTRY, ...args];
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** A temp folder holding `launcher.config` with `text`, its log folder inside. */
async function configFile(text: (dir: string) => string) {
  const dir = await Deno.makeTempDir({ prefix: "pvw-cli-test-" });
  const file = join(dir, "launcher.config");
  await Deno.writeTextFile(file, text(dir));
  return { file, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

const USAGE = /Usage: pvw-launcher CONFIG \[options\]/;

Deno.test("pvw-launcher --version prints its name and version and exits 0", async () => {
  const run = await cli("--version");
  assert.deepEqual(run, { code: 0, stdout: `pvw-launcher ${denoConfig.version}\n`, stderr: "" });
});

Deno.test("pvw-launcher --help prints the usage and exits 0", async () => {
  const run = await cli("--help");
  assert.equal(run.code, 0);
  assert.match(run.stdout, USAGE);
  for (const option of ["--host", "--port", "--check", "--log-level", "--log-format"]) {
    assert.ok(run.stdout.includes(option), `the usage lists ${option}`);
  }
  assert.equal(run.stderr, "");
});

Deno.test("pvw-launcher exits 2 with the usage on a wrong command line", async (t) => {
  const cases: [name: string, args: string[], message: RegExp][] = [
    ["no CONFIG", [], /^pvw-launcher: no CONFIG given$/m],
    ["only options", ["--log-level", "debug"], /^pvw-launcher: no CONFIG given$/m],
    ["an unknown option", ["--frobnicate", "x.config"], /^pvw-launcher: .*'--frobnicate'/m],
    ["two CONFIGs", ["a.config", "b.config"], /one CONFIG expected, got 2/],
    ["a port that is not a number", ["--port", "http", "x.config"], /--port must be a whole/],
    ["a port out of range", ["--port", "65536", "x.config"], /--port must be a whole/],
    ["an unknown log level", ["--log-level", "loud", "x.config"], /--log-level must be one of/],
    ["an unknown log format", ["--log-format", "xml", "x.config"], /--log-format must be/],
  ];
  for (const [name, args, message] of cases) {
    await t.step(name, async () => {
      const run = await cli(...args);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, message);
      assert.match(run.stderr, USAGE);
      assert.equal(run.stdout, "");
    });
  }
});

Deno.test({
  name: "pvw-launcher --check exits 0 and says valid for the shipped examples",
  ignore: NO_NAMESPACES,
  fn: async (t) => {
    checkNamespaces();
    // On a machine prepared as the examples say: the state folder, and the map's folder.
    const prepared = freshTmpfs(
      "/var/lib",
      "16m",
      "install -d -m 0700 /var/lib/pvw-launcher && install -d -m 2750 /var/lib/pvw-launcher-map",
    );
    const cases: [file: string, format: string][] = [
      ["launcher.config", "spec"],
      ["wslink.json", "wslink"],
    ];
    for (const [name, format] of cases) {
      await t.step(name, async () => {
        const file = join(EXAMPLES, name);
        const run = await wrapped(prepared, "--check", file);
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stdout, new RegExp(`^${file}: valid \\(${format} format\\)$`, "m"));
        assert.match(run.stdout, /session logs: \/var\/lib\/pvw-launcher\/logs$/m);
        assert.equal(run.stderr, "");
      });
    }
  },
});

Deno.test("pvw-launcher --check exits 1 and prints every problem as file:line:column: error: path: message", async () => {
  await using config = await configFile((dir) =>
    `{
  "log": "${join(dir, "logs")}",
  "timeout": "soon",
  "resources": [{ "host": "localhost", "port": [9002, 9001] }],
  "applications": {
    "viz": { "cmd": [] },
  },
}
`
  );
  const run = await cli("--check", config.file);
  assert.equal(run.code, 1);
  assert.equal(run.stdout, "");
  const lines = run.stderr.trimEnd().split("\n");
  const problems: [where: string, path: string, message: RegExp][] = [
    ["3:14", "timeout", /expected a positive number of seconds/],
    ["4:48", "resources[0].port", /empty port range/],
    ["6:21", "applications.viz.cmd", /expected at least the program to run/],
  ];
  assert.equal(lines.length, problems.length + 1, run.stderr);
  problems.forEach(([where, path, message], i) => {
    assert.ok(
      lines[i].startsWith(`${config.file}:${where}: error: ${path}: `),
      `line ${i + 1}: ${lines[i]}`,
    );
    assert.match(lines[i], message);
  });
  assert.equal(lines.at(-1), `pvw-launcher: ${config.file} is not valid`);
});

Deno.test("pvw-launcher --check warns about an unknown key with a suggestion and still exits 0", async () => {
  await using config = await configFile((dir) =>
    `{
  "log": "${join(dir, "logs")}",
  "timout": 10,
  "resources": [{ "host": "localhost", "port": [9001, 9002] }],
  "applications": { "viz": { "cmd": ["viz"] } },
}
`
  );
  const run = await cli("--check", config.file);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(
    run.stderr,
    `${config.file}:3:3: warning: timout: unknown key "timout"; did you mean "timeout"?\n`,
  );
  assert.match(run.stdout, /: valid \(spec format\)/);
});

Deno.test("pvw-launcher --check says which applications run as Slurm jobs, and on which ports", async () => {
  await using config = await configFile((dir) =>
    `{
  "log": "${join(dir, "logs")}",
  "cluster": { "port_range": [9101, 9110] },
  "resources": [{ "host": "localhost", "port": [9001, 9002] }],
  "applications": { "viz": { "cmd": ["viz"], "slurm": { "partition": "viz" } }, "demo": { "cmd": ["demo"] } },
}
`
  );
  const run = await cli("--check", config.file);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /\n {2}cluster: Slurm, ports 9101-9110 on any node; as jobs: viz\n/);
  assert.match(run.stdout, /\n {2}capacity: 12 sessions\n/);
});

Deno.test("pvw-launcher --check changes nothing: a missing log folder is checked, not made", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "pvw-cli-test-" });
  const logs = join(dir, "new", "logs");
  const config = (extra: Record<string, unknown>) =>
    JSON.stringify({
      url: "http://127.0.0.1:0/paraview",
      log: logs,
      resources: [{ host: "127.0.0.1", port: [9001, 9002] }],
      applications: { demo: { cmd: ["demo"] } },
      ...extra,
    });
  const file = join(dir, "launcher.config");
  try {
    await t.step("a valid config: valid, and the folder is still missing", async () => {
      await Deno.writeTextFile(file, config({}));
      const run = await cli(file, "--check");
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`the launcher will make ${logs}`));
      assert.equal(await exists(join(dir, "new")), false);
    });
    await t.step("an invalid config: refused, and nothing made either", async () => {
      await Deno.writeTextFile(file, config({ map_file: join(dir, "missing", "proxy.map") }));
      const run = await cli(file, "--check");
      assert.equal(run.code, 1);
      assert.match(run.stderr, /map_file: cannot keep the map file .*does not exist/);
      assert.equal(await exists(join(dir, "new")), false);
    });
    await t.step("a log folder that could not be made is refused", async () => {
      await Deno.writeTextFile(join(dir, "new"), "a file where a folder should be");
      await Deno.writeTextFile(file, config({}));
      const run = await cli(file, "--check");
      assert.equal(run.code, 1);
      assert.match(run.stderr, /log: cannot use .* for logs: it does not exist, and its folder/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("pvw-launcher exits 1 with a clear message when its port is taken", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pvw-cli-test-" });
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const file = join(dir, "launcher.config");
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        url: "http://127.0.0.1:0/paraview",
        log: join(dir, "logs"),
        resources: [{ host: "127.0.0.1", port: [9001, 9002] }],
        applications: { demo: { cmd: ["demo"] } },
      }),
    );
    const port = (taken.addr as Deno.NetAddr).port;
    const run = await cli(file, "--host", "127.0.0.1", "--port", String(port));
    assert.equal(run.code, 1);
    assert.match(run.stderr, /cannot listen: .*another program listens there/);
    assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace");
  } finally {
    taken.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pvw-launcher exits 2 when --port is the port of dashboard_listen", async () => {
  await using config = await configFile((dir) =>
    JSON.stringify({
      url: "http://127.0.0.1:0/paraview",
      log: join(dir, "logs"),
      resources: [{ host: "127.0.0.1", port: [9001, 9002] }],
      applications: { demo: { cmd: ["demo"] } },
      dashboard_listen: "127.0.0.1:18765",
    })
  );
  const run = await cli(config.file, "--port", "18765");
  assert.equal(run.code, 2);
  assert.match(
    run.stderr,
    /^pvw-launcher: --port 18765 is the dashboard's \(dashboard_listen\): the launcher needs a port of its own$/m,
  );
  assert.doesNotMatch(run.stderr, /another program listens there/);
});
