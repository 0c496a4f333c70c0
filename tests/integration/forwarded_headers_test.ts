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
