import assert from "node:assert/strict";
import { join } from "node:path";
import { findLogWriterGroups } from "../../lib/os/mod.ts";

/** Starts `sh -c script` in a process group of its own, its output to `file`. */
function startGroup(script: string, file: string): Deno.ChildProcess {
  Deno.writeTextFileSync(file, "");
  // Deno.Command cannot hand a file to a child: the shell opens it itself.
  return new Deno.Command("setsid", {
    args: ["sh", "-c", `exec >>'${file}' 2>&1; ${script}`],
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** Waits until a file holds a line, by file events. */
async function lineIn(file: string): Promise<string> {
  const watcher = Deno.watchFs(file);
  try {
    const events = watcher[Symbol.asyncIterator]();
    for (;;) {
      const text = await Deno.readTextFile(file);
      if (text.includes("\n")) return text.trim();
      await events.next();
    }
  } finally {
    watcher.close();
  }
}

function killGroup(pgid: number): void {
  try {
    Deno.kill(-pgid, "SIGKILL");
  } catch {
    // gone
  }
}

Deno.test("findLogWriterGroups() finds the process groups writing to a folder's files, led by a writer or leaderless, and no other", async () => {
  const folder = await Deno.makeTempDir();
  const elsewhere = await Deno.makeTempDir();
  const led = startGroup("exec sleep 600", join(folder, "led.log"));
  // Its leader exits at once; the child it left keeps writing to the folder.
  const leaderless = startGroup("sleep 600 & echo $!", join(folder, "leaderless.log"));
  // A group led by a process writing elsewhere: one member's output is in the folder.
  Deno.writeTextFileSync(join(folder, "member.log"), "");
  const foreign = startGroup(
    `sh -c "exec >>'${join(folder, "member.log")}'; echo started; exec sleep 600" & wait`,
    join(elsewhere, "leader.log"),
  );
  const excluded = startGroup("exec sleep 600", join(folder, "excluded.log"));
  try {
    const orphan = Number(await lineIn(join(folder, "leaderless.log")));
    await leaderless.status;
    await lineIn(join(folder, "member.log"));
    const found = findLogWriterGroups(folder, new Set([excluded.pid]));
    const byName = new Map(found.map((g) => [g.name, g]));
    assert.deepEqual([...byName.keys()].sort(), ["leaderless.log", "led.log"]);
    assert.equal(byName.get("led.log")!.pgid, led.pid);
    assert.deepEqual(byName.get("led.log")!.pids, [led.pid]);
    assert.match(byName.get("led.log")!.identity ?? "", /^\d+$/);
    assert.equal(byName.get("leaderless.log")!.pgid, leaderless.pid);
    assert.deepEqual(byName.get("leaderless.log")!.pids, [orphan]);
    assert.equal(byName.get("leaderless.log")!.identity, undefined);
    assert.deepEqual(findLogWriterGroups(join(folder, "missing")), []);
  } finally {
    for (const child of [led, leaderless, foreign, excluded]) killGroup(child.pid);
    await Promise.all([led.status, foreign.status, excluded.status]);
    await Deno.remove(folder, { recursive: true });
    await Deno.remove(elsewhere, { recursive: true });
  }
});
