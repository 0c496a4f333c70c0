/**
 * The launcher's HTTP handler: one route table of `URLPattern`s (other folders' routes, then
 * the REST routes and the content), and the built-in proxy before it. Every error answer is JSON `{"error": "..."}`; 404 (no route) and 405 (wrong
 * method, with `Allow`) are different answers.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { LauncherConfig } from "../config/mod.ts";
import { BadRequestError, errorResponse, HttpError } from "../errors/mod.ts";
import type { SessionProxy } from "../proxy/mod.ts";
import type { SessionManager } from "../sessions/mod.ts";
import { MethodNotAllowedError, NotFoundError } from "./errors.ts";
import { FrontDoor } from "./front_door.ts";
import { StallGuard } from "./stall_guard.ts";
import { indexed, type IndexedRoute } from "./path_match.ts";
import { DEFAULT_LIMITS, type RequestLimits } from "./request.ts";
import { type LaunchObserver, restRoutes } from "./rest_routes.ts";
import type { RequestContext, Route } from "./route_types.ts";

/** What the handler serves. */
export interface HandlerDeps {
  /** The loaded config. */
  config: LauncherConfig;
  /** The session table. */
  sessions: SessionManager;
  /** The built-in proxy, served under `/proxy`. */
  proxy?: SessionProxy;
  /** Request limits. @default DEFAULT_LIMITS */
  limits?: RequestLimits;
  /** Told the outcome of every launch request. */
  observer?: LaunchObserver;
  /** Guards the REST routes: Origin check, CORS, api_token, rate limit. @default from config */
  frontDoor?: FrontDoor;
  /** More routes (metrics, dashboard, ...), tried before the REST and content routes. */
  routes?: Route[];
  /**
   * Ends a client's connection (the connection guard's), for an answer it stopped reading.
   * @default the answer's body errors, which ends it too
   */
  cut?: (peer: Deno.NetAddr) => void;
}

const logger = () => getLogger(["pvw-launcher", "http"]);

function buildRoutes(deps: HandlerDeps, stalls: StallGuard): Route[] {
  const config = deps.config;
  return [
    ...deps.routes ?? [],
    ...restRoutes({
      config,
      sessions: deps.sessions,
      limits: deps.limits ?? DEFAULT_LIMITS,
      observer: deps.observer,
      door: deps.frontDoor ?? new FrontDoor(config),
      fail: failure,
      stalls,
    }),
  ];
}

/**
 * Builds the request handler.
 *
 * @param deps the config and session table
 * @returns a handler for `Deno.serve`
 */
export function createHandler(
  deps: HandlerDeps,
): (req: Request, ctx?: RequestContext) => Promise<Response> {
  // An answer its client stops reading is abandoned: a proxied one, or a content file.
  const stalls = new StallGuard(deps.config.keepAliveTimeoutMs, deps.cut);
  const routes = buildRoutes(deps, stalls).map(indexed);
  return async (req, ctx = {}) => {
    try {
      let url: URL;
      try {
        url = new URL(req.url);
      } catch {
        throw new BadRequestError("the request URL is not valid");
      }
      const proxied = deps.proxy?.handle(req, url, ctx.remoteAddr, ctx.tls);
      if (proxied) return stalls.guard(await proxied, ctx.remoteAddr);
      return await route(routes, req, ctx, url);
    } catch (err) {
      return await failure(req, err);
    }
  };
}

/**
 * Builds a handler that serves the given routes and nothing else (404 JSON for any other
 * path): the dashboard's own listener.
 *
 * @param routes the routes
 * @returns a handler for `Deno.serve`
 */
export function createRoutesHandler(
  routes: Route[],
): (req: Request, ctx?: RequestContext) => Promise<Response> {
  const indexedRoutes = routes.map(indexed);
  return async (req, ctx = {}) => {
    try {
      return await route(indexedRoutes, req, ctx, new URL(req.url));
    } catch (err) {
      return await failure(req, err);
    }
  };
}

/**
 * The error answer to a request: logged when it is unexpected (a named error, such as a stop
 * that could not finish, was logged where it happened), the unread body discarded.
 */
async function failure(req: Request, err: unknown): Promise<Response> {
  const answer = errorResponse(err);
  if (!(err instanceof HttpError)) {
    logger().error("request {method} {url} failed: {error}", {
      method: req.method,
      url: req.url,
      error: String((err as Error)?.stack ?? err),
    });
  }
  if (req.body && !req.bodyUsed) await req.body.cancel().catch(() => {});
  return answer;
}

async function route(
  routes: IndexedRoute[],
  req: Request,
  ctx: RequestContext,
  url: URL,
): Promise<Response> {
  for (const r of routes) {
    const groups = r.match(url.pathname);
    if (!groups) continue;
    const handler = r.methods[req.method];
    if (!handler) throw new MethodNotAllowedError(req.method, Object.keys(r.methods));
    return await handler(req, groups, ctx);
  }
  throw new NotFoundError(url.pathname);
}
