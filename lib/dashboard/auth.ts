/**
 * Who may use the dashboard, and how a browser stays logged in.
 *
 * A request needs `Authorization: Bearer <token>` or the login cookie, always: where it comes
 * from proves nothing (a TLS terminator, `ssh -L` or `socat` on this machine makes every
 * request look local). Without an `admin_token` in the config the launcher makes one at start
 * and logs a login URL that carries it, as Jupyter does.
 *
 * The cookie holds an expiry time and an HMAC of it under a key derived from the token, never
 * the token nor a plain hash of it: a stolen cookie opens the dashboard until it expires (12
 * hours), and changing the token (or the launcher restarting with another one) voids every
 * cookie at once, while a restart with the same token keeps admins logged in. A page of
 * another port of the same host can add cookies of the same name (cookies do not keep ports
 * apart); any one valid cookie among them counts, so such a cookie cannot log the admin out.
 *
 * Requests that change something and ride on the cookie must come from the dashboard's own
 * page: a browser sends `Sec-Fetch-Site` and `Origin` on them, and neither may name another
 * origin; the API's POSTs must also carry the {@linkcode CSRF_HEADER}, which no other origin
 * can add without a CORS preflight, which the dashboard never grants. Bearer requests are
 * exempt: a browser never adds that header by itself.
 *
 * @module
 */

import { createHmac, timingSafeEqual } from "node:crypto";
import { isOwnOrigin, SecretToken, viaHttps } from "../client/mod.ts";
import { HttpError, UnauthorizedError } from "../errors/mod.ts";

/** The header the dashboard's page sends with the API's POSTs. */
export const CSRF_HEADER = "x-pvw-dashboard";

/** The login cookie's name. */
export const COOKIE_NAME = "pvw_dashboard";

/** The realm of the dashboard's `WWW-Authenticate` challenge. */
const REALM = "pvw-launcher dashboard";
/** What a request without the admin token or the login cookie is told. */
const NO_TOKEN = {
  missing:
    "the dashboard needs the admin token: log in, or send Authorization: Bearer <admin_token>",
  invalid: "the admin token is not valid",
};

/** How a request proved it may use the dashboard. */
export type Credential = "bearer" | "cookie";

/** What the dashboard's guard is built from. */
export interface DashboardAuthOptions {
  /** The `admin_token`, or the one the launcher made at start. */
  token: string;
  /** The dashboard's path, which the cookie is limited to. */
  path: string;
  /** The wall clock, in ms since the epoch. @default Date.now */
  now?: () => number;
  /** How long a login lasts, in seconds. @default 43200 (12 hours) */
  loginSeconds?: number;
}

/** Decides who may use the dashboard, and makes and checks its login cookie. */
export class DashboardAuth {
  readonly #token: SecretToken;
  readonly #key: Uint8Array;
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
    this.#token = new SecretToken(token);
    this.#key = createHmac("sha256", token).update("pvw-launcher dashboard login v1").digest();
    this.#path = options.path;
    this.#now = options.now ?? Date.now;
    this.#loginSeconds = options.loginSeconds ?? 12 * 3600;
  }

  /**
   * Checks that the request may use the dashboard.
   *
   * @param req the request
   * @returns how it proved it
   * @throws {UnauthorizedError} when the request has neither the token nor the cookie
   */
  check(req: Request): Credential {
    const header = req.headers.get("authorization");
    if (header !== null) {
      const problem = this.#token.checkBearer(header);
      if (problem) throw new UnauthorizedError(REALM, problem, NO_TOKEN[problem]);
      return "bearer";
    }
    if (this.#validCookie(req)) return "cookie";
    throw new UnauthorizedError(REALM, "missing", NO_TOKEN.missing);
  }

  /**
   * Compares a candidate with the token in constant time.
   *
   * @param candidate what the client sent
   * @returns true when it is the token
   */
  tokenMatches(candidate: string): boolean {
    return this.#token.matches(candidate);
  }

  /**
   * The `Set-Cookie` value that logs a browser in.
   *
   * @param req the login request (an HTTPS one gets a `Secure` cookie)
   * @param tls whether it came over the launcher's own TLS listener
   * @returns the header value
   */
  loginCookie(req: Request, tls = false): string {
    const expires = Math.floor(this.#now() / 1000) + this.#loginSeconds;
    const value = `${expires}.${this.#mac(expires)}`;
    return this.#cookie(req, value, this.#loginSeconds, tls);
  }

  /**
   * The `Set-Cookie` value that logs a browser out.
   *
   * @param req the logout request
   * @param tls whether it came over the launcher's own TLS listener
   * @returns the header value
   */
  logoutCookie(req: Request, tls = false): string {
    return this.#cookie(req, "", 0, tls);
  }

  /**
   * Refuses a state-changing request that another site may have made the browser send.
   *
   * @param req the request
   * @param credential how it proved it may use the dashboard
   * @param needHeader whether it must carry {@linkcode CSRF_HEADER} (the page's own fetches do;
   *   a login form cannot)
   * @param tls whether it came over the launcher's own TLS listener
   * @throws {DashboardForbiddenError} when it may come from another site
   */
  checkSameSite(
    req: Request,
    credential: Credential | "none",
    needHeader: boolean,
    tls = false,
  ): void {
    if (credential === "bearer") return;
    const site = req.headers.get("sec-fetch-site");
    const origin = req.headers.get("origin");
    const crossSite = (site !== null && site !== "same-origin") ||
      (origin !== null && !isOwnOrigin(req, origin, tls)) ||
      (needHeader && req.headers.get(CSRF_HEADER) === null);
    if (crossSite) throw new DashboardForbiddenError();
  }

  /** Whether any cookie of the name is valid: others of the name (a page's) do not matter. */
  #validCookie(req: Request): boolean {
    return readCookies(req.headers.get("cookie"), COOKIE_NAME).some((value) => {
      const m = value.match(/^(\d{1,12})\.([A-Za-z0-9_-]{43})$/);
      if (!m) return false;
      const expires = Number(m[1]);
      if (expires * 1000 <= this.#now()) return false;
      const encoder = new TextEncoder();
      return timingSafeEqual(encoder.encode(m[2]), encoder.encode(this.#mac(expires)));
    });
  }

  #mac(expires: number): string {
    return createHmac("sha256", this.#key).update(`login:${expires}`).digest("base64url");
  }

  #cookie(req: Request, value: string, maxAge: number, tls: boolean): string {
    const secure = viaHttps(req, tls) ? "; Secure" : "";
    return `${COOKIE_NAME}=${value}; Path=${this.#path}; Max-Age=${maxAge}; HttpOnly; ` +
      `SameSite=Strict${secure}`;
  }
}

/**
 * Reads one cookie from a `Cookie` header.
 *
 * @param header the header, if any
 * @param name the cookie's name
 * @returns its first value, or undefined
 */
export function readCookie(header: string | null, name: string): string | undefined {
  return readCookies(header, name)[0];
}

/**
 * Reads every cookie of a name from a `Cookie` header: a browser sends several when they
 * were set for different paths (or by different ports of the host).
 *
 * @param header the header, if any
 * @param name the cookie's name
 * @returns their values, in the header's order
 */
export function readCookies(header: string | null, name: string): string[] {
  const values: string[] = [];
  for (const part of header?.split(";") ?? []) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim());
  }
  return values;
}

/** The dashboard refuses a request that another site may have made a browser send (HTTP 403). */
export class DashboardForbiddenError extends HttpError {
  /** Makes the error. */
  constructor() {
    super(403, "the dashboard refuses requests made by other sites");
    this.name = "DashboardForbiddenError";
  }
}
