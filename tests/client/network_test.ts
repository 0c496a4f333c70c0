import assert from "node:assert/strict";
import { isLoopback, parseNetwork, TrustedProxies } from "../../lib/client/network.ts";

Deno.test("parseNetwork() reads addresses and CIDR networks, and nothing else", () => {
  const cases: [string, ReturnType<typeof parseNetwork>][] = [
    ["10.0.0.0/8", { address: "10.0.0.0", prefix: 8, type: "ipv4" }],
    ["192.168.1.7", { address: "192.168.1.7", prefix: 32, type: "ipv4" }],
    ["::1", { address: "::1", prefix: 128, type: "ipv6" }],
    ["[::1]", { address: "::1", prefix: 128, type: "ipv6" }],
    ["fd00::/8", { address: "fd00::", prefix: 8, type: "ipv6" }],
    ["10.0.0.0/33", undefined],
    ["::/129", undefined],
    ["proxy.example.com", undefined],
    ["10.0.0", undefined],
    ["10.0.0.0/", undefined],
    ["*", undefined],
    ["", undefined],
  ];
  for (const [text, expected] of cases) assert.deepEqual(parseNetwork(text), expected, text);
});

Deno.test("TrustedProxies: who is trusted, and who the client is", async (t) => {
  const trusted = new TrustedProxies(["127.0.0.0/8", "::1", "10.0.0.0/8"]);
  await t.step("trusts", () => {
    const cases: [string | undefined, boolean][] = [
      ["127.0.0.1", true],
      ["127.9.9.9", true],
      ["::ffff:127.0.0.1", true],
      ["::1", true],
      ["10.200.0.1", true],
      ["11.0.0.1", false],
      ["203.0.113.9", false],
      ["::2", false],
      ["not an address", false],
      [undefined, false],
    ];
    for (const [address, expected] of cases) {
      assert.equal(trusted.trusts(address), expected, address);
    }
  });
  await t.step("client", () => {
    const cases: [peer: string, xff: string | null, client: string][] = [
      ["203.0.113.9", "6.6.6.6", "203.0.113.9"], // untrusted peer: its header is its own word
      ["127.0.0.1", null, "127.0.0.1"],
      ["127.0.0.1", "203.0.113.9", "203.0.113.9"],
      ["127.0.0.1", "6.6.6.6, 203.0.113.9", "203.0.113.9"], // the client wrote the first
      ["127.0.0.1", "6.6.6.6, 203.0.113.9, 10.0.0.5", "203.0.113.9"], // two trusted hops
      ["127.0.0.1", "10.0.0.5, 10.0.0.6", "10.0.0.5"], // all trusted: the farthest
      ["127.0.0.1", "garbage, 203.0.113.9", "203.0.113.9"],
      ["127.0.0.1", "203.0.113.9, garbage", "127.0.0.1"], // a broken hop ends the walk
    ];
    for (const [peer, xff, client] of cases) {
      const headers = new Headers(xff === null ? {} : { "x-forwarded-for": xff });
      assert.equal(trusted.client(headers, peer), client, `${peer} ${xff}`);
    }
  });
  await t.step("an empty list trusts no one, not even this machine", () => {
    const none = new TrustedProxies([]);
    assert.equal(none.trusts("127.0.0.1"), false);
    assert.equal(
      none.client(new Headers({ "x-forwarded-for": "6.6.6.6" }), "127.0.0.1"),
      "127.0.0.1",
    );
  });
});

Deno.test("isLoopback() is true for 127.0.0.0/8 and ::1 only", () => {
  const cases: [string, boolean][] = [
    ["127.0.0.1", true],
    ["127.255.0.9", true],
    ["::1", true],
    ["0:0:0:0:0:0:0:1", true],
    ["::ffff:127.0.0.1", true],
    ["128.0.0.1", false],
    ["::", false],
    ["0.0.0.0", false],
    ["localhost", false],
    ["192.0.2.1", false],
  ];
  for (const [address, expected] of cases) assert.equal(isLoopback(address), expected, address);
});

Deno.test("TrustedProxies trusts this machine unless told otherwise", () => {
  const trusted = new TrustedProxies();
  assert.deepEqual(["127.0.0.1", "::1", "10.0.0.1"].map((a) => trusted.trusts(a)), [
    true,
    true,
    false,
  ]);
});
