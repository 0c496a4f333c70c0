/**
 * Fuzz requests written byte by byte to a TCP connection: what no HTTP client sends (odd
 * methods, raw control bytes, broken framing, cut-off bodies, WebSocket upgrades gone wrong).
 */

import type { Expectation, FuzzTarget, RawCase } from "./fuzz_cases.ts";
import {
  badId,
  bytes,
  enc,
  encoder,
  hostileObject,
  junk,
  path,
  raw,
  type Rng,
  TRAVERSALS,
} from "./fuzz_inputs.ts";

function request(
  t: FuzzTarget,
  line: string | Uint8Array,
  headers: (string | Uint8Array)[] = [],
  body: string | Uint8Array = "",
  host = true,
): Uint8Array {
  return bytes(
    line,
    "\r\n",
    host ? `Host: ${t.host}\r\n` : "",
    ...headers.flatMap((h) => [h, "\r\n"]),
    "Connection: close\r\n\r\n",
    body,
  );
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function rawMethodCase(rng: Rng, t: FuzzTarget): RawCase {
  const method = rng.pick([
    "TRACE",
    "TRACK",
    "DEBUG",
    "get",
    "Get",
    "PRI",
    "X".repeat(1 + rng.int(3000)),
    "G\tET",
    "GET\u0000",
    "ÄÖÜ",
    "",
    "PO ST",
    "CONNECT",
  ]);
  const target = method === "CONNECT"
    ? rng.pick([t.host, "127.0.0.1:22", "evil.example:443"])
    : path(rng, t).replace(/[^\x21-\x7e]/g, "");
  const valid = TOKEN.test(method) && method !== "CONNECT" && method !== "PRI" &&
    method.length < 1000;
  return {
    via: "raw",
    kind: "raw-method",
    parts: () => [request(t, `${method} ${target || "/"} HTTP/1.1`)],
    abort: false,
    expect: valid ? "json" : "any",
  };
}

export function rawPathCase(rng: Rng, t: FuzzTarget): RawCase {
  const e = t.endpoint;
  const [target, valid] = rng.pick<[string | Uint8Array, boolean]>([
    [`${e}/../../etc/passwd`, true],
    [`${e}/%2e%2e/%2e%2e/etc/passwd`, true],
    [`${e}/..%2f..%2fetc%2fpasswd`, true],
    [`/proxy/%2e%2e/${e}`, true],
    [`/proxy/..`, true],
    [`/proxy/${t.liveId}/../../${e}`, true],
    [`/proxy/${t.liveId}/%2e%2e/%2e%2e/etc/passwd`, true],
    [`/proxy?sessionId=..%2F..%2Fetc&path=..%2F..`, true],
    [`/${rng.pick(TRAVERSALS).replace(/[^\x21-\x7e]/g, "")}`, true],
    [`${e}/${"A".repeat(1 + rng.int(8000))}`, true],
    [`${e}?${"a=b&".repeat(1 + rng.int(1000))}`, true],
    [`http://evil.example${e}/x`, true],
    [`//evil.example${e}`, true],
    ["*", false],
    ["\\paraview", false],
    ["paraview", false],
    [bytes(`${e}/`, raw(0x01)), false],
    [bytes(`${e}/`, "é🙂"), false],
    [bytes(`${e}/`, raw(0xff, 0xfe)), false],
    [bytes(`${e}/`, junk(rng)), false],
    [`${e}/ x`, false],
  ]);
  const method = rng.pick(["GET ", "DELETE ", "POST "]);
  return {
    via: "raw",
    kind: "raw-path",
    parts: () => [request(t, bytes(method, target, " HTTP/1.1"))],
    abort: false,
    expect: valid ? "json" : "any",
  };
}

export function rawHeaderCase(rng: Rng, t: FuzzTarget): RawCase {
  const body = hostileObject(rng);
  const [headers, valid, host] = rng.pick<[(string | Uint8Array)[], boolean, boolean]>([
    [[bytes("X-A: ", raw(0xff, 0xfe, 0x80))], true, true],
    [["X-A: 🙂é中"], true, true],
    [[bytes("Origin: ", raw(0xff))], true, true],
    [["Origin: https://évil.example"], true, true],
    [[bytes("Authorization: Bearer ", raw(0x80, 0x81, 0xfe))], true, true],
    [["Host: evil.example"], true, false],
    [[`Host: ${t.host}`, "Host: evil.example"], false, false],
    [[], false, false],
    [["X-A: a\u0001b"], false, true],
    [["X-A: a\u0000b"], false, true],
    [["X-A: a\u007fb"], false, true],
    [["Bad Name: x"], false, true],
    [["NoColon"], false, true],
    [["Ü: x"], false, true],
    [["X-A: a", " folded"], false, true],
    // More headers than the HTTP server takes (hyper: 100): refused before the launcher sees it.
    [
      Array.from(
        { length: 100 + rng.int(200) },
        (_, i) => `X-H${i}: ${junk(rng).replace(/[^\x20-\x7e]/g, "")}`,
      ),
      false,
      true,
    ],
    [
      Array.from(
        { length: 20 + rng.int(60) },
        (_, i) => `X-H${i}: ${junk(rng).replace(/[^\x20-\x7e]/g, "")}`,
      ),
      true,
      true,
    ],
    [[`X-Big: ${"b".repeat(70_000 + rng.int(30_000))}`], false, true],
    [[`Origin: ${"o".repeat(5000)}`], true, true],
  ]);
  const method = rng.pick(["GET", "POST"]);
  const withBody = method === "POST";
  const all = withBody ? [...headers, `Content-Length: ${encoder.encode(body).length}`] : headers;
  const target = rng.pick([t.endpoint, `${t.endpoint}/x`, "/proxy/x"]);
  return {
    via: "raw",
    kind: "raw-header",
    parts: () => [request(t, `${method} ${target} HTTP/1.1`, all, withBody ? body : "", host)],
    abort: false,
    expect: valid ? "json" : "any",
  };
}

export function rawLengthCase(rng: Rng, t: FuzzTarget): RawCase {
  const body = encoder.encode(hostileObject(rng));
  const n = body.length;
  const line = `POST ${t.endpoint} HTTP/1.1`;
  const chunked = (b: Uint8Array, tail = "0\r\n\r\n") =>
    bytes(b.length.toString(16), "\r\n", b, "\r\n", tail);
  // The fourth item: hang up once written, as the server would wait for the rest forever.
  const [headers, payload, expect, abort] = rng.pick<
    [string[], Uint8Array, Expectation, boolean]
  >([
    [[`Content-Length: ${n + 1 + rng.int(100)}`], body, "any", true], // the rest never comes
    [[`Content-Length: ${Math.max(0, n - 1 - rng.int(5))}`], body, "json", false], // too short
    [
      [`Content-Length: ${
        rng.pick(["abc", "-1", "1e3", "0x10", "", " 5 5", "99999999999999999999"])
      }`],
      body,
      "any",
      false,
    ],
    [[`Content-Length: ${n}`, `Content-Length: ${n + 7}`], body, "any", false],
    [[`Content-Length: ${n}`, "Transfer-Encoding: chunked"], chunked(body), "any", false],
    [["Transfer-Encoding: chunked"], chunked(body), "json", false],
    [["Transfer-Encoding: chunked"], bytes("zz\r\n", body), "any", false],
    [["Transfer-Encoding: chunked"], chunked(body, ""), "any", true], // no last chunk
    [["Transfer-Encoding: gzip"], body, "any", false],
    [["Transfer-Encoding: chunked, identity"], chunked(body), "any", false],
    [[`Content-Length: 0`], body, "json", false], // the body is a pipelined "request"
  ]);
  return {
    via: "raw",
    kind: "raw-length",
    parts: () => [request(t, line, headers, payload)],
    abort,
    expect,
  };
}

export function rawCutCase(rng: Rng, t: FuzzTarget): RawCase {
  const body = hostileObject(rng);
  const full = request(
    t,
    `POST ${t.endpoint} HTTP/1.1`,
    [`Content-Length: ${body.length + 50}`],
    body,
  );
  const cut = rng.pick([0, 1, 10, 30, full.length - body.length, full.length - 1]);
  return {
    via: "raw",
    kind: "raw-cut",
    parts: () => cut === 0 ? [] : [full.subarray(0, Math.min(cut, full.length))],
    abort: true,
    expect: "any",
  };
}

export function rawHugeCase(rng: Rng, t: FuzzTarget): RawCase {
  const size = 1024 * 1024 + 1 + rng.int(512 * 1024);
  const declared = rng.chance(0.5);
  const filler = rng.pick(["a", "[", " ", '{"a":']);
  const body = () => encoder.encode(filler.repeat(Math.ceil(size / filler.length)).slice(0, size));
  return {
    via: "raw",
    kind: "raw-huge",
    parts: () =>
      declared
        ? [request(t, `POST ${t.endpoint} HTTP/1.1`, [`Content-Length: ${size}`]), body()]
        : [
          request(t, `POST ${t.endpoint} HTTP/1.1`, ["Transfer-Encoding: chunked"]),
          bytes(size.toString(16), "\r\n", body(), "\r\n0\r\n\r\n"),
        ],
    abort: false,
    expect: "json-if-answered",
  };
}

export function rawWebSocketCase(rng: Rng, t: FuzzTarget): RawCase {
  const validKey = btoa(String.fromCharCode(...Array.from({ length: 16 }, () => rng.int(256))));
  const key = rng.pick([
    undefined,
    "",
    "!!!",
    "short",
    btoa("fifteen bytes!!"),
    "k".repeat(100),
    "🙂",
    validKey,
  ]);
  const version = rng.pick(["13", "13", "8", "junk", undefined]);
  const target = rng.pick([
    `/proxy/${t.liveId}/ws`,
    `/proxy?sessionId=${t.liveId}&path=ws`,
    `/proxy/${enc(badId(rng))}/ws`,
    `/proxy?sessionId=${enc(badId(rng))}&path=ws`,
    t.endpoint,
    `${t.endpoint}/${t.liveId}`,
  ]);
  const headers = [
    "Upgrade: websocket",
    rng.chance(0.9) ? "Connection: Upgrade" : "X-No-Connection: 1",
    ...(key === undefined ? [] : [`Sec-WebSocket-Key: ${key}`]),
    ...(version === undefined ? [] : [`Sec-WebSocket-Version: ${version}`]),
    ...(rng.chance(0.3)
      ? [`Sec-WebSocket-Protocol: ${junk(rng).replace(/[^\x21-\x7e]/g, "") || "p"}`]
      : []),
  ];
  // A client that hangs up before the 101 of an upgrade answered after an await (the live
  // session: the proxy dials it first) hits a Deno 2.9 bug: the connection is never closed and
  // the server never shuts down. The launcher narrows that window (lib/proxy/session_proxy.ts); the fuzz
  // does not aim at what it cannot fix, and hangs up only where the answer is immediate.
  const live = target.includes(t.liveId) && target.startsWith("/proxy");
  const abort = !live && rng.chance(0.2);
  return {
    via: "raw",
    kind: "raw-websocket",
    // Without "Connection: close": a 101 keeps the connection open; the reader ends it.
    parts: () => [
      bytes(
        `GET ${target} HTTP/1.1\r\nHost: ${t.host}\r\n`,
        ...headers.map((h) => h + "\r\n"),
        "\r\n",
      ),
    ],
    abort,
    expect: abort ? "any" : "json",
  };
}
