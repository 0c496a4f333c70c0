import assert from "node:assert/strict";
import { join } from "node:path";
import {
  readState,
  type SavedReady,
  type SavedSession,
  type SavedStarting,
  StateFile,
} from "../../lib/sessions/state_file.ts";

const SESSION: SavedReady = {
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

const STARTING: SavedStarting = {
  id: "def",
  application: "viz",
  host: "localhost",
  port: 9002,
  pid: 4343,
  identity: "123999",
  logFile: "/var/log/pvw/def.log",
  startedAt: 1_700_000_000_500,
  state: "starting",
};

const NOW = () => new Date("2026-11-29T10:00:00.000Z");
const ASIDE = "state.json.damaged-2026-11-29T10-00-00-000Z";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

Deno.test("StateFile.save() writes what readState() reads back, mode 0600, ready and starting sessions", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "state.json");
    let sessions: SavedSession[] = [SESSION, STARTING];
    const state = new StateFile(path, () => sessions.map((x) => JSON.stringify(x)));
    await state.save();
    assert.deepEqual(await readState(path), { sessions: [SESSION, STARTING], skipped: 0 });
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600, "it holds secrets");
    sessions = [];
    await state.save();
    assert.deepEqual((await readState(path)).sessions, []);
    assert.deepEqual(names(dir), ["state.json"], "no temp file left");
  });
});

Deno.test("readState() reads nothing from a missing file", async () => {
  await withDir(async (dir) => {
    assert.deepEqual(await readState(join(dir, "none.json")), { sessions: [], skipped: 0 });
  });
});

Deno.test("readState() leaves out malformed entries of a sound file and counts them", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "state.json");
    const bad = [{ ...SESSION, pid: "4242" }, { ...SESSION, answer: null }, null, 7];
    await Deno.writeTextFile(path, JSON.stringify({ version: 1, sessions: [...bad, SESSION] }));
    assert.deepEqual(await readState(path), { sessions: [SESSION], skipped: 4 });
  });
});

Deno.test("readState() sets a damaged file aside, keeps it as it was, and reads what it can", async (t) => {
  const whole = JSON.stringify({ version: 1, sessions: [SESSION, STARTING, SESSION] });
  const cases: [string, string, SavedSession[], number, RegExp][] = [
    [
      "cut in the middle of an entry",
      whole.slice(0, whole.lastIndexOf('"answer"') + 12),
      [SESSION, STARTING],
      1,
      /^it is not whole JSON/,
    ],
    [
      "cut between entries",
      `{"version":1,"sessions":[${JSON.stringify(SESSION)},${JSON.stringify(STARTING)},`,
      [SESSION, STARTING],
      0,
      /JSON/,
    ],
    ["not JSON at all", "\0\0\0\u00ff{", [], 0, /^it is not whole JSON/],
    [
      "another version",
      JSON.stringify({ version: 2, sessions: [SESSION] }),
      [SESSION],
      0,
      /^it is not a pvw-launcher state file of version 1$/,
    ],
    ["not a state file", JSON.stringify({ sessions: "x" }), [], 0, /not a pvw-launcher state/],
  ];
  for (const [name, text, recovered, unreadable, reason] of cases) {
    await t.step(name, async () => {
      await withDir(async (dir) => {
        const path = join(dir, "state.json");
        await Deno.writeTextFile(path, text);
        const loaded = await readState(path, { now: NOW });
        assert.deepEqual(loaded.sessions, recovered);
        assert.equal(loaded.damage?.setAside, join(dir, ASIDE));
        assert.equal(loaded.damage?.unreadable, unreadable);
        assert.match(loaded.damage!.reason, reason);
        assert.deepEqual(names(dir), [ASIDE], "moved, not copied");
        assert.equal(await Deno.readTextFile(join(dir, ASIDE)), text, "kept as it was");
      });
    });
  }
});

Deno.test("StateFile.save() asks its writer for a durable write unless told not to; one durable request makes the write durable", async () => {
  const calls: (boolean | undefined)[] = [];
  const state = new StateFile("state.json", () => [], (_p, _t, durable) => {
    calls.push(durable);
    return Promise.resolve();
  });
  await state.save();
  await state.save(false);
  await Promise.all([state.save(false), state.save(true)]);
  assert.deepEqual(calls, [true, false, true]);
});
