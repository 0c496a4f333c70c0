import assert from "node:assert/strict";
import { TrustedProxies } from "../../lib/client/mod.ts";
import { dropHopByHop, forwardedHeaders, forwarding } from "../../lib/proxy/forwarded_headers.ts";

Deno.test("forwardedHeaders() replaces an untrusted peer's forwarded headers and appends the peer", async (t) => {
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
    const out = forwardedHeaders(trusted, req, "203.0.113.9");
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
    const out = forwardedHeaders(trusted, req, "127.0.0.1");
    assert.deepEqual(Object.fromEntries(out), {
      "x-app": "kept",
      "x-forwarded-for": "6.6.6.6, 127.0.0.1",
      "x-forwarded-host": "evil.example",
      "x-forwarded-proto": "https",
      "x-real-ip": "6.6.6.6",
      forwarded: 'for=6.6.6.6, for=127.0.0.1;host="launcher:8080";proto=http',
    });
  });
  await t.step(
    "an untrusted peer over the launcher's own TLS: its forged headers go, https",
    () => {
      const out = forwardedHeaders(trusted, req, "203.0.113.9", true);
      assert.deepEqual(Object.fromEntries(out), {
        "x-app": "kept",
        "x-forwarded-for": "203.0.113.9",
        "x-forwarded-host": "launcher:8080",
        "x-forwarded-proto": "https",
        "x-real-ip": "203.0.113.9",
        forwarded: 'for=203.0.113.9;host="launcher:8080";proto=https',
      });
    },
  );
  await t.step("an IPv6 peer is quoted in Forwarded", () => {
    const out = forwardedHeaders(
      trusted,
      new Request("http://h/", { headers: { host: "h" } }),
      "2001:db8::1",
    );
    assert.equal(out.get("forwarded"), 'for="[2001:db8::1]";host=h;proto=http');
  });
  await t.step("no peer known", () => {
    const out = forwardedHeaders(
      trusted,
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

Deno.test("forwarding() answers the forwarded headers alone, for a WebSocket's handshake", () => {
  const trusted = new TrustedProxies(["127.0.0.0/8"]);
  const req = new Request("http://launcher:8080/proxy/x/ws", {
    headers: { host: "launcher:8080", cookie: "a=1", "x-forwarded-proto": "https" },
  });
  assert.deepEqual(Object.fromEntries(forwarding(trusted, req, "127.0.0.1")), {
    "x-forwarded-for": "127.0.0.1",
    "x-forwarded-host": "launcher:8080",
    "x-forwarded-proto": "https",
    "x-real-ip": "127.0.0.1",
    forwarded: 'for=127.0.0.1;host="launcher:8080";proto=http',
  });
  assert.equal(forwarding(trusted, req, "203.0.113.9").get("x-forwarded-proto"), "http");
  assert.equal(forwarding(trusted, req, "203.0.113.9", true).get("x-forwarded-proto"), "https");
});
