import assert from "node:assert/strict";
import { ConnectionGuard } from "../../lib/http/connection_guard.ts";
import type { AcceptedConnection, SocketTable } from "../../lib/os/mod.ts";

/** A socket table the test fills; `shut` lists what the guard shut down. */
class FakeTable implements SocketTable {
  connections: AcceptedConnection[] = [];
  shut: string[] = [];
  descriptors = 10;
  softLimit = 1000;
  #id = 100;
  add(peer: string, port = 8080): AcceptedConnection {
    const conn = {
      fd: this.connections.length + 10,
      id: String(this.#id++),
      peer,
      localPort: port,
    };
    this.connections.push(conn);
    return conn;
  }
  remove(peer: string): void {
    this.connections = this.connections.filter((c) => c.peer !== peer);
  }
  scan(ports: ReadonlySet<number>) {
    return {
      connections: this.connections.filter((c) => ports.has(c.localPort)),
      descriptors: this.descriptors,
    };
  }
  shutdown(conn: AcceptedConnection): boolean {
    this.shut.push(conn.peer);
    this.remove(conn.peer);
    return true;
  }
  limit(): number {
    return this.softLimit;
  }
  open(): number {
    return this.descriptors;
  }
}

function setup(pressure?: number) {
  const table = new FakeTable();
  const clock = { now: 0 };
  const guard = new ConnectionGuard({
    table,
    headerTimeoutMs: 10_000,
    keepAliveTimeoutMs: 30_000,
    now: () => clock.now,
    pressure,
  });
  guard.watch(8080);
  return { table, clock, guard };
}

/** A request on `peer` whose answer is sent when `finish` is called. */
function request(guard: ConnectionGuard, peer: string, status = 200) {
  const [hostname, port] = [peer.slice(0, peer.lastIndexOf(":")), Number(peer.split(":").at(-1))];
  const completed = Promise.withResolvers<void>();
  const answer = guard.serve(
    { remoteAddr: { transport: "tcp", hostname, port }, completed: completed.promise },
    // A WebSocket upgrade's answer has status 101, which `new Response` does not allow.
    () => Promise.resolve({ status } as Response),
  );
  return {
    answer,
    finish: async () => {
      completed.resolve();
      await answer;
      await Promise.resolve();
    },
  };
}

Deno.test("ConnectionGuard closes a connection that sends no request within header_timeout", () => {
  const { table, clock, guard } = setup();
  table.add("10.0.0.1:5000");
  guard.sweep(); // first seen at 0
  clock.now = 9_999;
  assert.equal(guard.sweep().headerTimeout, 0);
  assert.deepEqual(table.shut, []);
  clock.now = 10_000;
  assert.equal(guard.sweep().headerTimeout, 1);
  assert.deepEqual(table.shut, ["10.0.0.1:5000"]);
  assert.deepEqual(guard.counts, { headerTimeout: 1, keepAliveTimeout: 0, shed: 0, cut: 0 });
});

Deno.test("ConnectionGuard never closes a connection whose request is being answered, however long", async () => {
  const { table, clock, guard } = setup();
  table.add("10.0.0.1:5000");
  guard.sweep();
  const req = request(guard, "10.0.0.1:5000");
  for (const t of [10_000, 60_000, 3_600_000]) {
    clock.now = t;
    guard.sweep();
  }
  assert.deepEqual(table.shut, []);
  await req.finish();
  clock.now += 29_999;
  guard.sweep();
  assert.deepEqual(table.shut, [], "kept alive for keepalive_timeout after its answer");
  clock.now += 1;
  assert.equal(guard.sweep().keepAliveTimeout, 1);
  assert.deepEqual(table.shut, ["10.0.0.1:5000"]);
});

Deno.test("ConnectionGuard never closes a connection that became a WebSocket", async () => {
  const { table, clock, guard } = setup();
  table.add("10.0.0.1:5000");
  const ws = request(guard, "10.0.0.1:5000", 101);
  await ws.finish();
  for (const t of [40_000, 3_600_000, 86_400_000]) {
    clock.now = t;
    guard.sweep();
  }
  assert.deepEqual(table.shut, []);
});

Deno.test("ConnectionGuard starts over when a new connection reuses a peer's address", async () => {
  const { table, clock, guard } = setup();
  table.add("10.0.0.1:5000");
  await request(guard, "10.0.0.1:5000", 101).finish();
  guard.sweep();
  // The WebSocket ends, and a new connection comes from the same address and port.
  table.remove("10.0.0.1:5000");
  table.add("10.0.0.1:5000");
  clock.now = 1_000;
  guard.sweep();
  clock.now = 11_000;
  assert.equal(guard.sweep().headerTimeout, 1, "not exempt as the WebSocket was");
});

Deno.test("ConnectionGuard watches only its listeners' ports", () => {
  const { table, clock, guard } = setup();
  table.add("10.0.0.1:5000", 9999); // a connection the launcher made, or another listener's
  guard.sweep();
  clock.now = 100_000;
  guard.sweep();
  assert.deepEqual(table.shut, []);
});

Deno.test("ConnectionGuard sheds connections that sent no request, newest first, when descriptors run short", async () => {
  const { table, clock, guard } = setup();
  table.softLimit = 100;
  const kept = "10.0.0.9:1";
  table.add(kept);
  await request(guard, kept).finish(); // a client that was answered: not shed
  const busy = "10.0.0.9:2";
  table.add(busy);
  request(guard, busy); // in flight: not shed
  for (let i = 0; i < 30; i++) {
    clock.now = i;
    table.add(`10.0.0.1:${6000 + i}`);
    guard.sweep();
  }
  table.descriptors = 89;
  assert.equal(guard.sweep().shed, 0, "below 90% in use");
  table.descriptors = 95;
  const result = guard.sweep();
  assert.equal(result.shed, 15, "down to 80% of the limit");
  assert.deepEqual(
    table.shut,
    Array.from({ length: 15 }, (_, i) => `10.0.0.1:${6029 - i}`),
    "the newest first",
  );
  assert(!table.shut.includes(kept) && !table.shut.includes(busy));
});

Deno.test("ConnectionGuard forgets connections that are gone", () => {
  const { table, clock, guard } = setup();
  table.add("10.0.0.1:5000");
  guard.sweep();
  table.remove("10.0.0.1:5000");
  guard.sweep();
  clock.now = 20_000;
  // The same address again, much later: a new connection, whose clock starts now.
  table.add("10.0.0.1:5000");
  assert.equal(guard.sweep().headerTimeout, 0);
});

Deno.test("ConnectionGuard sweeps a quarter of the shorter timeout apart, from 50 ms to 1 s", () => {
  const table = new FakeTable();
  const interval = (headerTimeoutMs: number, keepAliveTimeoutMs: number) =>
    new ConnectionGuard({ table, headerTimeoutMs, keepAliveTimeoutMs }).intervalMs;
  assert.equal(interval(10_000, 30_000), 1000);
  assert.equal(interval(1000, 30_000), 250);
  assert.equal(interval(30_000, 400), 100);
  assert.equal(interval(100, 100), 50);
});
