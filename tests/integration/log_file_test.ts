import assert from "node:assert/strict";
import { join } from "node:path";
import { ENTRY, specConfig, waitForFile, within } from "./harness.ts";

const IN_CI = !["", "0", "false"].includes((Deno.env.get("CI") ?? "").toLowerCase());

Deno.test("--log-file writes the launcher's log to a file that SIGHUP re-opens after rotation", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pvw-launcher-logfile-" });
  const config = join(dir, "launcher.config");
  const logFile = join(dir, "launcher.log");
  await Deno.writeTextFile(
    config,
    JSON.stringify(
      specConfig(dir, { ready: { cmd: ["sh", "-c", "echo Starting factory; exec sleep 600"] } }),
    ),
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      ENTRY,
      config,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--log-file",
      logFile,
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  try {
    const [, endpoint] = await waitForFile(logFile, /listening on (http:\/\/\S+)/);
    await Deno.rename(logFile, `${logFile}.1`);
    child.kill("SIGHUP");
    await waitForFile(logFile, /SIGHUP: re-opened/);
    const res = await fetch(endpoint, {
      method: "POST",
      body: JSON.stringify({ application: "ready" }),
    });
    const { id } = await res.json();
    await waitForFile(logFile, new RegExp(`session ${id} ready`));
    assert.doesNotMatch(
      await Deno.readTextFile(`${logFile}.1`),
      new RegExp(id),
      "new lines go to the new file",
    );
    assert.match(
      await Deno.readTextFile(`${logFile}.1`),
      /listening on/,
      "old lines stay in the rotated one",
    );
    const del = await fetch(`${endpoint}/${id}`, { method: "DELETE" });
    await del.body?.cancel();
    assert.equal(del.status, 200);
  } finally {
    child.kill("SIGTERM");
    const status = await child.status;
    const stderr = await new Response(child.stderr).text();
    assert.equal(status.code, 0, stderr);
    assert.equal(stderr, "", "nothing goes to stderr with --log-file");
    await Deno.remove(dir, { recursive: true });
  }
});

/** Runs the launcher with `--log-file` until it exits or listens; its exit code and stderr. */
async function startWithLogFile(dir: string, logFile: string) {
  const config = join(dir, "launcher.config");
  await Deno.writeTextFile(config, JSON.stringify(specConfig(dir, {})));
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", ENTRY, config, "--port", "0", "--log-file", logFile],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  try {
    const status = await within(20_000, "the launcher to refuse", child.status);
    return { code: status.code, stderr: await stderr };
  } catch (err) {
    child.kill("SIGKILL");
    await child.status;
    throw new Error(`${(err as Error).message}: ${await stderr}`);
  }
}

Deno.test("--log-file refuses a link, a file of another user or one others may write; it creates 0600", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "pvw-launcher-logfile-" });
  const target = join(dir, "precious");
  const logFile = join(dir, "launcher.log");
  try {
    await t.step("a symbolic link is not followed", async () => {
      await Deno.writeTextFile(target, "precious\n");
      await Deno.symlink(target, logFile);
      const run = await startWithLogFile(dir, logFile);
      assert.equal(run.code, 1);
      assert.match(run.stderr, /cannot open the log file: .*launcher\.log is a symbolic link/);
      assert.equal(await Deno.readTextFile(target), "precious\n", "nothing was appended");
      await Deno.remove(logFile);
    });
    await t.step("a file others may write is refused", async () => {
      await Deno.writeTextFile(logFile, "");
      await Deno.chmod(logFile, 0o622);
      const run = await startWithLogFile(dir, logFile);
      assert.equal(run.code, 1);
      assert.match(run.stderr, /other users may write to it \(mode 0622\); run "chmod 600/);
      assert.equal(await Deno.readTextFile(logFile), "");
      await Deno.remove(logFile);
    });
    await t.step({
      name: "a file another user owns is refused",
      ignore: Deno.uid() !== 0 && !IN_CI,
      fn: async () => {
        assert.equal(Deno.uid(), 0, "run as root to give a file to another user");
        await Deno.writeTextFile(logFile, "");
        await Deno.chown(logFile, 65534, 65534);
        const run = await startWithLogFile(dir, logFile);
        assert.equal(run.code, 1);
        assert.match(run.stderr, /it belongs to user 65534, not to the launcher's user/);
        assert.equal(await Deno.readTextFile(logFile), "");
        await Deno.remove(logFile);
      },
    });
    await t.step("a new file is private to the launcher's user", async () => {
      const fresh = join(dir, "fresh.log");
      const config = join(dir, "launcher.config");
      const launcher = new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-all", ENTRY, config, "--port", "0", "--log-file", fresh],
        stdout: "null",
        stderr: "null",
      }).spawn();
      try {
        await waitForFile(fresh, /listening on/);
        assert.equal((await Deno.stat(fresh)).mode! & 0o777, 0o600);
      } finally {
        launcher.kill("SIGTERM");
        await launcher.status;
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
