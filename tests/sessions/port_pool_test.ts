import assert from "node:assert/strict";
import type { ResourceRange } from "../../lib/config/mod.ts";
import { NoCapacityError } from "../../lib/sessions/errors.ts";
import { PortPool, type Slot } from "../../lib/sessions/port_pool.ts";

const show = (s: Slot) => `${s.host}:${s.port}`;
const range = (host: string, first: number, last: number): ResourceRange => ({ host, first, last });

/** Acquires `n` slots and returns them as `host:port`. */
function take(pool: PortPool, n: number): string[] {
  return Array.from({ length: n }, () => show(pool.acquire()));
}

Deno.test("PortPool.acquire() hands out slots in config order at first", () => {
  const pool = new PortPool([range("a", 9001, 9003), range("b", 8000, 8001)]);
  assert.deepStrictEqual(take(pool, 5), ["a:9001", "a:9002", "a:9003", "b:8000", "b:8001"]);
});

Deno.test("PortPool.acquire() throws NoCapacityError when every port is taken", () => {
  const pool = new PortPool([range("a", 9001, 9002)]);
  take(pool, 2);
  assert.throws(() => pool.acquire(), (err) => {
    assert(err instanceof NoCapacityError);
    assert.match(err.message, /all 2 ports are in use by sessions/);
    return true;
  });
});

Deno.test("PortPool.acquire() never hands out a slot twice until it is released", () => {
  const pool = new PortPool([range("a", 1, 10_000)]);
  const first = new Set(take(pool, 10_000));
  assert.deepStrictEqual(first.size, 10_000);
  assert.throws(() => pool.acquire(), NoCapacityError);
});

Deno.test("PortPool.acquire() hands out the least recently released slot first", async (t) => {
  await t.step("a released slot waits behind the slots never used", () => {
    const pool = new PortPool([range("a", 9001, 9003)]);
    pool.release(pool.acquire());
    assert.deepStrictEqual(take(pool, 3), ["a:9002", "a:9003", "a:9001"]);
  });
  await t.step("released slots come back in release order", () => {
    const pool = new PortPool([range("a", 9001, 9003)]);
    const [s1, s2, s3] = [pool.acquire(), pool.acquire(), pool.acquire()];
    for (const s of [s2, s3, s1]) pool.release(s);
    assert.deepStrictEqual(take(pool, 3), ["a:9002", "a:9003", "a:9001"]);
  });
});

Deno.test("PortPool.acquire() skips a slot the probe reports busy and retries it last", () => {
  const busy = new Set(["a:9001"]);
  const pool = new PortPool([range("a", 9001, 9003)], (host, port) => !busy.has(`${host}:${port}`));
  assert.deepStrictEqual(show(pool.acquire()), "a:9002");
  busy.clear();
  assert.deepStrictEqual(take(pool, 2), ["a:9003", "a:9001"]);
});

Deno.test("PortPool.acquire() throws NoCapacityError when every free slot is busy", () => {
  const pool = new PortPool([range("a", 9001, 9004)], (_host, port) => port === 9001);
  assert.deepStrictEqual(show(pool.acquire()), "a:9001");
  assert.throws(() => pool.acquire(), (err) => {
    assert(err instanceof NoCapacityError);
    assert.match(err.message, /the 3 ports not used by sessions are taken by other programs/);
    return true;
  });
  assert.deepStrictEqual([pool.available, pool.inUse], [3, 1]);
});

Deno.test("PortPool.acquire() probes only the slot it hands out when that one is free", () => {
  const probed: number[] = [];
  const pool = new PortPool([range("a", 1, 10_000)], (_host, port) => {
    probed.push(port);
    return true;
  });
  for (let i = 0; i < 10_000; i++) pool.release(pool.acquire());
  assert.deepStrictEqual(probed.length, 10_000);
  assert.deepStrictEqual(new Set(probed).size, 10_000, "cycles through every slot, oldest first");
});

Deno.test("PortPool counts its slots: size, available and inUse", () => {
  const pool = new PortPool([range("a", 9001, 9010), range("b", 9001, 9005)]);
  assert.deepStrictEqual([pool.size, pool.available, pool.inUse], [15, 15, 0]);
  const slots = [pool.acquire(), pool.acquire()];
  assert.deepStrictEqual([pool.size, pool.available, pool.inUse], [15, 13, 2]);
  pool.release(slots[0]);
  assert.deepStrictEqual([pool.size, pool.available, pool.inUse], [15, 14, 1]);
});

Deno.test("new PortPool() counts a slot listed in two ranges once", () => {
  const pool = new PortPool([
    range("a", 9001, 9005),
    range("a", 9004, 9008),
    range("b", 9001, 9001),
  ]);
  assert.deepStrictEqual(pool.size, 9);
  assert.deepStrictEqual(new Set(take(pool, 9)).size, 9);
});

Deno.test("new PortPool() throws RangeError for a bad range", async (t) => {
  const cases: [name: string, r: ResourceRange][] = [
    ["first after last", range("a", 9002, 9001)],
    ["port 0", range("a", 0, 10)],
    ["port above 65535", range("a", 65535, 65536)],
    ["fractional port", range("a", 9000.5, 9001)],
    ["NaN", range("a", NaN, 9001)],
  ];
  for (const [name, r] of cases) {
    await t.step(name, () => {
      assert.throws(() => new PortPool([r]), RangeError);
    });
  }
});

Deno.test("new PortPool() with no ranges has no capacity", () => {
  const pool = new PortPool([]);
  assert.deepStrictEqual(pool.size, 0);
  assert.throws(() => pool.acquire(), NoCapacityError);
});

Deno.test("PortPool.release() takes a slot equal to the one handed out", () => {
  const pool = new PortPool([range("a", 9001, 9001)]);
  pool.acquire();
  pool.release({ host: "a", port: 9001 });
  assert.deepStrictEqual(show(pool.acquire()), "a:9001");
});

Deno.test("PortPool.release() throws for a slot that is not in use", async (t) => {
  await t.step("released twice", () => {
    const pool = new PortPool([range("a", 9001, 9002)]);
    const slot = pool.acquire();
    pool.release(slot);
    assert.throws(() => pool.release(slot), /not in use/);
    assert.deepStrictEqual(pool.available, 2);
  });
  await t.step("never handed out", () => {
    const pool = new PortPool([range("a", 9001, 9002)]);
    assert.throws(() => pool.release({ host: "a", port: 9002 }), /not in use/);
  });
  await t.step("in no range", () => {
    const pool = new PortPool([range("a", 9001, 9002)]);
    assert.throws(() => pool.release({ host: "b", port: 9001 }), /not in use/);
  });
});

Deno.test("PortPool.reserve() takes a given free slot without probing", () => {
  const pool = new PortPool([range("a", 9001, 9003)], () => {
    throw new Error("reserve() must not probe");
  });
  assert.deepStrictEqual(pool.reserve("a", 9002), true);
  assert.deepStrictEqual([pool.available, pool.inUse], [2, 1]);
});

Deno.test("PortPool.reserve() keeps the slot from acquire() until released", () => {
  const pool = new PortPool([range("a", 9001, 9003)]);
  assert(pool.reserve("a", 9001));
  assert.deepStrictEqual(take(pool, 2), ["a:9002", "a:9003"]);
  assert.throws(() => pool.acquire(), NoCapacityError);
  pool.release({ host: "a", port: 9001 });
  assert.deepStrictEqual(show(pool.acquire()), "a:9001");
});

Deno.test("PortPool.reserve() answers false for a slot in use or in no range", async (t) => {
  const pool = new PortPool([range("a", 9001, 9003)]);
  const slot = pool.acquire();
  const cases: [name: string, host: string, port: number][] = [
    ["acquired", slot.host, slot.port],
    ["other host", "b", 9002],
    ["port below the range", "a", 9000],
    ["port above the range", "a", 9004],
  ];
  for (const [name, host, port] of cases) {
    await t.step(name, () => assert.deepStrictEqual(pool.reserve(host, port), false));
  }
  await t.step("reserved already", () => {
    assert(pool.reserve("a", 9003));
    assert.deepStrictEqual(pool.reserve("a", 9003), false);
  });
  assert.deepStrictEqual(pool.inUse, 2);
});
