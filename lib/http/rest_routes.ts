/**
 * The REST routes of the process-launcher spec: POST to the endpoint starts a session, GET
 * and DELETE on `<endpoint>/<id>` describe and stop one, `<endpoint>/<id>/events` streams a
 * start's progress (see `progress_routes.ts`), all behind the front door; and the
 * static `content` files, when the config names a folder. Each launch request's outcome is
 * told to an observer (the metrics, the dashboard's failures).
 *
 * @module
 */

import type { LauncherConfig } from "../config/mod.ts";
import { BadRequestError, jsonResponse, LaunchError } from "../errors/mod.ts";
import { NoCapacityError, type SessionManager } from "../sessions/mod.ts";
import { PayloadTooLargeError } from "./errors.ts";
import type { FailureHandler, FrontDoor } from "./front_door.ts";
import {
  acceptLaunch,
  observed,
  prefersAsync,
  progressRoutes,
  sessionPattern,
} from "./progress_routes.ts";
import { parseLaunchBody, readBody, type RequestLimits } from "./request.ts";
import type { RequestContext, Route, RouteHandler } from "./route_types.ts";
import type { StallGuard } from "./stall_guard.ts";
import { serveFile } from "./static_files.ts";
import { sessionUrlForScheme } from "./session_url.ts";

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
  | "queue_timeout"
  | "job_ended"
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

/** What the REST routes are built from. */
export interface RestRoutesDeps {
  /** The loaded config. */
  config: LauncherConfig;
  /** The session table. */
  sessions: Pick<SessionManager, "launch" | "describe" | "stop" | "progress">;
  /** Request limits. */
  limits: RequestLimits;
  /** Told the outcome of every launch request. */
  observer?: LaunchObserver;
  /** Guards the routes: Origin check, CORS, api_token, rate limit. */
  door: FrontDoor;
  /** Turns what a guarded handler threw into its answer. */
  fail: FailureHandler;
  /** Abandons the content's answers that their clients stop reading. */
  stalls: StallGuard;
}

/**
 * Builds the REST routes, and the content route when the config names a folder.
 *
 * @param deps the config, the session table, the limits, the observer and the front door
 * @returns the routes, the content's last (it matches every path)
 */
export function restRoutes(deps: RestRoutesDeps): Route[] {
  const { config, sessions, door, fail } = deps;
  const overTls: SchemeOf = (req, ctx) => door.overTls(req, ctx);
  const answer = answerer(overTls);
  const content = config.content &&
    contentRoute(config.content, deps.stalls);
  const routes: Route[] = [
    {
      pattern: new URLPattern({ pathname: postPattern(config.endpoint) }),
      // At the root endpoint, GET / is the content's (its redirect to index.html).
      methods: {
        ...(config.endpoint === "/" && content ? content.methods : {}),
        ...door.guard({ POST: launchHandler(deps, answer, overTls) }, fail),
      },
    },
    {
      pattern: new URLPattern({ pathname: sessionPattern(config.endpoint) }),
      methods: door.guard({
        // A session whose id was given out before it was ready: 202 and where it is.
        GET: (req, p, ctx) =>
          Promise.resolve().then(() => {
            const about = sessions.describe(p.id!);
            return "proxy" in about ? answer(about, req, ctx) : jsonResponse(about, 202); // no sessionURL yet: nothing to rewrite
          }),
        DELETE: async (req, p, ctx) => {
          // A session stopped before it was ready has no answer to give (a job's has no host).
          const stopped = await sessions.stop(p.id!);
          if (stopped.wasReady) return answer(stopped.answer, req, ctx);
          return jsonResponse({
            id: stopped.id,
            application: stopped.application,
            state: "stopped",
          });
        },
      }, fail),
    },
    ...progressRoutes({ endpoint: config.endpoint, sessions, door, fail, overTls }),
  ];
  if (content) routes.push(content);
  return routes;
}

/** Whether a request's page came over TLS: directly, or through a trusted proxy that says so. */
type SchemeOf = (req: Request, ctx: RequestContext) => boolean;

/** Answers a session's JSON, its `sessionURL` in the scheme the client's page used. */
type Answerer = (
  body: Record<string, unknown>,
  req: Request,
  ctx: RequestContext,
  status?: number,
) => Response;

function answerer(overTls: SchemeOf): Answerer {
  return (body, req, ctx, status = 200) =>
    jsonResponse(sessionUrlForScheme(body, overTls(req, ctx)), status);
}

/** POST: reads the body, starts the session, and tells the observer how it went. */
function launchHandler(deps: RestRoutesDeps, answer: Answerer, overTls: SchemeOf): RouteHandler {
  const { config, sessions, limits, observer } = deps;
  return async (req, _params, ctx) => {
    let body;
    try {
      body = parseLaunchBody(
        await readBody(req, limits.maxBodyBytes, limits.bodyTimeoutMs),
        limits,
      );
    } catch (err) {
      observer?.launched("", launchOutcome(err), undefined, err);
      throw err;
    }
    const named = typeof body.application === "string" &&
      Object.hasOwn(config.apps, body.application);
    const application = named ? body.application as string : "";
    const outcome = { observer, outcome: launchOutcome };
    if (prefersAsync(req)) {
      // The outcome is told to the observer once known, not when the 202 is answered.
      return await acceptLaunch(req, body, application, {
        sessions,
        ...outcome,
        endpoint: config.endpoint,
        overTls: overTls(req, ctx),
      });
    }
    const session = await observed(sessions.launch(body), application, outcome);
    return answer(session.answer, req, ctx);
  };
}

/** GET and HEAD of the files under `root`; a file its client stops reading is abandoned. */
function contentRoute(root: string, stalls: StallGuard): Route {
  const files: RouteHandler = async (req, _params, ctx) => {
    const url = new URL(req.url);
    const answer = await serveFile(root, url.pathname, req.method === "HEAD", url.search);
    return stalls.guard(answer, ctx.remoteAddr);
  };
  return { pattern: new URLPattern({ pathname: "/*" }), methods: { GET: files, HEAD: files } };
}

/** Launch requests are taken with or without a trailing slash, except at a root. */
function postPattern(endpoint: string): string {
  return endpoint.endsWith("/") ? endpoint : `${endpoint}{/}?`;
}
