import assert from "node:assert/strict";
import { join } from "node:path";
import { ECHO_APP, type Launcher, launchOn, mapLines, specConfig } from "./harness.ts";
import { checkNamespaces, freshTmpfs, NO_NAMESPACES } from "./namespace.ts";
import { killSessionsIn } from "./procfs.ts";
import { parseExposition, sampleValue } from "../exposition.ts";

/** Fills a file system: writes `path` until no byte more fits. */
async function fill(path: string): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true });
  try {
    const chunk = new Uint8Array(4096);
    for (;;) await file.write(chunk);
  } catch (err) {
    if (!(err instanceof Error) || !/No space left|ENOSPC|os error 28/.test(err.message)) throw err;
  } finally {
    file.close();
  }
}

async function health(
  launcher: Launcher,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${launcher.base}/healthz`);
  return { status: res.status, body: await res.json() };
}

async function staleMetric(launcher: Launcher): Promise<number | undefined> {
  const text = await (await fetch(`${launcher.base}/metrics`)).text();
  return sampleValue(parseExposition(text), "pvw_launcher_file_stale", { file: "map" });
}

Deno.test({
  name:
    "a map file that cannot be written (a full disk) is retried until it is true, and said so meanwhile",
  ignore: NO_NAMESPACES,
  fn: async () => {
    checkNamespaces();
    const dir = await Deno.makeTempDir({ prefix: "pvw-launcher-test-" });
    const mapFolder = join(dir, "map");
    await Deno.mkdir(mapFolder, { mode: 0o755 });
    const file = join(dir, "launcher.config");
    await Deno.writeTextFile(
      file,
      JSON.stringify(specConfig(dir, { echo: { cmd: ECHO_APP } }, {
        map_file: join(mapFolder, "proxy.map"),
        state_file: join(dir, "state.json"),
      })),
    );
    // The map's folder is a 64 KiB tmpfs, seen by the launcher alone (and through /proc).
    let launcher: Launcher | undefined;
    try {
      launcher = await launchOn(dir, file, [], { wrap: freshTmpfs(mapFolder, "64k") });
      const pid = launcher.process.pid;
      const seen = (path: string) => `/proc/${pid}/root${path}`;
      const map = seen(join(mapFolder, "proxy.map"));
      const a = await launcher.post({ application: "echo" });
      const b = await launcher.post({ application: "echo" });
      assert.deepEqual([a.status, b.status], [200, 200]);
      assert.equal((await mapLines(map)).length, 2);

      await fill(seen(join(mapFolder, "filler")));
      const del = await launcher.request("DELETE", `${launcher.endpoint}/${a.json.id}`);
      assert.equal(del.status, 500, "DELETE must not claim success");
      assert.match(
        String(del.json.error),
        /was stopped, but the map file could not be updated .*retries until it can/,
      );
      assert.equal(
        (await launcher.request("GET", `${launcher.endpoint}/${a.json.id}`)).status,
        404,
      );
      assert.deepEqual(
        (await mapLines(map)).map((l) => l.split(" ")[0]).sort(),
        [a.json.id, b.json.id].sort(),
        "Apache still routes the stopped session: the map could not be changed",
      );
      const failing = await health(launcher);
      assert.equal(failing.status, 503);
      assert.deepEqual(failing.body.problems, ["the map file cannot be written"]);
      assert.equal(failing.body.freePorts, 18, "the stopped session's port is held");
      assert.equal(await staleMetric(launcher), 1);
      const refused = await launcher.post({ application: "echo" });
      assert.equal(refused.status, 503, "no session is started that Apache could not reach");

      await Deno.remove(seen(join(mapFolder, "filler")));
      await launcher.waitForLog(/the map file \S+ is written again/, 10_000);
      assert.deepEqual((await mapLines(map)).map((l) => l.split(" ")[0]), [b.json.id]);
      const ok = await health(launcher);
      assert.equal(ok.status, 200);
      assert.equal(ok.body.status, "ok");
      assert.equal(ok.body.freePorts, 19, "every port but the live session's is free again");
      assert.equal(await staleMetric(launcher), 0);
      await launcher.waitForLog(/\[ERR\].*cannot write the map file/);
      // Said once, where it happened: not again as a failed request with a stack trace.
      assert.doesNotMatch(launcher.log, /request DELETE \S+ failed/);
      const again = await launcher.post({ application: "echo" });
      assert.equal(again.status, 200);
    } finally {
      await launcher?.stop();
      killSessionsIn(dir);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
