import assert from "node:assert/strict";
import { NoCapacityError } from "../../lib/sessions/errors.ts";
import { createPool, SpreadPool } from "../../lib/sessions/placement.ts";
import { PortPool } from "../../lib/sessions/port_pool.ts";

const TWO_HOSTS = [
  { host: "a", first: 9001, last: 9003 },
  { host: "b", first: 9001, last: 9002 },
  { host: "c", first: 9001, last: 9001 },
];
const show = (s: { host: string; port: number }) => `${s.host}:${s.port}`;

Deno.test("spread puts each session on the host with the fewest, in the resources' order on a tie", () => {
  const pool = createPool(TWO_HOSTS, "spread");
  assert.ok(pool instanceof SpreadPool);
  const taken = [1, 2, 3, 4].map(() => pool.acquire());
  assert.deepEqual(taken.map(show), ["a:9001", "b:9001", "c:9001", "a:9002"]);
  pool.release(taken[1]);
  assert.equal(show(pool.acquire()), "b:9002", "b has the fewest again");
  assert.equal(show(pool.acquire()), "b:9001", "c is full, and b has fewer than a");
  assert.equal(show(pool.acquire()), "a:9003");
  assert.throws(() => pool.acquire(), NoCapacityError);
  assert.deepEqual([pool.size, pool.available, pool.inUse], [6, 0, 6]);
});

Deno.test("pack takes the ports in the ranges' order, as before", () => {
  const pool = createPool(TWO_HOSTS, "pack");
  assert.ok(pool instanceof PortPool);
  assert.deepEqual([1, 2, 3, 4].map(() => show(pool.acquire())), [
    "a:9001",
    "a:9002",
    "a:9003",
    "b:9001",
  ]);
});

Deno.test("spread is the default with several hosts; one host is a plain pool", () => {
  assert.ok(createPool(TWO_HOSTS) instanceof SpreadPool);
  assert.ok(createPool([{ host: "a", first: 1, last: 2 }]) instanceof PortPool);
});

Deno.test("spread passes over a host whose free ports other programs hold, and reserves adopted slots", () => {
  const busy = new Set(["a:9001", "a:9002", "a:9003"]);
  const pool = new SpreadPool(TWO_HOSTS, (host, port) => !busy.has(`${host}:${port}`));
  assert.equal(show(pool.acquire()), "b:9001");
  assert.equal(show(pool.acquire()), "c:9001");
  assert.ok(pool.reserve("b", 9002));
  assert.equal(pool.reserve("b", 9002), false, "taken already");
  assert.equal(pool.reserve("z", 9002), false, "no such host");
  assert.throws(() => pool.acquire(), /taken by other programs/);
});
