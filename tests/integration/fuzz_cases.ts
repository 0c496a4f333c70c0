/**
 * Malformed and hostile requests for the fuzz test, drawn from a seeded PRNG: the same seed
 * gives the same requests. Requests sent with `fetch` are here; those written to a bare TCP
 * connection are in `fuzz_raw_cases.ts`, their raw material in `fuzz_inputs.ts`.
 */

import {
  brokenJson,
  deepJson,
  extraHeaders,
  hostileObject,
  origin,
  path,
  Rng,
  urlSafe,
} from "./fuzz_inputs.ts";
import {
  rawCutCase,
  rawHeaderCase,
  rawHugeCase,
  rawLengthCase,
  rawMethodCase,
  rawPathCase,
  rawWebSocketCase,
} from "./fuzz_raw_cases.ts";

/**
 * What a case promises about its answer: `json` — an answer arrives, and if it is an error
 * (4xx/5xx) its body is JSON with an `error` key; `json-if-answered` — the same when an answer
 * arrives (the server may hang up first, as on an over-long upload); `any` — broken at the
 * HTTP level, so the HTTP server may answer as it likes or not at all.
 */
export type Expectation = "json" | "json-if-answered" | "any";

/** A request sent with `fetch`. */
export interface FetchCase {
  /** How it is sent. */
  via: "fetch";
  /** What family of hostile input it is. */
  kind: string;
  /** Method. */
  method: string;
  /** Path and query. */
  path: string;
  /** Headers. */
  headers: [string, string][];
  /** Body, for methods that may have one. */
  body?: string | Uint8Array<ArrayBuffer>;
  /** Always `json`: fetch sends well-formed HTTP. */
  expect: Expectation;
}

/** A request written byte by byte to a TCP connection. */
export interface RawCase {
  /** How it is sent. */
  via: "raw";
  /** What family of hostile input it is. */
  kind: string;
  /** Builds the bytes (large bodies are built only when sent). */
  parts: () => Uint8Array[];
  /** Hang up right after writing, without reading. */
  abort: boolean;
  /** What the answer must be. */
  expect: Expectation;
}

/** One fuzz request. */
export type FuzzCase = FetchCase | RawCase;

/** What the generator needs to know of the launcher under test. */
export interface FuzzTarget {
  /** The REST endpoint path (`/paraview`). */
  endpoint: string;
  /** The `host:port` the launcher listens on. */
  host: string;
  /** The id of a live session whose app echoes HTTP and WebSocket. */
  liveId: string;
}

const FETCH_METHODS = [
  "GET",
  "POST",
  "DELETE",
  "HEAD",
  "OPTIONS",
  "PUT",
  "PATCH",
  "PROPFIND",
  "PROPPATCH",
  "MKCOL",
  "COPY",
  "MOVE",
  "LOCK",
  "UNLOCK",
  "SEARCH",
  "REPORT",
  "PURGE",
  "M-SEARCH",
  "BREW",
  "FOO",
];

function fetchCase(rng: Rng, t: FuzzTarget): FetchCase {
  const kind = rng.pick(["json", "json", "hostile", "hostile", "deep", "method", "path", "header"]);
  const headers = [...origin(rng, t), ...extraHeaders(rng)];
  const post = (body: string | Uint8Array<ArrayBuffer>): FetchCase => ({
    via: "fetch",
    kind,
    method: "POST",
    path: rng.chance(0.9) ? t.endpoint : `${t.endpoint}/`,
    headers,
    body,
    expect: "json",
  });
  switch (kind) {
    case "json":
      return post(brokenJson(rng));
    case "hostile":
      return post(hostileObject(rng));
    case "deep":
      // Under 1 MiB: the server reads it all, so no upload is cut short.
      return post(deepJson(rng, rng.pick([64, 1000, 10_000, 50_000, 100_000])));
    default: {
      const method = kind === "method"
        ? rng.pick(FETCH_METHODS)
        : rng.pick(["GET", "POST", "DELETE"]);
      const body = method === "GET" || method === "HEAD" || rng.chance(0.5)
        ? undefined
        : hostileObject(rng);
      return {
        via: "fetch",
        kind,
        method,
        path: urlSafe(path(rng, t)),
        headers,
        body,
        expect: "json",
      };
    }
  }
}

/**
 * Draws `count` cases.
 *
 * @param seed the PRNG seed; the same seed gives the same cases
 * @param count how many
 * @param target the launcher under test
 */
export function fuzzCases(seed: number, count: number, target: FuzzTarget): FuzzCase[] {
  const rng = new Rng(seed);
  const cases: FuzzCase[] = [];
  for (let i = 0; i < count; i++) {
    const r = rng.next();
    if (r < 0.55) cases.push(fetchCase(rng, target));
    else if (r < 0.62) cases.push(rawMethodCase(rng, target));
    else if (r < 0.72) cases.push(rawPathCase(rng, target));
    else if (r < 0.80) cases.push(rawHeaderCase(rng, target));
    else if (r < 0.88) cases.push(rawLengthCase(rng, target));
    else if (r < 0.93) cases.push(rawCutCase(rng, target));
    else if (r < 0.935) cases.push(rawHugeCase(rng, target));
    else cases.push(rawWebSocketCase(rng, target));
  }
  return cases;
}
