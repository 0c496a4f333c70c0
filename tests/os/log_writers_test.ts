import assert from "node:assert/strict";
import { join } from "node:path";
import { findLogWriterGroups } from "../../lib/os/mod.ts";
import { killGroup, lineIn, startGroup } from "../process_groups.ts";

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
