/**
 * What the launcher's proxy tells a session's app about the request: the usual forwarded
 * headers. Those the request carries are believed only from a trusted proxy
 * ({@linkcode TrustedProxies}); from anyone else they are the client's own word, and are
 * replaced. The proxy appends the peer it saw to `X-Forwarded-For` and `Forwarded`. Behind a
 * trusted TLS terminator the app keeps seeing the scheme and host the browser used. Hop-by-hop
 * headers, and every header that `Connection` names, are not passed on.
 *
 * @module
 */

import { isIP } from "node:net";
import { requestScheme, type TrustedProxies } from "../client/mod.ts";
import { isHttpToken } from "./http_token.ts";

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
    if (isHttpToken(token)) headers.delete(token);
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

/**
 * The headers the launcher's proxy sends a session's app: the request's, without hop-by-hop
 * headers, with forwarded headers believed only from a trusted peer, and the peer added.
 *
 * @param trusted the proxies whose forwarded headers are believed
 * @param req the request as the launcher received it
 * @param peer the address of whoever connected, if known
 * @param tls whether it came over the launcher's own TLS listener (its URL says `http:`)
 * @returns the headers to send upstream
 */
export function forwardedHeaders(
  trusted: TrustedProxies,
  req: Request,
  peer: string | undefined,
  tls = false,
): Headers {
  return withForwarding(req, forwarding(trusted, req, peer, tls));
}

/**
 * The request's headers, without hop-by-hop headers, with the forwarded headers in place of
 * the client's own.
 *
 * @param req the request as the launcher received it
 * @param forwarded the forwarded headers, as {@linkcode forwarding} makes them
 * @returns the headers to send upstream
 */
export function withForwarding(req: Request, forwarded: Headers): Headers {
  const headers = new Headers(req.headers);
  dropHopByHop(headers);
  for (const name of ["host", ...FORWARDING]) headers.delete(name);
  for (const [name, value] of forwarded) headers.set(name, value);
  return headers;
}

/**
 * The forwarded headers alone, as {@linkcode forwardedHeaders} sets them: for a proxied
 * WebSocket's handshake, which carries no other header of the client's.
 *
 * @param trusted the proxies whose forwarded headers are believed
 * @param req the request as the launcher received it
 * @param peer the address of whoever connected, if known
 * @param tls whether it came over the launcher's own TLS listener (its URL says `http:`)
 * @param url the request's URL, when the caller has parsed it already
 * @returns `X-Forwarded-For`, `-Host`, `-Proto`, `X-Real-IP` and `Forwarded`
 */
export function forwarding(
  trusted: TrustedProxies,
  req: Request,
  peer: string | undefined,
  tls = false,
  url: URL = new URL(req.url),
): Headers {
  const host = req.headers.get("host") ?? url.host;
  const proto = requestScheme(url, tls);
  const believed = trusted.trusts(peer);
  const given = (name: string) => believed ? req.headers.get(name) : null;
  const forAddr = peer ?? "unknown";
  const chain = given("x-forwarded-for");
  const headers = new Headers({
    "x-forwarded-for": chain ? `${chain}, ${forAddr}` : forAddr,
    "x-forwarded-host": given("x-forwarded-host") ?? host,
    "x-forwarded-proto": given("x-forwarded-proto") ?? proto,
  });
  headers.set("x-real-ip", given("x-real-ip") ?? trusted.client(headers, forAddr));
  const element = `for=${forwardedNode(forAddr)};host=${quoted(host)};proto=${proto}`;
  const forwarded = given("forwarded");
  headers.set("forwarded", forwarded ? `${forwarded}, ${element}` : element);
  return headers;
}

/** A `Forwarded` node: IPv6 in brackets and quotes (RFC 7239, 6). */
function forwardedNode(address: string): string {
  return isIP(address) === 6 ? `"[${address}]"` : isIP(address) === 4 ? address : "unknown";
}

/** A `Forwarded` value, quoted when it is not a token. */
function quoted(value: string): string {
  return isHttpToken(value) ? value : `"${value.replace(/[\\"]/g, "\\$&")}"`;
}
