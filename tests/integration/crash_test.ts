import assert from "node:assert/strict";
import { join } from "node:path";
import {
  freePortRange,
  type Launcher,
  processRuns,
  restartLauncher,
  specConfig,
  startLauncher,
} from "./harness.ts";
import { killSessionsIn, until } from "./procfs.ts";

/** A mark, in the command line of this file's session processes, that no other test uses. */
const MARK = `pvwcrash${crypto.randomUUID().slice(0, 8)}`;
/** Ready at once. */
const READY = ["bash", "-c", `echo Starting factory; exec -a ${MARK}-ready sleep 600`];
/** Never prints a ready line: its client waits until the launcher dies. */
const SLOW = ["bash", "-c", `exec -a ${MARK}-$port sleep 1000`];
const BURST = 150;

/** The pids of the running processes whose command line holds this file's mark. */
function marked(): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`);
      if (cmdline.startsWith(MARK) && processRuns(Number(entry.name))) {
        pids.push(Number(entry.name));
      }
    } catch {
      // gone while we looked
    }
  }
  return pids;
}

/** How many sessions the state file records now (none when it cannot be read). */
async function recordedCount(stateFile: string): Promise<number> {
  try {
    return JSON.parse(await Deno.readTextFile(stateFile)).sessions.length;
  } catch {
    return 0;
  }
}

Deno.test(`after a SIGKILL in the middle of a burst of ${BURST} launches, the next launcher adopts the ready sessions and stops every other one; a clean stop leaves nothing`, async () => {
  const first = await startLauncher((dir) =>
    specConfig(dir, { ready: { cmd: READY }, slow: { cmd: SLOW, timeout: 120 } }, {
      resources: [{ host: "127.0.0.1", port: freePortRange(BURST + 10) }],
      max_session: BURST + 10,
    })
  );
  let second: Launcher | undefined;
  try {
    const ready = [];
    for (let i = 0; i < 3; i++) ready.push(await first.post({ application: "ready" }));
    const readyIds = ready.map((r) => r.json.id as string);
    // Launches its clients are still waiting for when the launcher dies, many of them spawned
    // a moment ago: the state file is behind the processes.
    const burst = Array.from(
      { length: BURST },
      () => first.post({ application: "slow" }).catch((err) => err),
    );
    await until(() => marked().length >= 3 + 40, 30_000, () => `${marked().length} processes`);
    await first.stop("SIGKILL");
    const orphans = marked();
    const recorded = await recordedCount(join(first.dir, "pvw-launcher-state.json"));
    await Promise.all(burst);
    console.log(
      `at the SIGKILL: ${orphans.length} session processes, ${recorded} in the state file`,
    );
    assert.ok(orphans.length < 3 + BURST, "the SIGKILL came before the burst was over");

    second = await restartLauncher(first);
    const launcher = second;
    await launcher.waitForLog(/adopted 3 sessions/);
    for (const id of readyIds) {
      assert.equal((await launcher.request("GET", `${launcher.endpoint}/${id}`)).status, 200);
    }
    const stray = launcher.log.match(/stopping (\d+) sessions that no state entry names/);
    console.log(`${stray?.[1] ?? 0} sessions found by their logs alone, and stopped`);
    assert.equal((await launcher.stop()).code, 0);
    assert.deepEqual(orphans.filter(processRuns), [], "processes outlived a clean stop");
    assert.deepEqual(marked(), [], "a session process runs on");
  } finally {
    await second?.stop();
    killSessionsIn(first.dir);
    await Deno.remove(first.dir, { recursive: true });
  }
});

Deno.test("a truncated state file is set aside and kept, said loudly, what it still holds is adopted, and the session it lost is found by its log and stopped", async () => {
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
    const lost = Number(first.log.match(new RegExp(`session ${ids[2]} ready: .* pid (\\d+)`))![1]);
    assert.match(second.log, new RegExp(`session ${ids[2]}: stopping process group ${lost}`));
    assert.ok(!processRuns(lost), "the session the damaged file lost runs on");
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
