/**
 * Per-client token buckets for the launcher's `rate_limit`, with bounded memory: a bucket that
 * has refilled is the same as no bucket, so full ones are forgotten now and then, and when the
 * table is at its cap the least recently seen client is forgotten first.
 *
 * Clients are told apart by address. An IPv6 client usually holds a whole /64, so IPv6
 * addresses count by their /64 prefix; an IPv4-mapped IPv6 address counts as its IPv4 address.
 *
 * @module
 */

import type { RateLimit } from "../config/mod.ts";

/** Rate limiter tuning besides the limit itself. */
export interface RateLimiterOptions {
  /** A monotonic clock in milliseconds. @default performance.now */
  now?: () => number;
  /** Most clients remembered at once. @default 10000 */
  maxClients?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets by client: each holds up to `burst` requests and refills at `perMinute`.
 *
 * @example
 * ```ts
 * import { RateLimiter } from "./rate_limit.ts";
 * let now = 0;
 * const limiter = new RateLimiter({ perMinute: 60, burst: 1 }, { now: () => now });
 * limiter.take("192.0.2.1"); // → 0: allowed
 * limiter.take("192.0.2.1"); // → 1: refused, retry in 1 s
 * now += 1000;
 * limiter.take("192.0.2.1"); // → 0
 * ```
 */
export class RateLimiter {
  #burst: number;
  #perMs: number;
  #now: () => number;
  #maxClients: number;
  // Insertion order is recency order: a touched bucket is re-inserted at the end.
  #buckets = new Map<string, Bucket>();
  #lastPrune: number;

  /**
   * Makes an empty table.
   *
   * @param limit requests per minute and burst
   * @param options the clock and the table's cap
   */
  constructor(limit: RateLimit, options: RateLimiterOptions = {}) {
    this.#burst = limit.burst;
    this.#perMs = limit.perMinute / 60_000;
    this.#now = options.now ?? (() => performance.now());
    this.#maxClients = Math.max(1, options.maxClients ?? 10_000);
    this.#lastPrune = this.#now();
  }

  /** Clients whose buckets are remembered now. */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Takes one request from a client's bucket.
   *
   * @param client the client's key, from {@linkcode clientKey}
   * @returns 0 when the request may go on, else the whole seconds (at least 1) until it may
   */
  take(client: string): number {
    const now = this.#now();
    // Pruning as often as an empty bucket takes to refill keeps every sweep worth its cost.
    if (now - this.#lastPrune >= this.#burst / this.#perMs) this.#prune(now);
    let bucket = this.#buckets.get(client);
    if (bucket) {
      this.#buckets.delete(client);
      bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.at) * this.#perMs);
      bucket.at = now;
    } else {
      if (this.#buckets.size >= this.#maxClients) {
        this.#buckets.delete(this.#buckets.keys().next().value!);
      }
      bucket = { tokens: this.#burst, at: now };
    }
    this.#buckets.set(client, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.#perMs / 1000));
  }

  #prune(now: number): void {
    this.#lastPrune = now;
    for (const [client, b] of this.#buckets) {
      if (b.tokens + (now - b.at) * this.#perMs >= this.#burst) this.#buckets.delete(client);
    }
  }
}

/**
 * The rate-limit key of a client address: IPv4 as it is, IPv6 by its /64 prefix, an
 * IPv4-mapped IPv6 address as its IPv4 address.
 *
 * @param address the client's IP address
 * @returns the key its requests count under
 * @example
 * ```ts
 * import { clientKey } from "./rate_limit.ts";
 * clientKey("2001:db8:1:2:3:4:5:6"); // → "2001:db8:1:2::/64"
 * clientKey("::ffff:192.0.2.1"); // → "192.0.2.1"
 * ```
 */
export function clientKey(address: string): string {
  const a = address.replace(/%.*$/, "").toLowerCase();
  if (!a.includes(":")) return a;
  const groups = expandIpv6(a);
  if (!groups) return a;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6] >> 8, groups[6] & 255, groups[7] >> 8, groups[7] & 255].join(".");
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, or undefined when it is not one. */
function expandIpv6(a: string): number[] | undefined {
  const halves = a.split("::");
  if (halves.length > 2) return undefined;
  const parse = (s: string) => (s === "" ? [] : s.split(":")).flatMap(groupValues);
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (head.some(Number.isNaN) || tail.some(Number.isNaN)) return undefined;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  return [...head, ...new Array(missing).fill(0), ...tail];
}

/** A group's values: one for `hhhh`, two for an embedded IPv4 `a.b.c.d`, NaN if neither. */
function groupValues(group: string): number[] {
  if (/^[0-9a-f]{1,4}$/.test(group)) return [parseInt(group, 16)];
  const v4 = group.match(/^(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (!v4) return [NaN];
  const [a, b, c, d] = v4.slice(1).map(Number);
  if (Math.max(a, b, c, d) > 255) return [NaN];
  return [(a << 8) | b, (c << 8) | d];
}
