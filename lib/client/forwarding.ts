/**
 * Who a request comes from when proxies stand between the client and the launcher, and what
 * the launcher's own proxy tells a session's app: the one place these decisions are made.
 *
 * The rules are the usual ones. Forwarded headers (`X-Forwarded-For`, `-Host`, `-Proto`,
 * `Forwarded`, `X-Real-IP`) are believed only from a trusted proxy (`trusted_proxies`,
 * this machine by default); from anyone else they are the client's own word, and are
 * replaced. The proxy appends the peer it saw to `X-Forwarded-For` and `Forwarded`. Behind a
 * trusted TLS terminator the app keeps seeing the scheme and host the browser used. Hop-by-hop
 * headers, and every header that `Connection` names, are not passed on.
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

/** Headers that concern one connection only (RFC 9110, 7.6.1), never passed on. */
const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];

/**
 * Removes the hop-by-hop headers, and those the `Connection` header names.
 *
 * @param headers the headers, changed in place
 */
export function dropHopByHop(headers: Headers): void {
  for (const name of (headers.get("connection") ?? "").split(",")) {
    const token = name.trim().toLowerCase();
    if (/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(token)) headers.delete(token);
  }
  for (const name of HOP_BY_HOP) headers.delete(name);
}

const FORWARDING = [
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "forwarded",
  "x-real-ip",
];

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
  constructor(networks: readonly string[]) {
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

  /**
   * The headers the launcher's proxy sends a session's app: the request's, without hop-by-hop
   * headers, with forwarded headers believed only from a trusted peer, and the peer added.
   *
   * @param req the request as the launcher received it
   * @param peer the address of whoever connected, if known
   * @returns the headers to send upstream
   */
  forwardedHeaders(req: Request, peer: string | undefined): Headers {
    const headers = new Headers(req.headers);
    dropHopByHop(headers);
    for (const name of ["host", ...FORWARDING]) headers.delete(name);
    for (const [name, value] of this.forwarding(req, peer)) headers.set(name, value);
    return headers;
  }

  /**
   * The forwarded headers alone, as {@linkcode TrustedProxies.forwardedHeaders} sets them: for
   * a proxied WebSocket's handshake, which carries no other header of the client's.
   *
   * @param req the request as the launcher received it
   * @param peer the address of whoever connected, if known
   * @returns `X-Forwarded-For`, `-Host`, `-Proto`, `X-Real-IP` and `Forwarded`
   */
  forwarding(req: Request, peer: string | undefined): Headers {
    const url = new URL(req.url);
    const host = req.headers.get("host") ?? url.host;
    const proto = url.protocol.slice(0, -1);
    const given = (name: string) => this.trusts(peer) ? req.headers.get(name) : null;
    const forAddr = peer ?? "unknown";
    const chain = given("x-forwarded-for");
    const headers = new Headers({
      "x-forwarded-for": chain ? `${chain}, ${forAddr}` : forAddr,
      "x-forwarded-host": given("x-forwarded-host") ?? host,
      "x-forwarded-proto": given("x-forwarded-proto") ?? proto,
    });
    headers.set("x-real-ip", given("x-real-ip") ?? this.client(headers, forAddr));
    const element = `for=${forwardedNode(forAddr)};host=${quoted(host)};proto=${proto}`;
    const forwarded = given("forwarded");
    headers.set("forwarded", forwarded ? `${forwarded}, ${element}` : element);
    return headers;
  }
}

/** A `Forwarded` node: IPv6 in brackets and quotes (RFC 7239, 6). */
function forwardedNode(address: string): string {
  return isIP(address) === 6 ? `"[${address}]"` : isIP(address) === 4 ? address : "unknown";
}

/** A `Forwarded` value, quoted when it is not a token. */
function quoted(value: string): string {
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(value)
    ? value
    : `"${value.replace(/[\\"]/g, "\\$&")}"`;
}
