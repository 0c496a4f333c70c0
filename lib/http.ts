/**
 * The launcher's HTTP layer: one route table of `URLPattern`s, mapping requests to the
 * session table. Every error answer is JSON `{"error": "..."}`; 404 (no route) and 405 (wrong
 * method, with `Allow`) are different answers.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { LauncherConfig } from "./config_types.ts";
import {
  BadRequestError,
  errorResponse,
  jsonResponse,
  LaunchError,
  MethodNotAllowedError,
  NoCapacityError,
  NotFoundError,
  PayloadTooLargeError,
} from "./errors.ts";
import { FrontDoor } from "./front_door.ts";
import { DEFAULT_LIMITS, parseLaunchBody, readBody, type RequestLimits } from "./request.ts";
import type { SessionProxy } from "./proxy.ts";
import type { SessionManager } from "./sessions.ts";
import { serveFile } from "./static_files.ts";

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
}

/** What the server knows of a request besides the request itself. */
export interface RequestContext {
  /** The client's address. */
  remoteAddr?: Deno.NetAddr;
}

/** Answers a request that matched a route; `params` are the pattern's path groups. */
export type RouteHandler = (
  req: Request,
  params: Record<string, string | undefined>,
  ctx: RequestContext,
) => Promise<Response>;

/** A path pattern and the methods it takes. */
export interface Route {
  /** The path it matches. */
  pattern: URLPattern;
  /** Its handlers by method. */
  methods: Record<string, RouteHandler>;
}

/** How a launch request ended. */
export type LaunchOutcome =
  | "ready"
  | "timeout"
  | "exited"
  | "spawn_error"
  | "no_capacity"
  | "bad_request"
  | "stopped"
  | "map_error"
  | "error";

/** Told the outcome of every launch request (metrics). */
export interface LaunchObserver {
  /**
   * A launch request ended.
   *
   * @param application the application asked for, or "" when none was valid
   * @param outcome how it ended
   * @param readySeconds from request to ready line, when it became ready
   * @param error what the launch threw, when it failed
   */
  launched(
    application: string,
    outcome: LaunchOutcome,
    readySeconds?: number,
    error?: unknown,
  ): void;
}

/**
 * Classifies what a launch threw.
 *
 * @param err the error
 * @returns the outcome it stands for
 */
export function launchOutcome(err: unknown): LaunchOutcome {
  if (err instanceof LaunchError) return err.reason;
  if (err instanceof NoCapacityError) return "no_capacity";
  if (err instanceof BadRequestError || err instanceof PayloadTooLargeError) return "bad_request";
  return "error";
}

const logger = () => getLogger(["pvw-launcher", "http"]);

function buildRoutes(deps: HandlerDeps): Route[] {
  const { config, sessions } = deps;
  const limits = deps.limits ?? DEFAULT_LIMITS;
  const observer = deps.observer;
  const door = deps.frontDoor ?? new FrontDoor(config);
  const launch: RouteHandler = async (req) => {
    let application = "";
    try {
      const body = parseLaunchBody(await readBody(req, limits.maxBodyBytes), limits);
      if (typeof body.application === "string" && Object.hasOwn(config.apps, body.application)) {
        application = body.application;
      }
      const session = await sessions.launch(body);
      const readyMs = session.readyMs;
      observer?.launched(application, "ready", readyMs === undefined ? undefined : readyMs / 1000);
      return jsonResponse(session.answer);
    } catch (err) {
      observer?.launched(application, launchOutcome(err), undefined, err);
      throw err;
    }
  };
  const routes: Route[] = [
    ...deps.routes ?? [],
    {
      pattern: new URLPattern({ pathname: `${config.endpoint}{/}?` }),
      methods: door.guard({ POST: launch }, failure),
    },
    {
      pattern: new URLPattern({ pathname: `${config.endpoint}/:id` }),
      methods: door.guard({
        GET: (_req, p) => Promise.resolve(jsonResponse(sessions.describe(p.id!))),
        DELETE: async (_req, p) => jsonResponse((await sessions.stop(p.id!)).answer),
      }, failure),
    },
  ];
  if (config.content) {
    const root = config.content;
    const files: RouteHandler = (req) => {
      const url = new URL(req.url);
      return serveFile(root, url.pathname, req.method === "HEAD", url.search);
    };
    routes.push({
      pattern: new URLPattern({ pathname: "/*" }),
      methods: { GET: files, HEAD: files },
    });
  }
  return routes;
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
  const routes = buildRoutes(deps).map(indexed);
  return async (req, ctx = {}) => {
    try {
      let url: URL;
      try {
        url = new URL(req.url);
      } catch {
        throw new BadRequestError("the request URL is not valid");
      }
      return await (deps.proxy?.handle(req, url) ?? route(routes, req, ctx, url));
    } catch (err) {
      return await failure(req, err);
    }
  };
}

/** A route and the literal start its paths must have: a cheap test before `URLPattern`. */
interface IndexedRoute extends Route {
  prefix: string;
}

function indexed(r: Route): IndexedRoute {
  const source = r.pattern.pathname;
  const end = source.search(/[:*{(\\]/);
  return { ...r, prefix: end === -1 ? source : source.slice(0, end) };
}

/** The error answer to a request: logged when it is a 500, the unread body discarded. */
async function failure(req: Request, err: unknown): Promise<Response> {
  const answer = errorResponse(err);
  if (answer.status === 500) {
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
    if (!url.pathname.startsWith(r.prefix)) continue;
    const match = r.pattern.exec({ pathname: url.pathname });
    if (!match) continue;
    const handler = r.methods[req.method];
    if (!handler) throw new MethodNotAllowedError(req.method, Object.keys(r.methods));
    return await handler(req, match.pathname.groups, ctx);
  }
  throw new NotFoundError(url.pathname);
}
