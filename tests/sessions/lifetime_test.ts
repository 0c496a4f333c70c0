import assert from "node:assert/strict";
import { deadlines, dueStops, type LifetimeView } from "../../lib/sessions/lifetime.ts";

function view(overrides: Partial<LifetimeView>): LifetimeView {
  return {
    id: "s",
    startedAt: 1000,
    idleTimeoutMs: undefined,
    maxLifetimeMs: undefined,
    connections: 0,
    lastActivityAt: 1000,
    ...overrides,
  };
}

Deno.test("deadlines() gives the idle and lifetime deadlines, null where none applies", async (t) => {
  const cases: [
    string,
    Partial<LifetimeView>,
    { idleStopAt: number | null; lifetimeEndsAt: number | null },
  ][] = [
    ["no limits", {}, { idleStopAt: null, lifetimeEndsAt: null }],
    ["idle limit counts from the last activity", { idleTimeoutMs: 500, lastActivityAt: 4000 }, {
      idleStopAt: 4500,
      lifetimeEndsAt: null,
    }],
    ["an open connection suspends the idle limit", { idleTimeoutMs: 500, connections: 1 }, {
      idleStopAt: null,
      lifetimeEndsAt: null,
    }],
    ["lifetime counts from the start", { maxLifetimeMs: 9000 }, {
      idleStopAt: null,
      lifetimeEndsAt: 10_000,
    }],
  ];
  for (const [name, overrides, expected] of cases) {
    await t.step(name, () => assert.deepEqual(deadlines(view(overrides)), expected));
  }
});

Deno.test("dueStops() lists sessions past a deadline, age before idleness", () => {
  const sessions = [
    view({ id: "fresh", idleTimeoutMs: 500, lastActivityAt: 2000 }),
    view({ id: "idle", idleTimeoutMs: 500, lastActivityAt: 1000 }),
    view({ id: "old", maxLifetimeMs: 1000 }),
    view({ id: "both", idleTimeoutMs: 100, maxLifetimeMs: 100 }),
    view({ id: "busy", idleTimeoutMs: 100, connections: 2 }),
  ];
  assert.deepEqual(dueStops(sessions, 2000), [
    { id: "idle", reason: "idle" },
    { id: "old", reason: "lifetime" },
    { id: "both", reason: "lifetime" },
  ]);
  assert.deepEqual(dueStops(sessions, 1499), [{ id: "both", reason: "lifetime" }]);
});
