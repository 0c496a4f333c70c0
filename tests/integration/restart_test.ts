import assert from "node:assert/strict";
import { join } from "node:path";
import {
  ECHO_APP,
  type Launcher,
  mapLines,
  processRuns,
  restartLauncher,
  specConfig,
  startLauncher,
  within,
} from "./harness.ts";

const TREE = ["sh", "-c", "sleep 600 & echo child $$!; echo Starting factory; wait"];
const ECHO = ECHO_APP;

async function grandchild(launcher: Launcher, id: string): Promise<number> {
  const log = await Deno.readTextFile(join(launcher.dir, "logs", `${id}.log`));
  return Number(log.match(/child (\d+)/)![1]);
}

function pidOf(launcher: Launcher, id: string): number {
  return Number(launcher.log.match(new RegExp(`session ${id} ready: .* pid (\\d+)`))![1]);
}

Deno.test("sessions survive a SIGKILLed launcher and are adopted by the next one", async (t) => {
  const first = await startLauncher((dir) =>
    specConfig(dir, { tree: { cmd: TREE }, echo: { cmd: ECHO } })
  );
  let second: Launcher | undefined;
  try {
    const kept = await first.post({ application: "tree" });
    const dies = await first.post({ application: "tree" });
    const echo = await first.post({ application: "echo" });
    for (const p of [kept, dies, echo]) assert.equal(p.status, 200);
    const keptChild = await grandchild(first, kept.json.id as string);
    const diesPid = pidOf(first, dies.json.id as string);
    const echoPid = pidOf(first, echo.json.id as string);
    await first.stop("SIGKILL");
    Deno.kill(-diesPid, "SIGKILL");
    await within(
      10_000,
      "the killed session to go",
      (async () => {
        while (processRuns(diesPid)) await new Promise((r) => setTimeout(r, 20));
      })(),
    );
    assert.ok(processRuns(keptChild) && processRuns(echoPid), "sessions outlive the launcher");

    second = await restartLauncher(first);
    const launcher = second;
    await t.step("live sessions are adopted, the dead one dropped", async () => {
      assert.match(launcher.log, /adopted 2 sessions, dropped 1/);
      const get = await launcher.request("GET", `${launcher.endpoint}/${kept.json.id}`);
      assert.equal(get.status, 200);
      assert.equal(get.json.secret, kept.json.secret);
      const gone = await launcher.request("GET", `${launcher.endpoint}/${dies.json.id}`);
      assert.equal(gone.status, 404);
    });
    await t.step("the map file is made true", async () => {
      const lines = await mapLines(join(launcher.dir, "proxy.map"));
      assert.deepEqual(
        lines.map((l) => l.split(" ")[0]).sort(),
        [kept.json.id, echo.json.id].sort(),
      );
    });
    await t.step("the proxy routes an adopted session", async () => {
      const ws = new WebSocket(`ws${launcher.base.slice(4)}/proxy/${echo.json.id}/`);
      await within(5000, "open", new Promise((r) => ws.onopen = r));
      const got = new Promise<string>((r) => ws.onmessage = (e) => r(e.data));
      ws.send("still there");
      assert.equal(await within(5000, "echo", got), "still there");
      const closed = new Promise((r) => ws.onclose = r);
      ws.close();
      await closed;
    });
    await t.step("DELETE stops an adopted session's whole tree", async () => {
      const del = await launcher.request("DELETE", `${launcher.endpoint}/${kept.json.id}`);
      assert.equal(del.status, 200);
      assert.ok(!processRuns(keptChild), "the grandchild is gone");
    });
    await t.step("an adopted session that exits by itself is noticed and removed", async () => {
      Deno.kill(-echoPid, "SIGKILL");
      await launcher.waitForLog(new RegExp(`session ${echo.json.id} ended`), 10_000);
      assert.deepEqual(await mapLines(join(launcher.dir, "proxy.map")), []);
    });
    await t.step("the ports of dropped and ended sessions are free again", async () => {
      const posts = await Promise.all(
        Array.from({ length: 20 }, () => launcher.post({ application: "tree" })),
      );
      assert.equal(posts.filter((p) => p.status === 200).length, 20);
      await Promise.all(
        posts.map((p) => launcher.request("DELETE", `${launcher.endpoint}/${p.json.id}`)),
      );
    });
  } finally {
    await second?.stop();
    await Deno.remove(first.dir, { recursive: true });
  }
});

Deno.test("a pid reused by another process is never taken for a session", async () => {
  const first = await startLauncher((dir) => specConfig(dir, { tree: { cmd: TREE } }));
  const stranger = new Deno.Command("sleep", { args: ["600"] }).spawn();
  let second: Launcher | undefined;
  try {
    await first.stop("SIGKILL");
    const stateFile = join(first.dir, "pvw-launcher-state.json");
    const state = JSON.parse(await Deno.readTextFile(stateFile));
    state.sessions.push({
      id: "stale",
      application: "tree",
      host: "127.0.0.1",
      port: 1,
      pid: stranger.pid,
      identity: "1",
      logFile: join(first.dir, "logs", "stale.log"),
      startedAt: Date.now(),
      readyMs: 1,
      answer: { id: "stale" },
    });
    await Deno.writeTextFile(stateFile, JSON.stringify(state));
    second = await restartLauncher(first);
    assert.match(second.log, /adopted 0 sessions, dropped 1/);
    assert.equal((await second.request("GET", `${second.endpoint}/stale`)).status, 404);
    assert.ok(processRuns(stranger.pid), "the unrelated process is left alone");
  } finally {
    stranger.kill("SIGKILL");
    await stranger.status;
    await second?.stop();
    await Deno.remove(first.dir, { recursive: true });
  }
});

Deno.test("--keep-sessions leaves sessions running on SIGTERM for the next launcher", async () => {
  const first = await startLauncher(
    (dir) => specConfig(dir, { tree: { cmd: TREE }, other: { cmd: TREE } }),
    ["--keep-sessions"],
  );
  let second: Launcher | undefined;
  try {
    const a = await first.post({ application: "tree" });
    const b = await first.post({ application: "other" });
    const child = await grandchild(first, a.json.id as string);
    assert.equal((await first.stop("SIGTERM")).code, 0);
    assert.ok(processRuns(child), "the session runs on");
    assert.equal(
      (await mapLines(join(first.dir, "proxy.map"))).length,
      2,
      "routes stay for Apache",
    );
    // The next launcher's config no longer has "other": its session is kept until it ends.
    const config = JSON.parse(await Deno.readTextFile(first.configFile));
    delete config.applications.other;
    await Deno.writeTextFile(first.configFile, JSON.stringify(config));
    second = await restartLauncher(first);
    assert.match(second.log, /adopted 2 sessions, dropped 0/);
    assert.match(second.log, /application other is no longer configured; it runs on until it ends/);
    const fresh = await second.post({ application: "tree" });
    assert.equal(fresh.status, 200);
    await second.request("DELETE", `${second.endpoint}/${fresh.json.id}`);
    for (const s of [a, b]) {
      assert.equal((await second.request("DELETE", `${second.endpoint}/${s.json.id}`)).status, 200);
    }
    assert.ok(!processRuns(child));
  } finally {
    await second?.stop();
    await Deno.remove(first.dir, { recursive: true });
  }
});
