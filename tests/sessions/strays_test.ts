import assert from "node:assert/strict";
import { join } from "node:path";
import { createProcessSpawner, findLogWriterGroups } from "../../lib/os/mod.ts";
import { stopStraySessions } from "../../lib/sessions/mod.ts";
import { killGroup, lineIn, startGroup } from "../process_groups.ts";

function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

Deno.test("stopStraySessions() stops a stray session's group, but not a known session's, a warm process's or a Slurm job's", async () => {
  const folder = await Deno.makeTempDir();
  const ids = ["strayaaaaaaaaaaa", "knownbyidaaaaaaa", "warmbypgidaaaaaa", "slurmjobaaaaaaaa"];
  const [stray, knownById, warm, job] = ids.map((id) =>
    startGroup(
      "echo up; exec sleep 600",
      join(folder, `${id}.log`),
      id.startsWith("slurm") ? { SLURM_JOB_ID: "4242" } : {},
    )
  );
  try {
    await Promise.all(ids.map((id) => lineIn(join(folder, `${id}.log`))));
    const found = findLogWriterGroups(folder);
    assert.equal(found.find((g) => g.pgid === job.pid)?.job, "4242");
    assert.equal(found.find((g) => g.pgid === stray.pid)?.job, undefined);

    const outcome = await stopStraySessions(
      { pgids: [warm.pid], ids: new Set(["knownbyidaaaaaaa", "warmbypgidaaaaaa"]) },
      {
        find: (exclude) => findLogWriterGroups(folder, exclude),
        spawner: createProcessSpawner(),
        times: { graceMs: 2000, killWaitMs: 2000 },
      },
    );
    assert.deepEqual(outcome, { stopped: 1, survived: 0 });
    assert.equal((await stray.status).signal, "SIGTERM");
    assert.deepEqual([knownById, warm, job].map((c) => alive(c.pid)), [true, true, true]);
  } finally {
    for (const child of [stray, knownById, warm, job]) killGroup(child.pid);
    await Promise.all([stray, knownById, warm, job].map((c) => c.status));
    await Deno.remove(folder, { recursive: true });
  }
});
