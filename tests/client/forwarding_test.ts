import assert from "node:assert/strict";
import { dropHopByHop, parseNetwork, TrustedProxies } from "../../lib/client/forwarding.ts";

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

Deno.test("TrustedProxies.forwardedHeaders() replaces an untrusted peer's forwarded headers and appends the peer", async (t) => {
  const forged = {
    host: "launcher:8080",
    "x-forwarded-for": "6.6.6.6",
    "x-forwarded-host": "evil.example",
    "x-forwarded-proto": "https",
    forwarded: "for=6.6.6.6",
    "x-real-ip": "6.6.6.6",
    "x-app": "kept",
  };
  const req = new Request("http://launcher:8080/proxy/x/", { headers: forged });
  const trusted = new TrustedProxies(["127.0.0.0/8"]);
  await t.step("an untrusted peer", () => {
    const out = trusted.forwardedHeaders(req, "203.0.113.9");
    assert.deepEqual(Object.fromEntries(out), {
      "x-app": "kept",
      "x-forwarded-for": "203.0.113.9",
      "x-forwarded-host": "launcher:8080",
      "x-forwarded-proto": "http",
      "x-real-ip": "203.0.113.9",
      forwarded: 'for=203.0.113.9;host="launcher:8080";proto=http',
    });
  });
  await t.step("a trusted peer", () => {
    const out = trusted.forwardedHeaders(req, "127.0.0.1");
    assert.deepEqual(Object.fromEntries(out), {
      "x-app": "kept",
      "x-forwarded-for": "6.6.6.6, 127.0.0.1",
      "x-forwarded-host": "evil.example",
      "x-forwarded-proto": "https",
      "x-real-ip": "6.6.6.6",
      forwarded: 'for=6.6.6.6, for=127.0.0.1;host="launcher:8080";proto=http',
    });
  });
  await t.step("an IPv6 peer is quoted in Forwarded", () => {
    const out = trusted.forwardedHeaders(
      new Request("http://h/", { headers: { host: "h" } }),
      "2001:db8::1",
    );
    assert.equal(out.get("forwarded"), 'for="[2001:db8::1]";host=h;proto=http');
  });
  await t.step("no peer known", () => {
    const out = trusted.forwardedHeaders(
      new Request("http://h/", { headers: { host: "h" } }),
      undefined,
    );
    assert.equal(out.get("x-forwarded-for"), "unknown");
    assert.equal(out.get("forwarded"), "for=unknown;host=h;proto=http");
  });
});

Deno.test("dropHopByHop() removes hop-by-hop headers and those Connection names", () => {
  const headers = new Headers({
    connection: "keep-alive, X-Secret, bad header name, x-other",
    "keep-alive": "timeout=5",
    "x-secret": "1",
    "x-other": "2",
    te: "trailers",
    trailer: "x",
    upgrade: "h2c",
    "proxy-authorization": "Basic x",
    "proxy-authenticate": "Basic",
    "proxy-connection": "keep-alive",
    "transfer-encoding": "chunked",
    "x-kept": "3",
  });
  dropHopByHop(headers);
  assert.deepEqual(Object.fromEntries(headers), { "x-kept": "3" });
});

Deno.test("TrustedProxies.forwarding() answers the forwarded headers alone, for a WebSocket's handshake", () => {
  const trusted = new TrustedProxies(["127.0.0.0/8"]);
  const req = new Request("http://launcher:8080/proxy/x/ws", {
    headers: { host: "launcher:8080", cookie: "a=1", "x-forwarded-proto": "https" },
  });
  assert.deepEqual(Object.fromEntries(trusted.forwarding(req, "127.0.0.1")), {
    "x-forwarded-for": "127.0.0.1",
    "x-forwarded-host": "launcher:8080",
    "x-forwarded-proto": "https",
    "x-real-ip": "127.0.0.1",
    forwarded: 'for=127.0.0.1;host="launcher:8080";proto=http',
  });
  assert.equal(trusted.forwarding(req, "203.0.113.9").get("x-forwarded-proto"), "http");
});
