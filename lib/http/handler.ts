/**
 * The launcher's HTTP layer: one route table of `URLPattern`s, mapping requests to the
 * session table. Every error answer is JSON `{"error": "..."}`; 404 (no route) and 405 (wrong
 * method, with `Allow`) are different answers.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { LauncherConfig } from "../config/mod.ts";
import { BadRequestError, errorResponse, jsonResponse, LaunchError } from "../errors/mod.ts";
import { MethodNotAllowedError, NotFoundError, PayloadTooLargeError } from "./errors.ts";
import { NoCapacityError, type SessionManager } from "../sessions/mod.ts";
import { FrontDoor } from "./front_door.ts";
import { DEFAULT_LIMITS, parseLaunchBody, readBody, type RequestLimits } from "./request.ts";
import type { SessionProxy } from "../proxy/mod.ts";
import type { RequestContext, Route, RouteHandler } from "./route_types.ts";
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
  | "state_error"
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
      const body = parseLaunchBody(
        await readBody(req, limits.maxBodyBytes, limits.bodyTimeoutMs),
        limits,
      );
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
      pattern: new URLPattern({ pathname: postPattern(config.endpoint) }),
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
 * The path clients POST to: the endpoint, or `//` for the root endpoint of a wslink config
 * with `"endpoint": ""` (where the wslink launcher serves it; `/` stays free for the content).
 *
 * @param endpoint the config's endpoint
 * @returns the path
 */
export function launchPath(endpoint: string): string {
  return endpoint === "/" ? "//" : endpoint;
}

/** Launch requests are taken with or without a trailing slash, except at `//`. */
function postPattern(endpoint: string): string {
  return endpoint === "/" ? "//" : `${endpoint}{/}?`;
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
      return await (deps.proxy?.handle(req, url, ctx.remoteAddr) ?? route(routes, req, ctx, url));
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
 * A route with a faster matcher. `URLPattern.exec` costs microseconds, the bulk of a GET's
 * time under load, so the simple patterns the launcher uses (literal text, `:name` segments,
 * `{/}?`, a final `*`) are also compiled to a `RegExp`; any other pattern keeps `exec`.
 */
interface IndexedRoute extends Route {
  match: (pathname: string) => Record<string, string | undefined> | undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\/*-]/g, "\\$&");
}

/** Compiles a simple URLPattern pathname to a RegExp, or undefined when it is not simple. */
function simplePattern(source: string): RegExp | undefined {
  let re = "";
  for (const token of source.split(/(:[A-Za-z_][A-Za-z0-9_]*|\{\/\}\?|\*)/)) {
    if (token === "") continue;
    if (token.startsWith(":")) re += `(?<${token.slice(1)}>[^/]+)`;
    else if (token === "{/}?") re += "/?";
    else if (token === "*") re += "(?<_0>.*)";
    else if (/[(){}\\:*+?]/.test(token)) return undefined;
    else re += escapeRegExp(token);
  }
  return new RegExp(`^${re}$`);
}

function indexed(r: Route): IndexedRoute {
  return { ...r, match: pathMatcher(r.pattern) };
}

/**
 * A function that matches a path as `pattern.exec` would, faster for simple patterns.
 *
 * @param pattern the route's pattern
 * @returns the path groups of a match, or undefined
 */
export function pathMatcher(
  pattern: URLPattern,
): (pathname: string) => Record<string, string | undefined> | undefined {
  const re = simplePattern(pattern.pathname);
  if (!re) return (pathname) => pattern.exec({ pathname })?.pathname.groups;
  return (pathname) => {
    const m = re.exec(pathname);
    if (!m) return undefined;
    const groups: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(m.groups ?? {})) {
      groups[name === "_0" ? "0" : name] = value;
    }
    return groups;
  };
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
    const groups = r.match(url.pathname);
    if (!groups) continue;
    const handler = r.methods[req.method];
    if (!handler) throw new MethodNotAllowedError(req.method, Object.keys(r.methods));
    return await handler(req, groups, ctx);
  }
  throw new NotFoundError(url.pathname);
}
