/**
 * The dashboard's routes, under `dashboard_path` (`/_dashboard` by default): the page, its
 * login form, and the JSON API the page reads.
 *
 * | request                                | answer                                                |
 * | -------------------------------------- | ----------------------------------------------------- |
 * | `GET  <path>`                          | redirect to `<path>/`                                 |
 * | `GET  <path>/`                         | the page (or, with a token and no login, the form)    |
 * | `GET  <path>/login`, `POST <path>/login` | the login form; the token, which sets the cookie   |
 * | `POST <path>/logout`                   | clears the cookie                                     |
 * | `GET  <path>/api/state`                | the state as JSON                                     |
 * | `GET  <path>/api/events`               | the state as server-sent events, on every change      |
 * | `GET  <path>/api/sessions/:id/log`     | the tail of the session's log (`?bytes=`, text)       |
 * | `POST <path>/api/sessions/:id/stop`    | stops the session                                     |
 *
 * Everything but the login form needs what {@linkcode DashboardAuth} asks for; errors are
 * JSON `{"error": ...}` like everywhere else.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { LauncherConfig } from "./config_types.ts";
import { type Credential, DashboardAuth } from "./dashboard_auth.ts";
import type { DashboardEvents } from "./dashboard_events.ts";
import { dashboardPage, loginPage, type Page } from "./dashboard_page.ts";
import type { DashboardState } from "./dashboard_state.ts";
import {
  BadRequestError,
  DashboardUnauthorizedError,
  jsonResponse,
  UnknownSessionError,
} from "./errors.ts";
import type { RequestContext, Route, RouteHandler } from "./http.ts";
import { readTail } from "./log_tail.ts";
import { readBody } from "./request.ts";
import type { SessionInfo, SessionManager } from "./sessions.ts";

/** Bytes of a log answered unless `?bytes=` says otherwise. */
export const DEFAULT_LOG_BYTES = 16 * 1024;
/** Most bytes of a log answered. */
export const MAX_LOG_BYTES = 1024 * 1024;

/** What the dashboard reads and acts on. */
export interface DashboardDeps {
  /** The dashboard's path and token (a `LauncherConfig` will do). */
  config: Pick<LauncherConfig, "dashboardPath" | "adminToken">;
  /** The session table: its sessions (and their log files), and stopping one. */
  sessions: Pick<SessionManager, "list" | "stop">;
  /** Takes the state now. */
  state: () => DashboardState;
  /** The server-sent events hub. */
  events: DashboardEvents;
  /** Who may use it. @default a DashboardAuth from the config */
  auth?: DashboardAuth;
}

type Guarded = (
  req: Request,
  params: Record<string, string | undefined>,
  credential: Credential,
) => Promise<Response>;

const NO_STORE = { "cache-control": "no-store" };
const logger = () => getLogger(["pvw-launcher", "dashboard"]);

/**
 * Builds the dashboard's routes for `HandlerDeps.routes`.
 *
 * @param deps the config, session table, state, events hub and guard
 * @returns the routes
 */
export function dashboardRoutes(deps: DashboardDeps): Route[] {
  const base = deps.config.dashboardPath;
  const auth = deps.auth ?? new DashboardAuth({ token: deps.config.adminToken, path: base });
  const pages = {
    dashboard: dashboardPage(auth.tokenRequired),
    login: loginPage(false),
    retry: loginPage(true),
  };
  const guard = (handler: Guarded): RouteHandler => (req, params, ctx) =>
    handler(req, params, auth.check(req, ctx.remoteAddr));
  const route = (path: string, methods: Record<string, RouteHandler>): Route => ({
    pattern: new URLPattern({ pathname: `${base}${path}` }),
    methods,
  });
  return [
    route("", { GET: () => Promise.resolve(redirect(`${base}/`)) }),
    route("/", { GET: (req, _p, ctx) => Promise.resolve(home(req, ctx, auth, pages, base)) }),
    route("/login", {
      GET: (req) => Promise.resolve(loginForm(req, auth, pages, base)),
      POST: (req, _p, ctx) => login(req, ctx, auth, base),
    }),
    route("/logout", { POST: (req) => Promise.resolve(logout(req, auth, base)) }),
    route("/api/state", {
      GET: guard(() => Promise.resolve(jsonResponse(deps.state(), 200, NO_STORE))),
    }),
    route("/api/events", { GET: guard(() => Promise.resolve(eventStream(deps.events))) }),
    route("/api/sessions/:id/log", {
      GET: guard((req, p) => logTail(req, sessionById(deps.sessions, p.id!))),
    }),
    route("/api/sessions/:id/stop", {
      POST: guard(async (req, p, credential) => {
        auth.checkSameSite(req, credential, true);
        await req.body?.cancel();
        const session = await deps.sessions.stop(sessionById(deps.sessions, p.id!).id, "dashboard");
        return jsonResponse({ id: session.id, stopped: true }, 200, NO_STORE);
      }),
    }),
  ];
}

function redirect(location: string, headers: Record<string, string> = {}): Response {
  return new Response(null, { status: 303, headers: { location, ...NO_STORE, ...headers } });
}

function html(page: Page): Response {
  return new Response(page.html, { headers: page.headers });
}

/** The page; a browser that is not logged in (and sent no token) is sent to the form. */
function home(
  req: Request,
  ctx: RequestContext,
  auth: DashboardAuth,
  pages: Record<string, Page>,
  base: string,
): Response {
  try {
    auth.check(req, ctx.remoteAddr);
  } catch (err) {
    if (err instanceof DashboardUnauthorizedError && err.reason === "missing") {
      return redirect(`${base}/login`);
    }
    throw err;
  }
  return html(pages.dashboard);
}

function loginForm(
  req: Request,
  auth: DashboardAuth,
  pages: Record<string, Page>,
  base: string,
): Response {
  if (!auth.tokenRequired) return redirect(`${base}/`);
  return html(new URL(req.url).searchParams.has("failed") ? pages.retry : pages.login);
}

async function login(
  req: Request,
  ctx: RequestContext,
  auth: DashboardAuth,
  base: string,
): Promise<Response> {
  if (!auth.tokenRequired) {
    await req.body?.cancel();
    return redirect(`${base}/`);
  }
  auth.checkSameSite(req, "none", false);
  const token = new URLSearchParams(await readBody(req, 4096)).get("token");
  const client = ctx.remoteAddr?.hostname ?? "unknown";
  if (token === null || !auth.tokenMatches(token)) {
    logger().warn("dashboard login with a wrong token from {client}", { client });
    return redirect(`${base}/login?failed`);
  }
  logger().info("dashboard login from {client}", { client });
  return redirect(`${base}/`, { "set-cookie": auth.loginCookie(req) });
}

async function logout(req: Request, auth: DashboardAuth, base: string): Promise<Response> {
  auth.checkSameSite(req, "none", false);
  await req.body?.cancel();
  if (!auth.tokenRequired) return redirect(`${base}/`);
  return redirect(`${base}/login`, { "set-cookie": auth.logoutCookie(req) });
}

function eventStream(events: DashboardEvents): Response {
  return new Response(events.open(), {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      ...NO_STORE,
      // nginx and some other proxies would hold the events back otherwise.
      "x-accel-buffering": "no",
    },
  });
}

/** Finds a session of the table: the only way a log file is chosen. */
function sessionById(sessions: Pick<SessionManager, "list">, id: string): SessionInfo {
  const session = sessions.list().find((s) => s.id === id);
  if (!session) throw new UnknownSessionError(id);
  return session;
}

async function logTail(req: Request, session: SessionInfo): Promise<Response> {
  const raw = new URL(req.url).searchParams.get("bytes");
  if (raw !== null && !/^\d{1,12}$/.test(raw)) {
    throw new BadRequestError("bytes must be a whole number");
  }
  const bytes = Math.min(
    MAX_LOG_BYTES,
    Math.max(1, raw === null ? DEFAULT_LOG_BYTES : Number(raw)),
  );
  const tail = await readTail(session.logFile, bytes);
  return new Response(tail.text, {
    headers: {
      "content-type": "text/plain; charset=utf-8",
      "x-content-type-options": "nosniff",
      ...NO_STORE,
      "x-log-size": String(tail.size),
      "x-log-truncated": String(tail.truncated),
    },
  });
}
