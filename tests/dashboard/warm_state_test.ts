import assert from "node:assert/strict";
import { stateReader } from "../../lib/dashboard/state.ts";
import type { SessionInfo } from "../../lib/sessions/mod.ts";
import { Traffic } from "../../lib/sessions/mod.ts";

Deno.test("the dashboard shows warm processes apart from the sessions, and counts their places", () => {
  const session = {
    id: "s1",
    application: "pv",
    host: "localhost",
    port: 9001,
    pid: 42,
    logFile: "/x/s1.log",
    startedAt: 0,
    readyMs: 3,
    state: "ready",
    answer: {},
    traffic: new Traffic(() => 0),
    adopted: false,
    idleTimeoutMs: undefined,
    maxLifetimeMs: undefined,
  } satisfies SessionInfo;
  const read = stateReader({
    sessions: {
      list: () => [session],
      deadlines: () => ({ idleStopAt: null, lifetimeEndsAt: null }),
      warmCounts: () => [
        { application: "pv", target: 3, waiting: 2, starting: 1, hits: 5, misses: 1, failures: 0 },
      ],
    },
    ports: { available: 6, size: 10 },
    failures: { list: () => [] },
    maxSessions: 10,
    now: () => 1000,
  });
  const state = read();
  assert.deepEqual(state.sessions.map((s) => s.id), ["s1"]);
  assert.deepEqual(state.warm, [
    { application: "pv", target: 3, waiting: 2, starting: 1, hits: 5, misses: 1, failures: 0 },
  ]);
  assert.equal(state.capacity.used, 4, "1 session and 3 warm processes hold places");
});
