/**
 * The REST API's front door: which web pages may call it (the `Origin` check and CORS), the
 * optional `api_token`, and the per-client `rate_limit` on POST.
 *
 * Why an `Origin` check: the real clients POST with no Content-Type, so browsers send a
 * `text/plain` "simple" request, which no CORS preflight guards. Without the check any web page
 * could make its visitors' browsers start processes here. A request that carries an `Origin`
 * other than the launcher's own or one of `allowed_origins` is refused before it is read; a
 * request without one (curl, a server) is not a browser's cross-site request and passes.
 *
 * Whose pages are the launcher's own, and how a bearer token is checked, is decided in
 * `client/` ({@linkcode ownOrigins}, {@linkcode cameOverTls}, {@linkcode SecretToken}).
 *
 * @module
 */

import type { RateLimit } from "../config/mod.ts";
import { UnauthorizedError } from "../errors/mod.ts";
import { ForbiddenOriginError, RateLimitedError } from "./errors.ts";
import type { RequestContext, RouteHandler } from "./route_types.ts";
import {
  cameOverTls,
  normaliseOrigin,
  ownOrigins,
  SecretToken,
  TrustedProxies,
} from "../client/mod.ts";
import { clientKey, RateLimiter } from "./rate_limit.ts";

/** What guards the REST API; a {@linkcode LauncherConfig} fits as it is. */
export interface FrontDoorOptions {
  /** Normalised origins (`https://app.example.com`), besides the launcher's own. @default [] */
  allowedOrigins?: string[];
  /** The token REST requests must send as `Authorization: Bearer <token>`. @default none */
  apiToken?: string;
  /** Per-client limit on POSTs. @default none */
  rateLimit?: RateLimit;
  /** A monotonic clock in milliseconds, for the rate limit. @default performance.now */
  now?: () => number;
  /** Most clients whose rate-limit buckets are remembered. @default 10000 */
  maxClients?: number;
  /** Proxies whose `X-Forwarded-For` names the client. @default this machine (loopback) */
  trustedProxies?: readonly string[];
}

/** Turns what a handler threw into its answer. */
export type FailureHandler = (req: Request, err: unknown) => Promise<Response>;

/** The realm of the REST API's `WWW-Authenticate` challenge. */
const REALM = "pvw-launcher";
/** What a REST client without the `api_token` is told. */
const NO_TOKEN = {
  missing: "this launcher needs an Authorization: Bearer <token> header",
  invalid: "the bearer token is not valid",
};

/** The methods a page of an allowed origin may use, as preflight answers list them. */
export const CORS_METHODS = "POST, GET, DELETE";
/** The request headers a page of an allowed origin may send. */
export const CORS_HEADERS = "content-type, authorization, prefer";
/** How long, in seconds, a browser may cache a preflight answer. */
export const CORS_MAX_AGE = 600;

/**
 * Guards the REST routes: the `Origin` check and CORS headers, `api_token`, `rate_limit`.
 *
 * @example
 * ```ts
 * import { FrontDoor } from "./front_door.ts";
 * const door = new FrontDoor({ allowedOrigins: ["https://app.example.com"] });
 * const req = new Request("http://launcher:8080/paraview", {
 *   method: "POST",
 *   headers: { origin: "https://evil.example" },
 * });
 * door.cors(req); // throws ForbiddenOriginError
 * ```
 */
export class FrontDoor {
  #allowed: Set<string>;
  #token: SecretToken | undefined;
  #limiter: RateLimiter | undefined;
  #trusted: TrustedProxies;

  /**
   * Makes the front door.
   *
   * @param options the allowed origins, token and rate limit (a `LauncherConfig` will do)
   */
  constructor(options: FrontDoorOptions = {}) {
    this.#allowed = new Set(options.allowedOrigins ?? []);
    this.#token = options.apiToken === undefined ? undefined : new SecretToken(options.apiToken);
    this.#limiter = options.rateLimit &&
      new RateLimiter(options.rateLimit, { now: options.now, maxClients: options.maxClients });
    this.#trusted = new TrustedProxies(options.trustedProxies);
  }

  /** Clients the rate limit remembers now (bounded by `maxClients`). */
  get trackedClients(): number {
    return this.#limiter?.size ?? 0;
  }

  /**
   * Checks the request's `Origin`.
   *
   * @param req the request
   * @param tls whether it came over the launcher's own TLS listener
   * @returns the CORS headers its answer carries
   * @throws {ForbiddenOriginError} when a page of another origin sent it
   */
  cors(req: Request, tls = false): Record<string, string> {
    const origin = req.headers.get("origin");
    if (origin === null) return { vary: "Origin" };
    if (!this.#allows(origin, req, tls)) throw new ForbiddenOriginError(origin);
    return {
      vary: "Origin",
      "access-control-allow-origin": origin,
      "access-control-expose-headers": "retry-after, location, preference-applied",
    };
  }

  /**
   * Checks the bearer token, then, for a POST, takes one request from the client's bucket.
   *
   * @param req the request
   * @param remote the client's address, which the rate limit counts by
   * @throws {UnauthorizedError} when `api_token` is set and the request lacks it
   * @throws {RateLimitedError} when the client has used up its requests
   */
  admit(req: Request, remote?: Deno.NetAddr): void {
    const problem = this.#token?.checkBearer(req.headers.get("authorization"));
    if (problem) throw new UnauthorizedError(REALM, problem, NO_TOKEN[problem]);
    if (this.#limiter && req.method === "POST") {
      const wait = this.#limiter.take(
        clientKey(this.#trusted.client(req.headers, remote?.hostname ?? "unknown")),
      );
      if (wait > 0) throw new RateLimitedError(wait);
    }
  }

  /**
   * Answers `OPTIONS`: a CORS preflight from an allowed origin gets 204 and what it may send;
   * one without `Origin` gets 204 and `Allow`.
   *
   * @param req the request
   * @param allow the methods of the path, for `Allow`
   * @param tls whether it came over the launcher's own TLS listener
   * @returns the 204 answer
   * @throws {ForbiddenOriginError} when a page of another origin sent it
   */
  preflight(req: Request, allow: string[], tls = false): Response {
    const headers: Record<string, string> = { allow: [...allow, "OPTIONS"].join(", ") };
    const origin = req.headers.get("origin");
    if (origin !== null) {
      if (!this.#allows(origin, req, tls)) throw new ForbiddenOriginError(origin);
      Object.assign(headers, {
        vary: "Origin",
        "access-control-allow-origin": origin,
        "access-control-allow-methods": CORS_METHODS,
        "access-control-allow-headers": CORS_HEADERS,
        "access-control-max-age": String(CORS_MAX_AGE),
      });
      // Chrome asks before a public page reaches a private address (Private Network Access).
      if (req.headers.get("access-control-request-private-network") === "true") {
        headers["access-control-allow-private-network"] = "true";
      }
    }
    return new Response(null, { status: 204, headers });
  }

  /**
   * Wraps a REST route's handlers: each checks the origin, token and rate limit first, and
   * every answer, errors included, carries the CORS headers; `OPTIONS` answers preflights.
   * A refused origin is thrown, so its answer carries no CORS headers.
   *
   * @param methods the route's handlers by method
   * @param fail turns what a handler threw into its answer
   * @returns the guarded handlers, plus `OPTIONS`
   */
  guard(
    methods: Record<string, RouteHandler>,
    fail: FailureHandler,
  ): Record<string, RouteHandler> {
    const allow = Object.keys(methods);
    const guarded: Record<string, RouteHandler> = {};
    for (const [method, handle] of Object.entries(methods)) {
      guarded[method] = async (req, params, ctx) => {
        const cors = this.cors(req, ctx.tls);
        let answer: Response;
        try {
          this.admit(req, ctx.remoteAddr);
          answer = await handle(req, params, ctx);
        } catch (err) {
          answer = await fail(req, err);
        }
        return withHeaders(answer, cors);
      };
    }
    guarded.OPTIONS = (req, _params, ctx) =>
      Promise.resolve().then(() => this.preflight(req, allow, ctx.tls));
    return guarded;
  }

  /**
   * Whether the client's page came over TLS: on the launcher's own listener, or through a
   * trusted proxy whose `X-Forwarded-Proto` says so.
   *
   * @param req the request
   * @param ctx the peer and whether it came over the launcher's own TLS listener
   * @returns true when the page is an `https:` one
   */
  overTls(req: Request, ctx: RequestContext): boolean {
    return cameOverTls(req, { tls: ctx.tls, peer: ctx.remoteAddr?.hostname }, this.#trusted);
  }

  #allows(origin: string, req: Request, tls: boolean): boolean {
    const normalised = normaliseOrigin(origin); // undefined for `null` (sandboxed pages, files)
    return normalised !== undefined &&
      (this.#allowed.has(normalised) || ownOrigins(req, tls).includes(normalised));
  }
}

/** Adds headers to an answer (`Vary` is appended to); copies an answer whose headers are fixed. */
function withHeaders(answer: Response, headers: Record<string, string>): Response {
  try {
    apply(answer.headers, headers);
    return answer;
  } catch {
    const copy = new Response(answer.body, answer);
    apply(copy.headers, headers);
    return copy;
  }
}

function apply(target: Headers, headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) {
    if (name === "vary") target.append(name, value);
    else target.set(name, value);
  }
}
