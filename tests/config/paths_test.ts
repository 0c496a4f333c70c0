import assert from "node:assert/strict";
import { join } from "node:path";
import { checkConfigPaths, loadConfig, parseConfig } from "../../lib/config/load.ts";
import { ConfigError, type ConfigProblem } from "../../lib/config/problems.ts";

/** Runs `fn` with a fresh temporary folder that is removed afterwards. */
async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "pvw-config-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A spec config with `paths` (JSON members) on line 2. */
const spec = (paths: string) =>
  `{
  ${paths}
  "resources": [{ "host": "localhost", "port": [9001, 9002] }],
  "applications": { "demo": { "cmd": ["demo"] } },
}`;

/** A wslink config with `paths` (JSON members) on line 3, inside `configuration`. */
const wslink = (paths: string) =>
  `{
  "configuration": {
    ${paths}
  },
  "resources": [{ "host": "localhost", "port_range": [9001, 9002] }],
  "apps": { "demo": { "cmd": ["demo"] } },
}`;

/** Parses `text` as the file `launcher.config` in `dir` and checks its paths. */
async function check(dir: string, text: string): Promise<ConfigProblem[]> {
  const loaded = parseConfig(text, join(dir, "launcher.config"));
  return await checkConfigPaths(loaded, text);
}

/** A problem as `line:column path`, and its message. */
const where = (p: ConfigProblem) => `${p.line}:${p.column} ${p.severity} ${p.path}`;

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

Deno.test("checkConfigPaths() creates a missing log folder, parents included", async () => {
  await withTempDir(async (dir) => {
    const problems = await check(dir, spec(`"log": "deep/er/logs",`));
    assert.deepStrictEqual(problems, []);
    assert((await Deno.stat(join(dir, "deep", "er", "logs"))).isDirectory);
  });
});

Deno.test("checkConfigPaths() accepts a map file and a state file inside a log folder it has just created", async () => {
  await withTempDir(async (dir) => {
    const text = spec(
      `"log": "run", "map_file": "run/proxy.map", "state_file": "run/state.json", "content": ".",`,
    );
    assert.deepStrictEqual(await check(dir, text), []);
    assert.deepStrictEqual([...Deno.readDirSync(join(dir, "run"))], [], "no probe file is left");
  });
});

Deno.test("checkConfigPaths() reports a log folder it cannot create, at the key that named it", async (t) => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "file"), "");
    await t.step("spec format", async () => {
      const problems = await check(dir, spec(`"log": "file/logs",`));
      assert.deepStrictEqual(problems.map(where), ["2:3 error log"]);
      assert.match(
        problems[0].message,
        /^cannot use ".*\/file\/logs" for logs: cannot create it \(a part of the path is a file\)$/,
      );
      assert.equal(problems[0].file, join(dir, "launcher.config"));
    });
    await t.step("wslink format", async () => {
      const problems = await check(dir, wslink(`"log_dir": "file/logs",`));
      assert.deepStrictEqual(problems.map(where), ["3:5 error configuration.log_dir"]);
    });
    await t.step("a file where the folder should be", async () => {
      const problems = await check(dir, spec(`"log": "file",`));
      assert.deepStrictEqual(problems.map(where), ["2:3 error log"]);
      assert.match(problems[0].message, /cannot create it/);
    });
    await t.step("the default log folder, reported at the top-level object", async () => {
      const text = spec("");
      const loaded = parseConfig(text, join(dir, "launcher.config"), {
        logDir: join(dir, "file", "logs"),
      });
      const problems = await checkConfigPaths(loaded, text);
      assert.deepStrictEqual(problems.map(where), ["1:1 error log"]);
      assert.match(problems[0].message, /\(the default; set "log" to choose another\)$/);
    });
  });
});

Deno.test("checkConfigPaths() reports a map file whose folder is unusable, at the key that named it", async (t) => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "file"), "");
    await Deno.mkdir(join(dir, "folder.map"));
    const cases: [string, string, RegExp][] = [
      [
        "a folder that does not exist",
        "missing/proxy.map",
        /its folder ".*\/missing" does not exist$/,
      ],
      ["a folder that is a file", "file/proxy.map", /its folder ".*\/file" is not a folder$/],
      ["a map file that is a folder", "folder.map", /": it is a folder$/],
    ];
    for (const [name, mapFile, message] of cases) {
      await t.step(name, async () => {
        const problems = await check(dir, spec(`"log": "logs", "map_file": "${mapFile}",`));
        assert.deepStrictEqual(problems.map(where), ["2:18 error map_file"]);
        assert.match(problems[0].message, /^cannot keep the map file ".*": /);
        assert.match(problems[0].message, message);
      });
    }
    await t.step("wslink format", async () => {
      const text = wslink(`"log_dir": "logs", "proxy_file": "missing/proxy.map",`);
      const problems = await check(dir, text);
      assert.deepStrictEqual(problems.map(where), ["3:24 error configuration.proxy_file"]);
    });
  });
});

Deno.test("checkConfigPaths() reports a state file whose folder is unusable, at the key that named it", async (t) => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "file"), "");
    await Deno.mkdir(join(dir, "folder.json"));
    const cases: [string, string, RegExp][] = [
      [
        "a folder that does not exist",
        "missing/state.json",
        /its folder ".*\/missing" does not exist$/,
      ],
      ["a folder that is a file", "file/state.json", /its folder ".*\/file" is not a folder$/],
      ["a state file that is a folder", "folder.json", /": it is a folder$/],
    ];
    for (const [name, stateFile, message] of cases) {
      await t.step(name, async () => {
        const problems = await check(dir, spec(`"log": "logs", "state_file": "${stateFile}",`));
        assert.deepStrictEqual(problems.map(where), ["2:18 error state_file"]);
        assert.match(problems[0].message, /^cannot keep the state file ".*": /);
        assert.match(problems[0].message, message);
      });
    }
    await t.step("wslink format", async () => {
      const text = wslink(`"log_dir": "logs", "state_file": "missing/state.json",`);
      const problems = await check(dir, text);
      assert.deepStrictEqual(problems.map(where), ["3:24 error configuration.state_file"]);
    });
    await t.step("the default, reported at the top-level object", async () => {
      await Deno.mkdir(join(dir, "logs", "pvw-launcher-state.json"), { recursive: true });
      const problems = await check(dir, spec(`"log": "logs",`));
      assert.deepStrictEqual(problems.map(where), ["1:1 error state_file"]);
      assert.match(problems[0].message, /: it is a folder \(the default; set "state_file" to /);
    });
    await t.step("the default next to an unusable map file is not reported twice", async () => {
      const problems = await check(dir, spec(`"log": "logs", "map_file": "missing/proxy.map",`));
      assert.deepStrictEqual(problems.map(where), ["2:18 error map_file"]);
    });
    await t.step("the default in a log folder it cannot create is not reported twice", async () => {
      const problems = await check(dir, spec(`"log": "file/logs",`));
      assert.deepStrictEqual(problems.map(where), ["2:3 error log"]);
    });
  });
});

Deno.test("checkConfigPaths() reports a content folder that does not exist or is a file", async (t) => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "file"), "");
    for (
      const [content, message] of [["www", /does not exist$/], [
        "file",
        /is not a folder$/,
      ]] as const
    ) {
      await t.step(content, async () => {
        const problems = await check(dir, spec(`"log": "logs", "content": "${content}",`));
        assert.deepStrictEqual(problems.map(where), ["2:18 error content"]);
        assert.match(problems[0].message, /^cannot serve ".*": /);
        assert.match(problems[0].message, message);
      });
    }
  });
});

Deno.test("loadConfig() reads, parses and checks a config file", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "launcher.config");
    await Deno.writeTextFile(file, spec(`"log": "logs", "colour": "blue",`));
    const { config, warnings } = await loadConfig(file);
    assert.equal(config.logDir, join(dir, "logs"));
    assert(await exists(join(dir, "logs")));
    assert.deepStrictEqual(warnings.map((w) => w.path), ["colour"]);
  });
});

Deno.test("loadConfig() throws a ConfigError with the path problems and the warnings", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "launcher.config");
    await Deno.writeTextFile(
      file,
      spec(`"colour": "blue", "map_file": "missing/proxy.map", "log": "logs",`),
    );
    await assert.rejects(loadConfig(file), (err) => {
      assert(err instanceof ConfigError);
      assert.deepStrictEqual(err.problems.map(where), [
        "2:3 warning colour",
        "2:21 error map_file",
      ]);
      assert.deepStrictEqual([err.file, err.line, err.column], [file, 2, 21]);
      return true;
    });
  });
});

Deno.test("loadConfig() throws a ConfigError that says why the file cannot be read", async (t) => {
  await withTempDir(async (dir) => {
    const cases = [
      [
        "a missing file",
        join(dir, "nope.config"),
        /^cannot read the config file: the file does not exist$/,
      ],
      ["a folder", dir, /^cannot read the config file: it is a folder, not a file$/],
    ] as const;
    for (const [name, file, message] of cases) {
      await t.step(name, async () => {
        await assert.rejects(loadConfig(file), (err) => {
          assert(err instanceof ConfigError);
          assert.equal(err.problems.length, 1);
          assert.equal(err.file, file);
          assert.match(err.problems[0].message, message);
          return true;
        });
      });
    }
  });
});

Deno.test("loadConfig() throws the syntax errors of a file", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "launcher.config");
    await Deno.writeTextFile(file, "{\n  'url': 1\n}");
    await assert.rejects(loadConfig(file), (err) => {
      assert(err instanceof ConfigError);
      assert.equal(
        err.message,
        `${file}:2:3: error: strings and keys take double quotes: write "url"`,
      );
      return true;
    });
  });
});

Deno.test("checkConfigPaths() creates the log folder private to the launcher's user", async () => {
  await withTempDir(async (dir) => {
    assert.deepStrictEqual(await check(dir, spec(`"log": "new/logs",`)), []);
    assert.equal((await Deno.stat(join(dir, "new", "logs"))).mode! & 0o777, 0o700);
  });
});

Deno.test("checkConfigPaths() refuses folders other users could write, at the key that named them", async (t) => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "open"), { mode: 0o777 });
    await Deno.chmod(join(dir, "open"), 0o777);
    await t.step("the log folder", async () => {
      const problems = await check(dir, spec(`"log": "open",`));
      assert.deepStrictEqual(problems.map(where), ["2:3 error log"]);
      assert.match(problems[0].message, /^cannot use ".*\/open" for logs: it can be written by/);
    });
    await t.step("the map file's folder", async () => {
      const problems = await check(dir, spec(`"log": "logs", "map_file": "open/proxy.map",`));
      assert.deepStrictEqual(problems.map(where), ["2:18 error map_file"]);
      assert.match(
        problems[0].message,
        /^cannot keep the map file ".*\/open\/proxy.map": its folder ".*\/open": it can be written by other users \(mode 0777\)/,
      );
    });
    await t.step("the state file's folder", async () => {
      const problems = await check(dir, spec(`"log": "logs", "state_file": "open/state.json",`));
      assert.deepStrictEqual(problems.map(where), ["2:18 error state_file"]);
      assert.match(problems[0].message, /^cannot keep the state file .*: it can be written by/);
    });
  });
});

Deno.test("checkConfigPaths() names the folders by their real paths once they are safe", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "real", "logs"), { recursive: true, mode: 0o700 });
    await Deno.symlink(join(dir, "real"), join(dir, "link"));
    const text = spec(`"log": "link/logs", "map_file": "link/proxy.map",`);
    const loaded = parseConfig(text, join(dir, "launcher.config"));
    assert.deepStrictEqual(await checkConfigPaths(loaded, text), []);
    const real = await Deno.realPath(join(dir, "real"));
    assert.deepStrictEqual(
      [loaded.config.logDir, loaded.config.mapFile, loaded.config.stateFile],
      [join(real, "logs"), join(real, "proxy.map"), join(real, "pvw-launcher-state.json")],
    );
  });
});

Deno.test("loadConfig() uses the default log folder it is given", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "launcher.config");
    await Deno.writeTextFile(file, spec(""));
    const logDir = join(dir, "state", "logs");
    const { config } = await loadConfig(file, { defaults: { logDir } });
    assert.equal(config.logDir, logDir);
    assert.equal((await Deno.stat(logDir)).mode! & 0o777, 0o700);
  });
});

Deno.test("checkConfigPaths() without creating says in plain words why a missing log folder cannot be made", async (t) => {
  await withTempDir(async (dir) => {
    const text = spec(`"log": "${join(dir, "open", "logs")}",`);
    const loaded = parseConfig(text, join(dir, "launcher.config"));
    await t.step("its folder is writable by other users", async () => {
      await Deno.mkdir(join(dir, "open"));
      await Deno.chmod(join(dir, "open"), 0o777);
      const [problem] = await checkConfigPaths(loaded, text, { create: false });
      assert.equal(
        problem.message,
        `cannot use "${join(dir, "open", "logs")}" for logs: it does not exist, and it cannot ` +
          `be made in "${join(dir, "open")}": it can be written by other users (mode 0777), ` +
          `who could replace its files; run "chmod go-w ${join(dir, "open")}" or choose ` +
          "another folder",
      );
    });
    await t.step("a folder that can be made is no problem, and is not made", async () => {
      await Deno.remove(join(dir, "open"));
      assert.deepEqual(await checkConfigPaths(loaded, text, { create: false }), []);
      assert.ok(!await exists(join(dir, "open")), "--check makes nothing");
    });
  });
});
