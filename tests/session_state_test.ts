import assert from "node:assert/strict";
import { join } from "node:path";
import { loadState, type SavedSession, StateFile } from "../lib/session_state.ts";

const SESSION: SavedSession = {
  id: "abc",
  application: "viz",
  host: "localhost",
  port: 9001,
  pid: 4242,
  identity: "123456",
  logFile: "/var/log/pvw/abc.log",
  startedAt: 1_700_000_000_000,
  readyMs: 12.5,
  answer: { id: "abc", secret: "s3cret", sessionURL: "ws://x/proxy/abc" },
};

Deno.test("StateFile.save() writes what loadState() reads back, mode 0600", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "state.json");
    let sessions = [SESSION];
    const state = new StateFile(path, () => sessions.map((x) => JSON.stringify(x)));
    await state.save();
    assert.deepEqual(await loadState(path), [SESSION]);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600, "it holds secrets");
    sessions = [];
    await state.save();
    assert.deepEqual(await loadState(path), []);
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name),
      ["state.json"],
      "no temp file left",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadState() reads nothing from a missing file and refuses a foreign one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.deepEqual(await loadState(join(dir, "none.json")), []);
    await Deno.writeTextFile(join(dir, "other.json"), JSON.stringify({ sessions: [] }));
    await assert.rejects(() => loadState(join(dir, "other.json")), /not a pvw-launcher state file/);
    await Deno.writeTextFile(join(dir, "broken.json"), "{");
    await assert.rejects(() => loadState(join(dir, "broken.json")), SyntaxError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadState() skips malformed entries and keeps the good ones", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "state.json");
    const bad = [{ ...SESSION, pid: "4242" }, { ...SESSION, answer: null }, null, 7];
    await Deno.writeTextFile(path, JSON.stringify({ version: 1, sessions: [...bad, SESSION] }));
    assert.deepEqual(await loadState(path), [SESSION]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
