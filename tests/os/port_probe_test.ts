import assert from "node:assert/strict";
import { isLocalHost, localPortProbe } from "../../lib/os/port_probe.ts";

Deno.test("localPortProbe() sees a port that another program listens on", () => {
  const probe = localPortProbe();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  try {
    assert.equal(probe("127.0.0.1", port), false);
  } finally {
    listener.close();
  }
  assert.equal(probe("127.0.0.1", port), true);
});

Deno.test("localPortProbe() reports a port of another machine free without trying it", () => {
  // 192.0.2.0/24 is TEST-NET-1: documentation only, never an address of this machine.
  assert.deepStrictEqual(localPortProbe()("192.0.2.1", 9001), true);
});

Deno.test("isLocalHost() recognises the names and addresses of this machine", async (t) => {
  const local = [
    "localhost",
    "LocalHost",
    "0.0.0.0",
    "127.0.0.1",
    "127.1.2.3",
    "::",
    "::1",
    "[::1]",
    "0:0:0:0:0:0:0:1",
    Deno.hostname(),
    ...Deno.networkInterfaces().map((nic) => nic.address),
  ];
  for (const host of local) {
    await t.step(`${host} is local`, () => assert.deepStrictEqual(isLocalHost(host), true));
  }
  for (const host of ["192.0.2.1", "2001:db8::1", "example.invalid", "128.0.0.1"]) {
    await t.step(`${host} is not local`, () => assert.deepStrictEqual(isLocalHost(host), false));
  }
});
