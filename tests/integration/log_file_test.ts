import assert from "node:assert/strict";
import { join } from "node:path";
import { ENTRY, specConfig, within } from "./harness.ts";

/** Waits until the file at `path` matches `pattern`, woken by file events. */
async function waitForFile(path: string, pattern: RegExp): Promise<string> {
  const read = () => Deno.readTextFile(path).catch(() => "");
  const watcher = Deno.watchFs(join(path, ".."));
  try {
    return await within(
      10_000,
      `${pattern} in ${path}`,
      (async () => {
        let text = await read();
        if (pattern.test(text)) return text;
        for await (const _ of watcher) {
          text = await read();
          if (pattern.test(text)) return text;
        }
        throw new Error("watcher ended");
      })(),
    );
  } finally {
    watcher.close();
  }
}

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
    const first = await waitForFile(logFile, /listening on (http:\/\/\S+)/);
    const endpoint = first.match(/listening on (http:\/\/\S+)/)![1];
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
