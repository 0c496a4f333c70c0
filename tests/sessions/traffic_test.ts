import assert from "node:assert/strict";
import { Traffic } from "../../lib/sessions/traffic.ts";

/** A clock that moves only when the test says so. */
function manualClock(start = 1_700_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => now += ms };
}

Deno.test("Traffic starts at zero, last active when it was made", () => {
  const clock = manualClock();
  const traffic = new Traffic(clock.now);
  assert.deepEqual(traffic.snapshot(), {
    connections: 0,
    connectionsTotal: 0,
    bytesToSession: 0,
    bytesFromSession: 0,
    lastActivityAt: 1_700_000_000_000,
  });
  assert.equal(traffic.connections, 0);
  assert.equal(traffic.lastActivityAt, 1_700_000_000_000);
});

Deno.test("Traffic counts open and total connections", () => {
  const traffic = new Traffic(manualClock().now);
  traffic.opened();
  traffic.opened();
  traffic.closed();
  traffic.opened();
  assert.equal(traffic.connections, 2);
  assert.deepEqual(
    [traffic.snapshot().connections, traffic.snapshot().connectionsTotal],
    [2, 3],
  );
  traffic.closed();
  traffic.closed();
  assert.deepEqual(
    [traffic.snapshot().connections, traffic.snapshot().connectionsTotal],
    [0, 3],
  );
});

Deno.test("Traffic adds up bytes each way separately", () => {
  const traffic = new Traffic(manualClock().now);
  traffic.toSession(10);
  traffic.fromSession(1000);
  traffic.toSession(5);
  traffic.fromSession(0);
  const { bytesToSession, bytesFromSession } = traffic.snapshot();
  assert.deepEqual([bytesToSession, bytesFromSession], [15, 1000]);
});

Deno.test("Traffic records the clock's time at every event", async (t) => {
  const events: [name: string, act: (traffic: Traffic) => void][] = [
    ["opened()", (x) => x.opened()],
    ["closed()", (x) => x.closed()],
    ["toSession()", (x) => x.toSession(1)],
    ["fromSession()", (x) => x.fromSession(1)],
  ];
  for (const [name, act] of events) {
    await t.step(name, () => {
      const clock = manualClock();
      const traffic = new Traffic(clock.now);
      const at = clock.advance(60_000);
      act(traffic);
      assert.equal(traffic.lastActivityAt, at);
      assert.equal(traffic.snapshot().lastActivityAt, at);
    });
  }
  await t.step("reading the counters is no activity", () => {
    const clock = manualClock();
    const traffic = new Traffic(clock.now);
    traffic.opened();
    const at = clock.now();
    clock.advance(5_000);
    assert.equal(traffic.snapshot().connections, 1);
    assert.equal(traffic.connections, 1);
    assert.equal(traffic.lastActivityAt, at);
  });
});

Deno.test("Traffic.snapshot() is a copy that later events do not change", () => {
  const traffic = new Traffic(manualClock().now);
  const before = traffic.snapshot();
  traffic.opened();
  traffic.toSession(3);
  assert.deepEqual([before.connections, before.bytesToSession], [0, 0]);
});
