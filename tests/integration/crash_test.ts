import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type Launcher,
  processRuns,
  restartLauncher,
  specConfig,
  startLauncher,
  within,
} from "./harness.ts";
import { killSessionsIn } from "./procfs.ts";

/** Ready at once. */
const READY = ["sh", "-c", "echo Starting factory; exec sleep 600"];
/** Says its pid, then never prints a ready line. */
const SLOW = ["sh", "-c", "echo started $$$$; exec sleep 600"];

/** Waits, by file events, until `count` logs in `folder` say `started <pid>`; those pids. */
async function startedPids(folder: string, count: number): Promise<number[]> {
  const watcher = Deno.watchFs(folder);
  const scan = async () => {
    const pids: number[] = [];
    for await (const e of Deno.readDir(folder)) {
      const m = (await Deno.readTextFile(join(folder, e.name))).match(/^started (\d+)$/m);
      if (m) pids.push(Number(m[1]));
    }
    return pids;
  };
  try {
    return await within(
      20_000,
      `${count} started sessions`,
      (async () => {
        const events = watcher[Symbol.asyncIterator]();
        for (;;) {
          const pids = await scan();
          if (pids.length >= count) return pids;
          await events.next();
        }
      })(),
    );
  } finally {
    watcher.close();
  }
}

/** Waits, by file events, until the state file records `count` sessions still starting. */
async function recorded(stateFile: string, count: number): Promise<void> {
  const watcher = Deno.watchFs(join(stateFile, ".."));
  const starting = async () => {
    try {
      const state = JSON.parse(await Deno.readTextFile(stateFile));
      return state.sessions.filter((s: { state?: string }) => s.state === "starting").length;
    } catch {
      return 0;
    }
  };
  try {
    await within(
      20_000,
      `${count} sessions recorded as starting`,
      (async () => {
        const events = watcher[Symbol.asyncIterator]();
        while (await starting() < count) await events.next();
      })(),
    );
  } finally {
    watcher.close();
  }
}

function pidsOf(launcher: Launcher, ids: string[]): number[] {
  return ids.map((id) =>
    Number(launcher.log.match(new RegExp(`session ${id} ready: .* pid (\\d+)`))![1])
  );
}

Deno.test("after a SIGKILL in the middle of launches, the next launcher stops every session still starting and adopts the ready ones", async () => {
  const STARTING = 12;
  const first = await startLauncher((dir) =>
    specConfig(dir, { ready: { cmd: READY }, slow: { cmd: SLOW, timeout: 120 } })
  );
  let second: Launcher | undefined;
  const all: number[] = [];
  try {
    const ready = [];
    for (let i = 0; i < 3; i++) ready.push(await first.post({ application: "ready" }));
    const readyIds = ready.map((r) => r.json.id as string);
    all.push(...pidsOf(first, readyIds));
    // Launches the client is still waiting for when the launcher dies.
    const waiting = Array.from(
      { length: STARTING },
      () => first.post({ application: "slow" }).catch((err) => err),
    );
    const starting = await startedPids(join(first.dir, "logs"), STARTING);
    all.push(...starting);
    // A process is recorded within one write of the state file after its spawn.
    await recorded(join(first.dir, "pvw-launcher-state.json"), STARTING);
    await first.stop("SIGKILL");
    await Promise.all(waiting);
    assert.ok(all.every(processRuns), "every session outlived the launcher");

    second = await restartLauncher(first);
    const launcher = second;
    await launcher.waitForLog(/adopted 3 sessions/);
    for (const id of readyIds) {
      assert.equal((await launcher.request("GET", `${launcher.endpoint}/${id}`)).status, 200);
    }
    // Each one still starting is stopped, its end logged.
    await launcher.waitForLog(new RegExp(`(?:launch was cut short[^]*?){${STARTING}}`), 20_000);
    assert.deepEqual(starting.filter(processRuns), [], "a session still starting was left running");
    assert.equal((await launcher.stop()).code, 0);
    assert.deepEqual(all.filter(processRuns), [], "processes outlived a clean stop");
  } finally {
    await second?.stop();
    killSessionsIn(first.dir);
    await Deno.remove(first.dir, { recursive: true });
  }
});

Deno.test("a truncated state file is set aside and kept, said loudly, and what it still holds is adopted", async () => {
  const first = await startLauncher((dir) => specConfig(dir, { ready: { cmd: READY } }));
  let second: Launcher | undefined;
  try {
    const posts = [];
    for (let i = 0; i < 3; i++) posts.push(await first.post({ application: "ready" }));
    const ids = posts.map((p) => p.json.id as string);
    await first.stop("SIGKILL");
    // Cut in the middle of the last session's entry, as a full disk or a crash of a copy would.
    const stateFile = join(first.dir, "pvw-launcher-state.json");
    const text = await Deno.readTextFile(stateFile);
    const cut = text.slice(0, text.indexOf(ids[2]) + 10);
    await Deno.writeTextFile(stateFile, cut);

    second = await restartLauncher(first);
    const m = second.log.match(
      /\[ERR\].*state file \S+ is damaged .*: it was set aside as (\S+) and kept/,
    );
    assert.ok(m, second.log);
    assert.equal(await Deno.readTextFile(m[1]), cut, "the damaged file is kept as it was");
    assert.match(second.log, /2 sessions were read from it; 1 entry could not be/);
    for (const id of ids.slice(0, 2)) {
      assert.equal((await second.request("GET", `${second.endpoint}/${id}`)).status, 200);
    }
    const saved = JSON.parse(await Deno.readTextFile(stateFile));
    assert.deepEqual(
      saved.sessions.map((s: { id: string }) => s.id).sort(),
      ids.slice(0, 2).sort(),
    );
  } finally {
    await second?.stop();
    killSessionsIn(first.dir);
    await Deno.remove(first.dir, { recursive: true });
  }
});

Deno.test("a state file that is not one at all is set aside, and the launcher starts", async () => {
  const first = await startLauncher((dir) => specConfig(dir, { ready: { cmd: READY } }));
  let second: Launcher | undefined;
  try {
    await first.stop();
    const stateFile = join(first.dir, "pvw-launcher-state.json");
    await Deno.writeFile(stateFile, new Uint8Array([0, 0, 0, 0xff, 0x7b]));
    second = await restartLauncher(first);
    const m = second.log.match(/state file \S+ is damaged .*: it was set aside as (\S+) and kept/);
    assert.ok(m, second.log);
    assert.deepEqual(await Deno.readFile(m[1]), new Uint8Array([0, 0, 0, 0xff, 0x7b]));
    assert.match(second.log, /0 sessions were read from it/);
    assert.equal((await second.post({ application: "ready" })).status, 200);
  } finally {
    await second?.stop();
    killSessionsIn(first.dir);
    await Deno.remove(first.dir, { recursive: true });
  }
});
