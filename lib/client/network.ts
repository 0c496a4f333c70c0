/**
 * Who a request comes from when proxies stand between the client and the launcher. Forwarded
 * headers (`X-Forwarded-For` here) are believed only from a trusted proxy (`trusted_proxies`,
 * this machine by default); from anyone else they are the client's own word.
 *
 * @module
 */

import { BlockList, isIP } from "node:net";

/** An address or a network, as `trusted_proxies` lists them. */
export interface Network {
  /** The address. */
  address: string;
  /** Prefix length: 32 (IPv4) or 128 (IPv6) for a single address. */
  prefix: number;
  /** The family. */
  type: "ipv4" | "ipv6";
}

/**
 * Parses an address or a CIDR network: `10.0.0.0/8`, `192.168.1.7`, `fd00::/8`, `::1`.
 *
 * @param text the text
 * @returns the network, or undefined when it is not one
 */
export function parseNetwork(text: string): Network | undefined {
  const m = text.trim().match(/^\[?([0-9A-Fa-f:.]+)\]?(?:\/(\d{1,3}))?$/);
  if (!m) return undefined;
  const family = isIP(m[1]);
  if (family === 0) return undefined;
  const max = family === 4 ? 32 : 128;
  const prefix = m[2] === undefined ? max : Number(m[2]);
  if (prefix > max) return undefined;
  return { address: m[1], prefix, type: family === 4 ? "ipv4" : "ipv6" };
}

/** This machine's addresses, loopback: the proxies trusted unless `trusted_proxies` says. */
export const LOOPBACK: readonly string[] = ["127.0.0.0/8", "::1"];

/** The proxies whose forwarded headers are believed. */
export class TrustedProxies {
  readonly #list = new BlockList();
  readonly #empty: boolean;

  /**
   * Makes the list.
   *
   * @param networks addresses and CIDR networks; ones that do not parse are skipped (the
   *   config refuses them)
   */
  constructor(networks: readonly string[] = LOOPBACK) {
    let count = 0;
    for (const text of networks) {
      const net = parseNetwork(text);
      if (!net) continue;
      this.#list.addSubnet(net.address, net.prefix, net.type);
      count++;
    }
    this.#empty = count === 0;
  }

  /**
   * Whether an address is a trusted proxy.
   *
   * @param address an IP address
   * @returns true when it is in one of the networks
   */
  trusts(address: string | undefined): boolean {
    if (this.#empty || address === undefined) return false;
    const family = isIP(address);
    if (family === 0) return false;
    return this.#list.check(address, family === 4 ? "ipv4" : "ipv6");
  }

  /**
   * The client a request comes from: the peer, or, when the peer is a trusted proxy, the
   * nearest address in `X-Forwarded-For` (read from the right, as each proxy appends) that is
   * not a trusted proxy itself.
   *
   * @param headers the request's headers
   * @param peer the address of whoever connected
   * @returns the client's address
   */
  client(headers: Headers, peer: string): string {
    if (!this.trusts(peer)) return peer;
    const hops = (headers.get("x-forwarded-for") ?? "").split(",").map((s) => s.trim());
    let client = peer;
    for (const hop of hops.reverse()) {
      if (isIP(hop) === 0) break;
      client = hop;
      if (!this.trusts(hop)) break;
    }
    return client;
  }
}

/**
 * Whether an address is this machine's loopback: `127.0.0.0/8` or `::1`.
 *
 * @param address an IP address
 * @returns true for a loopback address; false for anything else, names included
 */
export function isLoopback(address: string): boolean {
  return new TrustedProxies(LOOPBACK).trusts(address);
}
