/**
 * Which web page a request comes from, and whether that page is one of the launcher's own.
 *
 * A browser names the page's origin in `Origin`. The launcher's own origin is the request's
 * scheme and `Host`, and, behind a reverse proxy, the first `X-Forwarded-Proto` and
 * `X-Forwarded-Host` values (what the outermost proxy was sent). Trusting those is safe for
 * this check: a page cannot set `Host` or `Origin`, nor any `X-Forwarded-*` header without a
 * preflight, which is refused for a foreign origin; and a client that is not a browser can
 * leave `Origin` out altogether, so forging the headers gains it nothing.
 *
 * Behind the launcher's own TLS listener the request's URL still says `http:` (its internal
 * server is plain HTTP): the callers then say that the request came over TLS.
 *
 * @module
 */

import type { TrustedProxies } from "./network.ts";

/**
 * The first of a header's comma-separated values: what the outermost proxy was sent.
 *
 * @param header the header's value, if any
 * @returns its first value, trimmed, or undefined when it is empty or missing
 */
export function firstValue(header: string | null): string | undefined {
  const first = header?.split(",")[0].trim();
  return first || undefined;
}

/**
 * An `Origin` value as `scheme://host[:port]`.
 *
 * @param value the header's value
 * @returns the origin, or undefined unless it is an http(s) URL (`null`, garbage)
 */
export function normaliseOrigin(value: string): string | undefined {
  if (!URL.canParse(value)) return undefined;
  const url = new URL(value);
  return url.protocol === "http:" || url.protocol === "https:" ? url.origin : undefined;
}

/**
 * The origins a browser on the launcher's own pages sends: direct, and through a proxy.
 *
 * @param req the request
 * @param tls whether it came over the launcher's own TLS listener (its URL says `http:`)
 * @returns one or two origins (the same one twice without forwarded headers)
 */
export function ownOrigins(req: Request, tls = false): string[] {
  const url = new URL(req.url);
  const scheme = requestScheme(url, tls);
  const host = req.headers.get("host") ?? url.host;
  const forwardedHost = firstValue(req.headers.get("x-forwarded-host")) ?? host;
  const forwardedProto = firstValue(req.headers.get("x-forwarded-proto")) ?? scheme;
  const origins = [originOf(scheme, host), originOf(forwardedProto.toLowerCase(), forwardedHost)];
  return origins.filter((o) => o !== undefined);
}

/**
 * Whether an `Origin` names one of the launcher's own pages.
 *
 * @param req the request
 * @param origin its `Origin` header
 * @param tls whether it came over the launcher's own TLS listener
 * @returns false for any other origin, and for `null` or garbage
 */
export function isOwnOrigin(req: Request, origin: string, tls = false): boolean {
  const normalised = normaliseOrigin(origin);
  return normalised !== undefined && ownOrigins(req, tls).includes(normalised);
}

/**
 * Whether the browser reached the launcher over HTTPS: directly, or through a TLS terminator
 * that says so in `X-Forwarded-Proto`.
 *
 * @param req the request
 * @param tls whether it came over the launcher's own TLS listener
 * @returns true when a cookie it is sent should be `Secure`
 */
export function viaHttps(req: Request, tls = false): boolean {
  return requestScheme(new URL(req.url), tls) === "https" || forwardedHttps(req);
}

/**
 * Whether the browser reached the launcher over TLS, as far as the launcher can know: on its
 * own TLS listener, or through a trusted proxy (a TLS terminator in front) whose
 * `X-Forwarded-Proto` says `https` first. From any other peer that header is the client's own
 * word, and what is decided here (the scheme of the `sessionURL` answered) must not be.
 *
 * @param req the request
 * @param via whether it came over the launcher's own TLS listener, and the peer's address
 * @param trusted the proxies whose forwarded headers are believed
 * @returns true when the browser's page is an `https:` one
 */
export function cameOverTls(
  req: Request,
  via: { tls?: boolean; peer?: string },
  trusted: TrustedProxies,
): boolean {
  if (requestScheme(new URL(req.url), via.tls) === "https") return true;
  return trusted.trusts(via.peer) && forwardedHttps(req);
}

/**
 * The scheme a request came in with: `https` on the launcher's own TLS listener (whose
 * internal server sees `http:`), else its URL's.
 *
 * @param url the request's URL
 * @param tls whether it came over the launcher's own TLS listener
 * @returns such as `http` or `https`
 */
export function requestScheme(url: URL, tls = false): string {
  return tls ? "https" : url.protocol.slice(0, -1);
}

/** Whether the first `X-Forwarded-Proto` says `https` (whoever sent it). */
function forwardedHttps(req: Request): boolean {
  return firstValue(req.headers.get("x-forwarded-proto"))?.toLowerCase() === "https";
}

function originOf(scheme: string, host: string): string | undefined {
  if (scheme !== "http" && scheme !== "https") return undefined;
  if (!/^[^\s/?#@\\]+$/.test(host)) return undefined;
  const text = `${scheme}://${host}`;
  return URL.canParse(text) ? new URL(text).origin : undefined;
}
