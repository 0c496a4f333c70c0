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
  MethodNotAllowedError,
  NotFoundError,
} from "./errors.ts";
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
}

type RouteHandler = (req: Request, params: Record<string, string | undefined>) => Promise<Response>;

interface Route {
  pattern: URLPattern;
  methods: Record<string, RouteHandler>;
}

const logger = () => getLogger(["pvw-launcher", "http"]);

function buildRoutes(deps: HandlerDeps): Route[] {
  const { config, sessions } = deps;
  const limits = deps.limits ?? DEFAULT_LIMITS;
  const launch: RouteHandler = async (req) => {
    const body = parseLaunchBody(await readBody(req, limits.maxBodyBytes), limits);
    const session = await sessions.launch(body);
    return jsonResponse(session.answer);
  };
  const routes: Route[] = [
    { pattern: new URLPattern({ pathname: `${config.endpoint}{/}?` }), methods: { POST: launch } },
    {
      pattern: new URLPattern({ pathname: `${config.endpoint}/:id` }),
      methods: {
        GET: (_req, p) => Promise.resolve(jsonResponse(sessions.describe(p.id!))),
        DELETE: async (_req, p) => jsonResponse((await sessions.stop(p.id!)).answer),
      },
    },
  ];
  if (config.content) {
    const root = config.content;
    const files: RouteHandler = (req) => {
      const path = new URL(req.url).pathname;
      return serveFile(root, path, req.method === "HEAD");
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
export function createHandler(deps: HandlerDeps): (req: Request) => Promise<Response> {
  const routes = buildRoutes(deps);
  return async (req) => {
    try {
      return await (deps.proxy?.handle(req) ?? route(routes, req));
    } catch (err) {
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
  };
}

async function route(routes: Route[], req: Request): Promise<Response> {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    throw new BadRequestError("the request URL is not valid");
  }
  for (const r of routes) {
    const match = r.pattern.exec({ pathname: url.pathname });
    if (!match) continue;
    const handler = r.methods[req.method];
    if (!handler) throw new MethodNotAllowedError(req.method, Object.keys(r.methods));
    return await handler(req, match.pathname.groups);
  }
  throw new NotFoundError(url.pathname);
}
