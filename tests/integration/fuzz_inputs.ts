/**
 * The raw material of the fuzz test's requests: a seeded PRNG, hostile strings, paths, headers
 * and bodies. No body names a launchable application other than `dies` (exits at once) and
 * `ghost` (no such program), so no request starts a session that would outlive it.
 */

import type { FuzzTarget } from "./fuzz_cases.ts";

/** A small, fast, seedable PRNG (mulberry32). */
export class Rng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** One of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** The one UTF-8 encoder. */
export const encoder = new TextEncoder();

/** The pieces as one byte array, strings in UTF-8 (bytes that are not UTF-8: {@linkcode raw}). */
export function bytes(...pieces: (string | Uint8Array)[]): Uint8Array {
  const chunks = pieces.map((p) => typeof p === "string" ? encoder.encode(p) : p);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** Raw single bytes, for bytes that are not UTF-8. */
export function raw(...values: number[]): Uint8Array<ArrayBuffer> {
  return new Uint8Array(values);
}

export const TRAVERSALS: readonly string[] = [
  "../../etc/passwd",
  "..%2f..%2fetc%2fpasswd",
  "%2e%2e/%2e%2e/etc/passwd",
  "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
  "%252e%252e%252fetc%252fpasswd",
  "..%c0%af..%c0%afetc/passwd",
  "....//....//etc/passwd",
  "..\\..\\windows\\win.ini",
  "..%5c..%5cwindows",
  "..%00/etc/passwd",
  "%00",
  "..",
  ".",
  "%2e",
  "%2e%2e",
  "/etc/passwd",
  "%2f",
  "~root",
  "$(reboot)",
  "${id}",
  "`id`",
  "%",
  "%zz",
  "%ff%fe",
  "%e2%80%ae",
  "%f0%9f%99%82",
  "con",
  "a".repeat(300),
  "%41".repeat(400),
];

const UNICODE = ["é", "ü", "🙂", "\u202e", "\ufeff", "\u0301", "𝔘𝔫𝔦", "中文", "\ud800"];
const CONTROL = ["\u0000", "\u0001", "\u0007", "\b", "\t", "\n", "\r", "\u001b", "\u007f"];

export function junk(rng: Rng, length = 1 + rng.int(40)): string {
  const alphabet = "abcXYZ019-_.~/%?&=#:;@!$'()*+,[]{}\"<>\\^`| ";
  let s = "";
  for (let i = 0; i < length; i++) {
    const r = rng.next();
    if (r < 0.8) s += alphabet[rng.int(alphabet.length)];
    else if (r < 0.9) s += rng.pick(UNICODE);
    else s += rng.pick(CONTROL);
  }
  return s;
}

/** Percent-encodes any text, lone surrogates too (as U+FFFD). */
export function enc(text: string): string {
  return encodeURIComponent(text.toWellFormed());
}

/** Text safe for a fetch URL: the URL parser escapes what needs escaping. */
export function urlSafe(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f#?]/g, (c) => encodeURIComponent(c)).replace(
    /[\ud800-\udfff]/g,
    (c, i, s) => /[\ud800-\udbff]/.test(c) && /[\udc00-\udfff]/.test(s[i + 1] ?? "") ? c : "",
  );
}

/** A session id no session has. */
export function badId(rng: Rng): string {
  return rng.pick([
    () => rng.pick(TRAVERSALS),
    () => junk(rng),
    () => "A".repeat(22),
    () => "x".repeat(1 + rng.int(3000)),
    () => Array.from({ length: 36 }, () => "0123456789abcdef-"[rng.int(17)]).join(""),
    () => "",
  ])();
}

export function path(rng: Rng, t: FuzzTarget): string {
  const e = t.endpoint;
  return rng.pick([
    () => e,
    () => `${e}/`,
    () => `${e}//`,
    () => e.toUpperCase(),
    () => `${e}/${badId(rng)}`,
    () => `${e}/${badId(rng)}/${junk(rng)}`,
    () => `${e}/${t.liveId}/${rng.pick(TRAVERSALS)}`,
    () => `${e}?${junk(rng)}`,
    () => `/proxy/${badId(rng)}/${junk(rng)}`,
    () => `/proxy?sessionId=${enc(badId(rng))}&path=${enc(junk(rng))}`,
    () => `/proxy?path=ws&sessionId=${rng.pick(TRAVERSALS)}`,
    () => `/proxy/${t.liveId}/${rng.pick(TRAVERSALS)}`,
    () => `/proxy/${t.liveId}/${junk(rng)}`,
    () => "/proxy",
    () => "/proxy/",
    () => `/metrics${rng.pick(["", "/", "/../paraview", "?x=1"])}`,
    () => `/healthz${rng.pick(["", "/", "/x"])}`,
    () => `/_dashboard/${rng.pick(["", ...TRAVERSALS])}`,
    () => `/${rng.pick(TRAVERSALS)}`,
    () => `/${junk(rng)}`,
    () => "/",
    () => "//",
    () => `/${"deep/".repeat(1 + rng.int(500))}`,
  ])();
}

const ALLOWED_ORIGIN = "https://app.example.com";

export function origin(rng: Rng, t: FuzzTarget): [string, string][] {
  const r = rng.next();
  if (r < 0.6) return [];
  return [[
    "origin",
    rng.pick([
      "https://evil.example",
      ALLOWED_ORIGIN,
      "null",
      `http://${t.host}`,
      `https://${t.host}`,
      "http://localhost",
      junk(rng).replace(/[^\x20-\x7e]/g, ""),
      "https://app.example.com.evil.example",
    ]),
  ]];
}

/** Header values fetch will send: no control characters, nothing above U+00FF. */
export function headerValue(rng: Rng): string {
  return rng.pick([
    () => junk(rng).replace(/[^\x20-\x7e]/g, "").trim() || "x",
    () => "Bearer " + "t".repeat(rng.int(100)),
    () => String.fromCharCode(0x80 + rng.int(0x80)).repeat(1 + rng.int(10)),
    () => "x".repeat(1 + rng.int(4000)),
    () => "10.0.0.1, 203.0.113.9, ::1",
    () => "text/plain;charset=UTF-16",
  ])();
}

export function extraHeaders(rng: Rng): [string, string][] {
  const names = [
    "authorization",
    "content-type",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "cookie",
    "accept",
    "range",
    "if-none-match",
    "sec-websocket-key",
    "x-custom",
  ];
  const out: [string, string][] = [];
  for (let i = rng.int(4); i > 0; i--) out.push([rng.pick(names), headerValue(rng)]);
  return out;
}

const APPS: readonly unknown[] = [
  "ghost",
  "dies",
  "",
  "VIZ",
  "viz ",
  " viz",
  "viz\u0000",
  "viz\n",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "../viz",
  "echo/../viz",
  "🙂",
  1,
  null,
  true,
  [],
  {},
  ["viz"],
  { viz: 1 },
];

const KEYS = [
  "secret",
  "password",
  "port",
  "host",
  "id",
  "sessionURL",
  "python_exec",
  "__proto__",
  "constructor",
  "prototype",
  "$id",
  "${port}",
  "k".repeat(300),
  "",
  "🙂",
  "\u0000",
  "a\nb",
];

function value(rng: Rng, depth = 0): unknown {
  return rng.pick<() => unknown>([
    () => junk(rng),
    () => rng.pick(["${secret}", "$$", "$(rm -rf /)", "; reboot", "|id", "%s%n", "\\x00"]),
    () => "v".repeat(rng.pick([4095, 4096, 4097, 10_000])),
    () => rng.pick([0, -0, 1e308, -1e308, 2 ** 53 + 1, 0.1, -1]),
    () => rng.pick([true, false, null]),
    () => depth < 3 ? [value(rng, depth + 1), value(rng, depth + 1)] : [],
    () => depth < 3 ? { [junk(rng, 5)]: value(rng, depth + 1) } : {},
  ])();
}

/** A JSON object as text, written by hand so that keys like `__proto__` stay plain keys. */
function objectText(entries: [string, unknown][]): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`;
}

/** A JSON object that is not a launchable request for a lasting session. */
export function hostileObject(rng: Rng): string {
  const entries: [string, unknown][] = [];
  if (rng.chance(0.9)) entries.push(["application", rng.pick(APPS)]);
  const keys = rng.chance(0.05) ? 65 + rng.int(20) : rng.int(6);
  for (let i = 0; i < keys; i++) {
    entries.push([rng.chance(0.5) ? rng.pick(KEYS) : junk(rng, 8), value(rng)]);
  }
  // "dies" and "ghost" are launchable; keep them rare, a spawn costs more than a parse.
  const app = entries.find(([k]) => k === "application")?.[1];
  if ((app === "dies" || app === "ghost") && rng.chance(0.8)) entries[0][1] = "nope";
  return objectText(entries);
}

export function brokenJson(rng: Rng): string | Uint8Array<ArrayBuffer> {
  return rng.pick<() => string | Uint8Array<ArrayBuffer>>([
    () => {
      const text = hostileObject(rng);
      return text.slice(0, rng.int(text.length));
    },
    () => rng.pick(["", "{", "}", "[]", "null", "true", "1", '"s"', "{'a': 1}", "{a:1}"]),
    () => rng.pick(['{"a":1,}', "// c\n{}", "NaN", "{}}", '{"a":}', '{"application":"viz"']),
    () => '{"application": "ghost"}' + junk(rng),
    () => raw(0xff, 0xfe, 0x7b, 0x7d),
    () => raw(0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d),
    () => "\ufeff{}",
    () => junk(rng, 200),
    () => "\u0000".repeat(1 + rng.int(100)),
  ])();
}

/** Nesting `depth` deep, as arrays or objects, balanced or not. */
export function deepJson(rng: Rng, depth: number): string {
  const inner = rng.chance(0.5)
    ? "[".repeat(depth) + "]".repeat(rng.chance(0.8) ? depth : depth - 1)
    : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
  return rng.chance(0.5) ? inner : `{"application":"nope","x":${inner}}`;
}
