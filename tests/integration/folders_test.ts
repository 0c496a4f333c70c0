import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ECHO_APP, Launcher, launchOn, specConfig, startLauncher, within } from "./harness.ts";
import { checkNamespaces, freshTmpfs, NO_NAMESPACES } from "./namespace.ts";

const EXAMPLE = fileURLToPath(new URL("../../examples/launcher.config", import.meta.url));

/** Waits until a launcher listens, or refuses its config and exits. */
async function startOrExit(launcher: Launcher): Promise<Deno.CommandStatus | "listening"> {
  const [line] = await launcher.waitForLog(/listening on|is not valid$/m, 20_000);
  return line === "listening on" ? "listening" : await launcher.exited();
}

Deno.test("a log folder that another local user made first is refused at start, naming it and the fix", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "pvw-launcher-test-" });
  try {
    const logs = join(dir, "logs");
    const file = join(dir, "launcher.config");
    await Deno.writeTextFile(file, JSON.stringify(specConfig(dir, { echo: { cmd: ECHO_APP } })));
    const cases: [string, () => Promise<void>, RegExp][] = [
      [
        "writable by everyone, as made in /tmp",
        () => Deno.chmod(logs, 0o777),
        /it can be written by other users \(mode 0777\), who could replace its files; run "chmod go-w [^"]+\/logs"/,
      ],
      [
        "readable by everyone, which lists the session ids",
        () => Deno.chmod(logs, 0o755),
        /other users can open it \(mode 0755\), and its file names are session ids; run "chmod 700 /,
      ],
    ];
    if (Deno.uid() === 0) {
      cases.push([
        "owned by another user",
        async () => {
          await Deno.chmod(logs, 0o700);
          await Deno.chown(logs, 65534, 65534);
        },
        /it belongs to user 65534, not to the launcher's user \(0\) or root.*run "chown 0 /,
      ]);
    }
    for (const [name, squat, message] of cases) {
      await t.step(name, async () => {
        await Deno.mkdir(logs, { recursive: true });
        await squat();
        const launcher = new Launcher(dir, file, ["--host", "127.0.0.1", "--port", "0"]);
        const outcome = await startOrExit(launcher);
        if (outcome === "listening") await launcher.stop();
        assert.notEqual(outcome, "listening", "the launcher must not start");
        assert.equal((outcome as Deno.CommandStatus).code, 1);
        assert.match(launcher.log, new RegExp(`cannot use "${logs}" for logs: `));
        assert.match(launcher.log, message);
        await Deno.remove(logs, { recursive: true });
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "the README's first command works on a fresh machine: the example's logs go to a private state folder",
  ignore: NO_NAMESPACES,
  fn: async () => {
    checkNamespaces();
    // In the namespace the launcher is root, whose state folder is /var/lib/pvw-launcher: an
    // empty /var/lib is a fresh machine.
    const launcher = await launchOn(join(EXAMPLE, ".."), EXAMPLE, [], {
      wrap: freshTmpfs("/var/lib"),
    });
    try {
      const logs = (await launcher.waitForLog(/session logs: (\S+)/))[1];
      assert.equal(logs, "/var/lib/pvw-launcher/logs");
      const root = `/proc/${launcher.process.pid}/root`;
      assert.equal((await Deno.stat(root + logs)).mode! & 0o777, 0o700, "private");
      const post = await launcher.post({ application: "demo" });
      assert.equal(post.status, 200, JSON.stringify(post.json));
      const get = await launcher.request("GET", `${launcher.endpoint}/${post.json.id}`);
      assert.equal(get.status, 200);
      assert.ok((await Deno.stat(`${root}${logs}/${post.json.id}.log`)).isFile);
      const del = await launcher.request("DELETE", `${launcher.endpoint}/${post.json.id}`);
      assert.equal(del.status, 200);
    } finally {
      assert.equal((await launcher.stop()).code, 0);
    }
  },
});

/** Runs a command as the unprivileged user `nobody` (root only); its exit code and output. */
async function asNobody(...argv: string[]): Promise<{ code: number; out: string }> {
  const run = await new Deno.Command("setpriv", {
    args: ["--reuid=65534", "--regid=65534", "--clear-groups", ...argv],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: run.code, out: text.decode(run.stdout) + text.decode(run.stderr) };
}

Deno.test("another local user can neither list the session ids nor read the map file", async () => {
  const launcher = await startLauncher((dir) => specConfig(dir, { echo: { cmd: ECHO_APP } }));
  try {
    // As in /var/lib: the folders above the launcher's are open to everyone.
    await Deno.chmod(launcher.dir, 0o755);
    const post = await launcher.post({ application: "echo" });
    assert.equal(post.status, 200);
    const logs = join(launcher.dir, "logs");
    const map = join(launcher.dir, "proxy.map");
    const mode = async (path: string) => (await Deno.stat(path)).mode! & 0o777;
    assert.equal(await mode(logs), 0o700, "the log folder, whose names are the ids");
    assert.equal(await mode(map), 0o640, "the map file, for Apache's group only");
    if (Deno.uid() === 0) {
      const list = await asNobody("ls", logs);
      assert.notEqual(list.code, 0, list.out);
      assert.ok(!list.out.includes(post.json.id as string), "ids listed");
      const read = await asNobody("cat", map);
      assert.notEqual(read.code, 0, read.out);
      assert.ok(!read.out.includes(post.json.id as string), "ids read");
    }
    await launcher.request("DELETE", `${launcher.endpoint}/${post.json.id}`);
  } finally {
    await launcher.stop();
    await Deno.remove(launcher.dir, { recursive: true });
  }
});

Deno.test("the dashboard's log view never reads a link, a FIFO or a hard link put in place of a session's log, and says so", async (t) => {
  const token = "a-dashboard-token-0123456789";
  const launcher = await startLauncher((dir) =>
    specConfig(dir, { echo: { cmd: ECHO_APP } }, { admin_token: token })
  );
  const secret = join(launcher.dir, "secret");
  await Deno.writeTextFile(secret, "root:$6$not-for-the-dashboard\n");
  const replaced: [what: string, put: (log: string) => Promise<void>][] = [
    ["a symbolic link", (log) => Deno.symlink(secret, log)],
    ["a special file", async (log) => {
      const made = await new Deno.Command("mkfifo", { args: [log] }).output();
      assert.ok(made.success);
    }],
    ["a hard link to another file", (log) => Deno.link(secret, log)],
  ];
  try {
    for (const [what, put] of replaced) {
      await t.step(what, async () => {
        const post = await launcher.post({ application: "echo" });
        assert.equal(post.status, 200);
        const log = join(launcher.dir, "logs", `${post.json.id}.log`);
        await Deno.remove(log);
        await put(log);
        const res = await within(
          5000,
          "the log view's answer",
          fetch(`${launcher.base}/_dashboard/api/sessions/${post.json.id}/log`, {
            headers: { authorization: `Bearer ${token}` },
          }),
        );
        const body = await res.text();
        assert.ok(!body.includes("not-for-the-dashboard"), `the dashboard answered ${body}`);
        assert.equal(res.status, 409, body);
        assert.deepEqual(JSON.parse(body), {
          error: `the session's log is ${what}, not a regular file; it is not read`,
        });
        await launcher.waitForLog(new RegExp(`session ${post.json.id}: its log \\S+ is ${what}`));
        await launcher.request("DELETE", `${launcher.endpoint}/${post.json.id}`);
      });
    }
    assert.doesNotMatch(launcher.log, /internal error|failed: /, "no stack trace, no 500");
  } finally {
    await launcher.stop();
    await Deno.remove(launcher.dir, { recursive: true });
  }
});
