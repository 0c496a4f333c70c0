/**
 * What a session's app learns of the client through the built-in proxy: forwarded headers
 * only from trusted proxies, the real peer appended, hop-by-hop headers dropped. Requests are
 * written byte for byte on a TCP connection, as a client (or a TLS terminator) would send them.
 */

import assert from "node:assert/strict";
import { ECHO_APP, type Launcher, specConfig, startLauncher } from "./harness.ts";
import { RawConnection } from "./raw_http.ts";

/** Sends a GET through the proxy with these header lines and answers what the app received. */
async function seenByApp(
  launcher: Launcher,
  id: string,
  lines: string[],
): Promise<Record<string, string>> {
  const conn = await RawConnection.open(Number(new URL(launcher.base).port));
  try {
    await conn.write(
      [`GET /proxy/${id}/echo HTTP/1.1`, "Host: launcher.test:8080", ...lines, "", ""].join("\r\n"),
    );
    const answer = await conn.answer();
    assert.equal(answer.status, 200);
    return JSON.parse(new TextDecoder().decode(answer.body)).headers;
  } finally {
    conn.close();
  }
}

const FORGED = [
  "X-Forwarded-For: 6.6.6.6",
  "X-Forwarded-Host: evil.example",
  "X-Forwarded-Proto: https",
  "Forwarded: for=6.6.6.6;host=evil.example;proto=https",
  "X-Real-IP: 6.6.6.6",
];

async function withEcho(
  extra: Record<string, unknown>,
  fn: (launcher: Launcher, id: string) => Promise<void>,
): Promise<void> {
  const launcher = await startLauncher((dir) =>
    specConfig(dir, { echo: { cmd: ECHO_APP } }, extra)
  );
  try {
    const post = await launcher.post({ application: "echo" });
    assert.equal(post.status, 200, JSON.stringify(post.json));
    await fn(launcher, String(post.json.id));
  } finally {
    await launcher.stop();
    await Deno.remove(launcher.dir, { recursive: true });
  }
}

Deno.test("a client that is no trusted proxy cannot forge forwarded headers: the app sees the real peer", async () => {
  await withEcho({ trusted_proxies: [] }, async (launcher, id) => {
    const headers = await seenByApp(launcher, id, FORGED);
    assert.equal(headers["x-forwarded-for"], "127.0.0.1");
    assert.equal(headers["x-real-ip"], "127.0.0.1");
    assert.equal(headers["x-forwarded-host"], "launcher.test:8080");
    assert.equal(headers["x-forwarded-proto"], "http");
    assert.equal(headers["forwarded"], 'for=127.0.0.1;host="launcher.test:8080";proto=http');
    assert.doesNotMatch(JSON.stringify(headers), /6\.6\.6\.6|evil\.example|https/);
  });
});

Deno.test("behind a trusted TLS terminator the app sees the browser's scheme, host and address, and the hop", async () => {
  // The default trusts this machine: a terminator (stunnel, nginx) on the launcher's host.
  await withEcho({}, async (launcher, id) => {
    const headers = await seenByApp(launcher, id, [
      "X-Forwarded-For: 203.0.113.9",
      "X-Forwarded-Host: viz.example.org",
      "X-Forwarded-Proto: https",
      "Forwarded: for=203.0.113.9;host=viz.example.org;proto=https",
    ]);
    assert.equal(headers["x-forwarded-for"], "203.0.113.9, 127.0.0.1");
    assert.equal(headers["x-forwarded-host"], "viz.example.org");
    assert.equal(headers["x-forwarded-proto"], "https");
    assert.equal(headers["x-real-ip"], "203.0.113.9");
    assert.equal(
      headers["forwarded"],
      'for=203.0.113.9;host=viz.example.org;proto=https, for=127.0.0.1;host="launcher.test:8080";proto=http',
    );
  });
});

Deno.test("hop-by-hop headers, and the headers Connection names, are not passed to the app", async () => {
  await withEcho({}, async (launcher, id) => {
    const headers = await seenByApp(launcher, id, [
      "Connection: keep-alive, X-Hop-Secret, x-other-hop",
      "Keep-Alive: timeout=5",
      "X-Hop-Secret: for this hop only",
      "X-Other-Hop: also",
      "Proxy-Authorization: Basic dXNlcjpwYXNz",
      "Proxy-Connection: keep-alive",
      "TE: trailers",
      "X-Kept: yes",
    ]);
    for (
      const name of [
        "x-hop-secret",
        "x-other-hop",
        "proxy-authorization",
        "proxy-connection",
        "keep-alive",
        "te",
      ]
    ) {
      assert.equal(headers[name], undefined, name);
    }
    assert.equal(headers["x-kept"], "yes");
  });
});

/** Opens a proxied WebSocket with these header lines and answers the handshake the app got. */
async function handshakeSeenByApp(
  launcher: Launcher,
  id: string,
  lines: string[],
): Promise<Record<string, string>> {
  const conn = await RawConnection.open(Number(new URL(launcher.base).port));
  try {
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    await conn.write([
      `GET /proxy/${id}/headers HTTP/1.1`,
      "Host: launcher.test:8080",
      "Upgrade: websocket",
      "Connection: Upgrade",
      `Sec-WebSocket-Key: ${key}`,
      "Sec-WebSocket-Version: 13",
      ...lines,
      "",
      "",
    ].join("\r\n"));
    const buf = new Uint8Array(64 * 1024);
    let received = new Uint8Array();
    while (!new TextDecoder().decode(received).includes("\r\n\r\n")) {
      const n = await conn.conn.read(buf);
      if (n === null) throw new Error("closed during the handshake");
      received = new Uint8Array([...received, ...buf.subarray(0, n)]);
    }
    assert.match(new TextDecoder().decode(received), /^HTTP\/1\.1 101/);
    // A masked text frame, as a client sends: the app answers it with what it was sent.
    const payload = new TextEncoder().encode("headers?");
    const mask = crypto.getRandomValues(new Uint8Array(4));
    await conn.write(
      new Uint8Array([
        0x81,
        0x80 | payload.length,
        ...mask,
        ...payload.map((b, i) => b ^ mask[i % 4]),
      ]),
    );
    const frame = (): string | undefined => {
      const head = new TextDecoder().decode(received).indexOf("\r\n\r\n");
      if (head < 0) return undefined;
      const bytes = received.subarray(head + 4);
      if (bytes.length < 2) return undefined;
      let length = bytes[1] & 0x7f, start = 2;
      if (length === 126) [length, start] = [(bytes[2] << 8) | bytes[3], 4];
      if (bytes.length < start + length) return undefined;
      return new TextDecoder().decode(bytes.subarray(start, start + length));
    };
    let text: string | undefined;
    while ((text = frame()) === undefined) {
      const n = await conn.conn.read(buf);
      if (n === null) throw new Error("closed before the app's first frame");
      received = new Uint8Array([...received, ...buf.subarray(0, n)]);
    }
    return JSON.parse(text);
  } finally {
    conn.close();
  }
}

Deno.test("a proxied WebSocket's handshake carries the same forwarded headers, by the same rules", async (t) => {
  await t.step("from a client that is no trusted proxy", async () => {
    await withEcho({ trusted_proxies: [] }, async (launcher, id) => {
      const headers = await handshakeSeenByApp(launcher, id, FORGED);
      assert.equal(headers["x-forwarded-for"], "127.0.0.1");
      assert.equal(headers["x-forwarded-proto"], "http");
      assert.equal(headers["x-forwarded-host"], "launcher.test:8080");
      assert.equal(headers["x-real-ip"], "127.0.0.1");
      assert.doesNotMatch(JSON.stringify(headers), /6\.6\.6\.6|evil\.example/);
    });
  });
  await t.step("behind a trusted TLS terminator", async () => {
    await withEcho({}, async (launcher, id) => {
      const headers = await handshakeSeenByApp(launcher, id, [
        "X-Forwarded-For: 203.0.113.9",
        "X-Forwarded-Host: viz.example.org",
        "X-Forwarded-Proto: https",
      ]);
      assert.equal(headers["x-forwarded-for"], "203.0.113.9, 127.0.0.1");
      assert.equal(headers["x-forwarded-proto"], "https");
      assert.equal(headers["x-forwarded-host"], "viz.example.org");
      assert.equal(headers["x-real-ip"], "203.0.113.9");
    });
  });
});
