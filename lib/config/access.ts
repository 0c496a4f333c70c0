/**
 * Readers for the settings that guard the launcher's front door, in either format: the
 * `admin_token` and `api_token` secrets, the `allowed_origins` whose pages may POST, and the
 * per-client `rate_limit`. A token is a secret, so no message ever repeats its text.
 *
 * @module
 */

import type { RateLimit } from "./types.ts";
import { describe, type Value } from "./reader.ts";

/** Tokens shorter than this are too easy to guess. */
const MIN_TOKEN_LENGTH = 16;

const ORIGIN_EXAMPLE = '"https://app.example.com"';
const RATE_LIMIT_KEYS = ["per_minute", "burst"] as const;
const RATE_LIMIT_EXAMPLE = '{"per_minute": 30, "burst": 10}';

/**
 * Reads a bearer token (`admin_token`, `api_token`): at least
 * {@linkcode MIN_TOKEN_LENGTH} visible ASCII characters, since it travels in an HTTP header.
 *
 * @param value the value to read
 * @returns the token, or undefined after recording an error that does not quote it
 */
export function readToken(value: Value): string | undefined {
  const { type } = value.node;
  const wanted = `a string of at least ${MIN_TOKEN_LENGTH} characters`;
  if (type !== "string") {
    return value.error(
      `expected ${wanted}, found ${type === "number" ? "a number" : describe(value.node)}`,
    );
  }
  const token = value.node.value as string;
  if (token === "") return value.error(`expected ${wanted}, found an empty string`);
  if (!/^[\x21-\x7e]+$/.test(token)) {
    return value.error(
      "a token may hold only visible ASCII characters, without spaces: it is sent in an " +
        "HTTP header",
    );
  }
  if (token.length < MIN_TOKEN_LENGTH) {
    return value.error(
      `a token of ${token.length} characters is too easy to guess; use at least ` +
        `${MIN_TOKEN_LENGTH}, such as the output of "openssl rand -hex 32"`,
    );
  }
  return token;
}

/**
 * Reads `allowed_origins`: a list of `scheme://host[:port]` origins, each normalised the way
 * browsers send the `Origin` header (`https://App.example.com:443/` → `https://app.example.com`).
 * A wildcard is refused: it would let any web page launch processes.
 *
 * @param value the value to read
 * @returns the origins, or undefined after recording an error (bad items are left out)
 */
export function readOrigins(value: Value): string[] | undefined {
  if (value.node.type === "string") {
    if (String(value.node.value).includes("*")) return wildcard(value);
    return value.error(
      `expected a list of origins such as [${ORIGIN_EXAMPLE}], found a string; ` +
        "write it inside [ ]",
    );
  }
  const items = value.list();
  if (!items) return undefined;
  const origins: string[] = [];
  for (const item of items) {
    const origin = readOrigin(item);
    if (origin === undefined) continue;
    if (origins.includes(origin)) item.warn(`"${origin}" is listed more than once`);
    else origins.push(origin);
  }
  return origins;
}

function readOrigin(value: Value): string | undefined {
  const text = value.string();
  if (text === undefined) return undefined;
  if (text.includes("*")) return wildcard(value);
  const expected = `expected an origin (scheme://host[:port]) such as ${ORIGIN_EXAMPLE}`;
  if (!URL.canParse(text)) return value.error(`${expected}, found ${JSON.stringify(text)}`);
  const url = new URL(text);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return value.error(`${expected}: browsers send POSTs from http: and https: pages only`);
  }
  if (url.href !== `${url.origin}/`) {
    return value.error(
      `an origin has no path, query or user name: write "${url.origin}"`,
    );
  }
  return url.origin;
}

function wildcard(value: Value): undefined {
  return value.error(
    `"*" is not allowed: any web page could launch sessions; list each origin, such as ` +
      ORIGIN_EXAMPLE,
  );
}

/**
 * Reads `rate_limit`: `{"per_minute": N, "burst": M}`, both positive. `burst` is at least 1,
 * since a smaller bucket would pass no request; it defaults to `per_minute` (at least 1).
 *
 * @param value the value to read
 * @returns the limit, or undefined after recording an error
 */
export function readRateLimit(value: Value): RateLimit | undefined {
  if (value.node.type !== "object") {
    return value.expected(`an object such as ${RATE_LIMIT_EXAMPLE}`);
  }
  const fields = value.fields(RATE_LIMIT_KEYS);
  const perMinuteValue = fields?.require("per_minute");
  const perMinute = perMinuteValue && readPositive(perMinuteValue, "requests a minute");
  const burstValue = fields?.get("burst");
  const burst = burstValue && readBurst(burstValue);
  if (perMinute === undefined || (burstValue && burst === undefined)) return undefined;
  return { perMinute, burst: burst ?? Math.max(perMinute, 1) };
}

function readPositive(value: Value, unit: string): number | undefined {
  const n = value.node.type === "number" ? value.node.value as number : NaN;
  return n > 0 && Number.isFinite(n) ? n : value.expected(`a positive number of ${unit}`);
}

/** A bucket that holds less than one request would refuse every request. */
function readBurst(value: Value): number | undefined {
  const n = readPositive(value, "requests at once");
  if (n === undefined || n >= 1) return n;
  return value.error(`expected at least 1 request at once, found ${n}: no request would pass`);
}
