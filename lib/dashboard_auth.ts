/**
 * Who may use the dashboard, and how a browser stays logged in.
 *
 * With an `admin_token`, a request needs `Authorization: Bearer <token>` or the login cookie.
 * The cookie holds an expiry time and an HMAC of it under a key derived from the token, never
 * the token nor a plain hash of it: a stolen cookie opens the dashboard until it expires (12
 * hours), and changing the token (or the launcher restarting with another one) voids every
 * cookie at once, while a restart with the same token keeps admins logged in.
 *
 * Without a token the dashboard is served only to loopback clients that name a loopback host:
 * a request relayed by a reverse proxy on this machine (it carries `X-Forwarded-For`,
 * `Forwarded` or `X-Real-IP`) comes from somewhere else, and a `Host` such as `evil.example`
 * on a loopback connection is a DNS-rebinding page in the admin's own browser.
 *
 * Requests that change something and ride on ambient credentials (the cookie, or merely
 * being local) must come from the dashboard's own page: a browser sends `Sec-Fetch-Site` and
 * `Origin` on them, and neither may name another site; the API's POSTs must also carry the
 * {@linkcode CSRF_HEADER}, which no other site can add without a CORS preflight, which the
 * dashboard never grants. Bearer requests are exempt: a browser never adds that header by itself.
 *
 * @module
 */

import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { DashboardForbiddenError, DashboardUnauthorizedError } from "./errors.ts";

/** The header the dashboard's page sends with the API's POSTs. */
export const CSRF_HEADER = "x-pvw-dashboard";

/** The login cookie's name. */
export const COOKIE_NAME = "pvw_dashboard";

/** How a request proved it may use the dashboard. */
export type Credential = "bearer" | "cookie" | "loopback";

/** What the dashboard's guard is built from. */
export interface DashboardAuthOptions {
  /** The `admin_token`; without one only loopback clients are served. @default none */
  token?: string;
  /** The dashboard's path, which the cookie is limited to. */
  path: string;
  /** The wall clock, in ms since the epoch. @default Date.now */
  now?: () => number;
  /** How long a login lasts, in seconds. @default 43200 (12 hours) */
  loginSeconds?: number;
}

/** Decides who may use the dashboard, and makes and checks its login cookie. */
export class DashboardAuth {
  readonly #tokenDigest: Uint8Array | undefined;
  readonly #key: Uint8Array | undefined;
  readonly #path: string;
  readonly #now: () => number;
  readonly #loginSeconds: number;

  /**
   * Makes the guard.
   *
   * @param options the token, the dashboard's path, the clock and how long a login lasts
   */
  constructor(options: DashboardAuthOptions) {
    const { token } = options;
    this.#tokenDigest = token === undefined ? undefined : digest(token);
    this.#key = token === undefined
      ? undefined
      : createHmac("sha256", token).update("pvw-launcher dashboard login v1").digest();
    this.#path = options.path;
    this.#now = options.now ?? Date.now;
    this.#loginSeconds = options.loginSeconds ?? 12 * 3600;
  }

  /** Whether an `admin_token` is configured (and so a login is needed). */
  get tokenRequired(): boolean {
    return this.#key !== undefined;
  }

  /**
   * Checks that the request may use the dashboard.
   *
   * @param req the request
   * @param remote the client's address
   * @returns how it proved it
   * @throws {DashboardUnauthorizedError} when a token is configured and the request lacks it
   * @throws {DashboardForbiddenError} when no token is configured and the client is not local
   */
  check(req: Request, remote: Deno.NetAddr | undefined): Credential {
    if (!this.#tokenDigest) {
      if (!isLocal(req, remote)) throw new DashboardForbiddenError("not_local");
      return "loopback";
    }
    const header = req.headers.get("authorization");
    if (header !== null) {
      const m = header.match(/^Bearer[ \t]+(\S+)[ \t]*$/i);
      if (!m || !this.tokenMatches(m[1])) throw new DashboardUnauthorizedError("invalid");
      return "bearer";
    }
    if (this.#validCookie(req)) return "cookie";
    throw new DashboardUnauthorizedError("missing");
  }

  /**
   * Compares a candidate with the token in constant time.
   *
   * @param candidate what the client sent
   * @returns true when it is the token (never true without one)
   */
  tokenMatches(candidate: string): boolean {
    return this.#tokenDigest !== undefined && timingSafeEqual(digest(candidate), this.#tokenDigest);
  }

  /**
   * The `Set-Cookie` value that logs a browser in.
   *
   * @param req the login request (an HTTPS one gets a `Secure` cookie)
   * @returns the header value
   * @throws {Error} without a configured token
   */
  loginCookie(req: Request): string {
    if (!this.#key) throw new Error("no admin_token: there is nothing to log in to");
    const expires = Math.floor(this.#now() / 1000) + this.#loginSeconds;
    const value = `${expires}.${this.#mac(expires)}`;
    return this.#cookie(req, value, this.#loginSeconds);
  }

  /**
   * The `Set-Cookie` value that logs a browser out.
   *
   * @param req the logout request
   * @returns the header value
   */
  logoutCookie(req: Request): string {
    return this.#cookie(req, "", 0);
  }

  /**
   * Refuses a state-changing request that another site may have made the browser send.
   *
   * @param req the request
   * @param credential how it proved it may use the dashboard
   * @param needHeader whether it must carry {@linkcode CSRF_HEADER} (the page's own fetches do;
   *   a login form cannot)
   * @throws {DashboardForbiddenError} when it may come from another site
   */
  checkSameSite(req: Request, credential: Credential | "none", needHeader: boolean): void {
    if (credential === "bearer") return;
    const site = req.headers.get("sec-fetch-site");
    const origin = req.headers.get("origin");
    const crossSite = (site !== null && site !== "same-origin") ||
      (origin !== null && !ownOrigins(req).includes(origin)) ||
      (needHeader && req.headers.get(CSRF_HEADER) === null);
    if (crossSite) throw new DashboardForbiddenError("cross_site");
  }

  #validCookie(req: Request): boolean {
    const value = readCookie(req.headers.get("cookie"), COOKIE_NAME);
    const m = value?.match(/^(\d{1,12})\.([A-Za-z0-9_-]{43})$/);
    if (!m) return false;
    const expires = Number(m[1]);
    if (expires * 1000 <= this.#now()) return false;
    const encoder = new TextEncoder();
    return timingSafeEqual(encoder.encode(m[2]), encoder.encode(this.#mac(expires)));
  }

  #mac(expires: number): string {
    return createHmac("sha256", this.#key!).update(`login:${expires}`).digest("base64url");
  }

  #cookie(req: Request, value: string, maxAge: number): string {
    const secure = isHttps(req) ? "; Secure" : "";
    return `${COOKIE_NAME}=${value}; Path=${this.#path}; Max-Age=${maxAge}; HttpOnly; ` +
      `SameSite=Strict${secure}`;
  }
}

/** Comparing digests takes the same time whatever the lengths and contents compared. */
function digest(text: string): Uint8Array {
  return createHash("sha256").update(text).digest();
}

/**
 * Reads one cookie from a `Cookie` header.
 *
 * @param header the header, if any
 * @param name the cookie's name
 * @returns its value, or undefined
 */
export function readCookie(header: string | null, name: string): string | undefined {
  for (const part of header?.split(";") ?? []) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Whether an address is a loopback one: 127.0.0.0/8, `::1`, or IPv4-mapped 127.0.0.0/8.
 *
 * @param address an IP address as `Deno.NetAddr` gives it
 * @returns true for loopback addresses
 */
export function isLoopbackAddress(address: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address) || address === "::1" ||
    /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/i.test(address);
}

/** Host names that can only mean this machine. */
function isLoopbackHost(hostname: string): boolean {
  return hostname === "localhost" || hostname.endsWith(".localhost") || hostname === "[::1]" ||
    isLoopbackAddress(hostname);
}

const FORWARDING_HEADERS = ["forwarded", "x-forwarded-for", "x-real-ip"];

function isLocal(req: Request, remote: Deno.NetAddr | undefined): boolean {
  if (!remote || !isLoopbackAddress(remote.hostname)) return false;
  if (FORWARDING_HEADERS.some((h) => req.headers.has(h))) return false;
  return isLoopbackHost(new URL(req.url).hostname);
}

function isHttps(req: Request): boolean {
  const proto = req.headers.get("x-forwarded-proto")?.split(",")[0].trim().toLowerCase();
  return new URL(req.url).protocol === "https:" || proto === "https";
}

/** The origins the dashboard's own page sends: direct, and through a reverse proxy. */
function ownOrigins(req: Request): string[] {
  const url = new URL(req.url);
  const origins = [url.origin];
  const host = req.headers.get("x-forwarded-host")?.split(",")[0].trim();
  if (host) {
    const proto = req.headers.get("x-forwarded-proto")?.split(",")[0].trim().toLowerCase() ??
      url.protocol.slice(0, -1);
    const text = `${proto}://${host}`;
    if ((proto === "http" || proto === "https") && URL.canParse(text)) {
      origins.push(new URL(text).origin);
    }
  }
  return origins;
}
