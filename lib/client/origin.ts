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
 * @module
 */

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
 * @returns one or two origins (the same one twice without forwarded headers)
 */
export function ownOrigins(req: Request): string[] {
  const url = new URL(req.url);
  const scheme = url.protocol.slice(0, -1);
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
 * @returns false for any other origin, and for `null` or garbage
 */
export function isOwnOrigin(req: Request, origin: string): boolean {
  const normalised = normaliseOrigin(origin);
  return normalised !== undefined && ownOrigins(req).includes(normalised);
}

/**
 * Whether the browser reached the launcher over HTTPS: directly, or through a TLS terminator
 * that says so in `X-Forwarded-Proto`.
 *
 * @param req the request
 * @returns true when a cookie it is sent should be `Secure`
 */
export function viaHttps(req: Request): boolean {
  const proto = firstValue(req.headers.get("x-forwarded-proto"))?.toLowerCase();
  return new URL(req.url).protocol === "https:" || proto === "https";
}

function originOf(scheme: string, host: string): string | undefined {
  if (scheme !== "http" && scheme !== "https") return undefined;
  if (!/^[^\s/?#@\\]+$/.test(host)) return undefined;
  const text = `${scheme}://${host}`;
  return URL.canParse(text) ? new URL(text).origin : undefined;
}
