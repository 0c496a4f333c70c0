import assert from "node:assert/strict";
import { join } from "node:path";
import { resumeSessions, type SavedSession, type SessionInfo } from "../../lib/sessions/mod.ts";

/** What resumeSessions() sees of the session table: it adopts what it is told to. */
function table(adopted: number, states: SessionInfo["state"][]) {
  return {
    adopt: (_saved: SavedSession[]) => Promise.resolve({ adopted, stopped: 0, dropped: 0 }),
    list: () => states.map((state, i) => ({ id: `s${i}`, state, pid: undefined }) as SessionInfo),
    warmProcesses: () => [],
  };
}

Deno.test("resumeSessions() empties the previous launcher's map unless a ready session was adopted (a queued job has no line)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cases: [number, SessionInfo["state"][], number][] = [
      [0, [], 1],
      [1, ["starting"], 1], // a Slurm job still queued or starting: adopted, but no map line
      [1, ["ready"], 0], // its line was written, and the file rewritten with it
    ];
    for (const [adopted, states, clears] of cases) {
      let cleared = 0;
      const map = { clear: () => Promise.resolve(void cleared++) };
      const ok = await resumeSessions(table(adopted, states), {
        stateFile: join(dir, "state.json"),
        map,
      });
      assert.equal(ok, true);
      assert.equal(
        cleared,
        clears,
        `${adopted} adopted, ${states.join(",") || "none"} in the table`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
