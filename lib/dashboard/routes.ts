/**
 * The dashboard's routes, under `dashboard_path` (`/_dashboard` by default): the page, its
 * login form, and the JSON API the page reads.
 *
 * | request                                | answer                                                |
 * | -------------------------------------- | ----------------------------------------------------- |
 * | `GET  <path>`                          | redirect to `<path>/`                                 |
 * | `GET  <path>/`                         | the page (or, with a token and no login, the form)    |
 * | `GET  <path>/login`, `POST <path>/login` | the login form; the token, which sets the cookie   |
 * | `GET  <path>/login?token=...`          | the login URL the launcher logs: sets the cookie      |
 * | `POST <path>/logout`                   | clears the cookie                                     |
 * | `GET  <path>/api/state`                | the state as JSON                                     |
 * | `GET  <path>/api/events`               | the state as server-sent events, on every change      |
 * | `GET  <path>/api/sessions/:id/log`     | the tail of the session's log (`?bytes=`, text)       |
 * | `POST <path>/api/sessions/:id/stop`    | stops the session                                     |
 *
 * Everything but the login form needs what {@linkcode DashboardAuth} asks for; errors are
 * JSON `{"error": ...}` like everywhere else. With `dashboard_listen` these routes are served
 * on a listener of their own, where a session's pages (served through the proxy on the
 * launcher's port) are another origin.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { LauncherConfig } from "../config/mod.ts";
import { type Credential, DashboardAuth } from "./auth.ts";
import type { DashboardEvents } from "./events.ts";
import { dashboardPage, loginPage, type Page } from "./page.ts";
import type { DashboardState } from "./state.ts";
import { BadRequestError, HttpError, jsonResponse, UnauthorizedError } from "../errors/mod.ts";
import { type SessionInfo, type SessionManager, UnknownSessionError } from "../sessions/mod.ts";
import {
  eventStreamResponse,
  hostPort,
  readBody,
  type RequestContext,
  type Route,
  type RouteHandler,
} from "../http/mod.ts";
import { NotRegularFileError, readTail } from "../os/mod.ts";

/** Bytes of a log answered unless `?bytes=` says otherwise. */
const DEFAULT_LOG_BYTES = 16 * 1024;
/** Most bytes of a log answered. */
export const MAX_LOG_BYTES = 1024 * 1024;

/** What the dashboard reads and acts on. */
export interface DashboardDeps {
  /** The dashboard's path, and its token: the `admin_token`, or one made at start. */
  config: Pick<LauncherConfig, "dashboardPath"> & { adminToken: string };
  /** The session table: finding a session (and its log file), and stopping one. */
  sessions: Pick<SessionManager, "find" | "stop">;
  /** Takes the state now. */
  state: () => DashboardState;
  /** The server-sent events hub. */
  events: DashboardEvents;
  /** Who may use it. @default a DashboardAuth from the config */
  auth?: DashboardAuth;
  /** How long a login form's body may take to arrive, in ms. @default no limit */
  bodyTimeoutMs?: number;
}

type Guarded = (
  req: Request,
  params: Record<string, string | undefined>,
  credential: Credential,
  ctx: RequestContext,
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
    dashboard: dashboardPage(),
    login: loginPage(false),
    retry: loginPage(true),
  };
  const guard = (handler: Guarded): RouteHandler => (req, params, ctx) =>
    handler(req, params, auth.check(req), ctx);
  const route = (path: string, methods: Record<string, RouteHandler>): Route => ({
    pattern: new URLPattern({ pathname: `${base}${path}` }),
    methods,
  });
  return [
    route("", { GET: () => Promise.resolve(redirect(`${base}/`)) }),
    route("/", { GET: (req) => Promise.resolve(home(req, auth, pages, base)) }),
    route("/login", {
      GET: (req, _p, ctx) => Promise.resolve(loginForm(req, ctx, auth, pages, base)),
      POST: (req, _p, ctx) => login(req, ctx, auth, base, deps.bodyTimeoutMs),
    }),
    route("/logout", { POST: (req, _p, ctx) => Promise.resolve(logout(req, ctx, auth, base)) }),
    route("/api/state", {
      GET: guard(() => Promise.resolve(jsonResponse(deps.state(), 200, NO_STORE))),
    }),
    route("/api/events", { GET: guard(() => Promise.resolve(eventStream(deps.events))) }),
    route("/api/sessions/:id/log", {
      GET: guard((req, p) => logTail(req, sessionById(deps.sessions, p.id!))),
    }),
    route("/api/sessions/:id/stop", {
      POST: guard(async (req, p, credential, ctx) => {
        auth.checkSameSite(req, credential, true, ctx.tls);
        await req.body?.cancel();
        const session = await deps.sessions.stop(sessionById(deps.sessions, p.id!).id, "dashboard");
        return jsonResponse({ id: session.id, stopped: true }, 200, NO_STORE);
      }),
    }),
  ];
}

/**
 * What the log says of the dashboard at start: where it is, and how to log in. Without an
 * `admin_token` that is a URL that carries the token made at start, as Jupyter prints one.
 *
 * @param config the dashboard's path, and whether an `admin_token` is configured
 * @param addr where the dashboard is served
 * @param own whether that is a listener of its own (`dashboard_listen`)
 * @param token the token in use
 * @param scheme how it is served: `https` behind the launcher's own TLS
 * @returns the lines to log
 */
export function dashboardAnnouncement(
  config: Pick<LauncherConfig, "dashboardPath" | "adminToken">,
  addr: { hostname: string; port: number },
  own: boolean,
  token: string,
  scheme: "http" | "https" = "http",
): string[] {
  const wildcard = ["0.0.0.0", "::", ""].includes(addr.hostname);
  const where = hostPort({ hostname: wildcard ? "localhost" : addr.hostname, port: addr.port });
  const base = `${scheme}://${where}${config.dashboardPath}`;
  const lines = own ? [`dashboard listening on ${base}/`] : [];
  if (config.adminToken) lines.push(`dashboard: ${base}/ (log in with the admin_token)`);
  else {
    lines.push(
      `dashboard: log in at ${base}/login?token=${token} (a token made at start; set ` +
        "admin_token to keep one across restarts)",
    );
  }
  return lines;
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
  auth: DashboardAuth,
  pages: Record<string, Page>,
  base: string,
): Response {
  try {
    auth.check(req);
  } catch (err) {
    if (err instanceof UnauthorizedError && err.reason === "missing") {
      return redirect(`${base}/login`);
    }
    throw err;
  }
  return html(pages.dashboard);
}

/** The form; or, with `?token=` (the URL the launcher logs), the login itself. */
function loginForm(
  req: Request,
  ctx: RequestContext,
  auth: DashboardAuth,
  pages: Record<string, Page>,
  base: string,
): Response {
  const params = new URL(req.url).searchParams;
  const token = params.get("token");
  // The token is in the URL: send the browser on at once, and tell it to pass the URL to no one.
  if (token !== null) {
    return loggedIn(req, ctx, auth, base, token, { "referrer-policy": "no-referrer" });
  }
  return html(params.has("failed") ? pages.retry : pages.login);
}

async function login(
  req: Request,
  ctx: RequestContext,
  auth: DashboardAuth,
  base: string,
  bodyTimeoutMs?: number,
): Promise<Response> {
  auth.checkSameSite(req, "none", false, ctx.tls);
  const token = new URLSearchParams(await readBody(req, 4096, bodyTimeoutMs)).get("token");
  return loggedIn(req, ctx, auth, base, token);
}

/** Sets the login cookie when the token is right; else back to the form, which says so. */
function loggedIn(
  req: Request,
  ctx: RequestContext,
  auth: DashboardAuth,
  base: string,
  token: string | null,
  headers: Record<string, string> = {},
): Response {
  const client = ctx.remoteAddr?.hostname ?? "unknown";
  if (token === null || !auth.tokenMatches(token)) {
    logger().warn("dashboard login with a wrong token from {client}", { client });
    return redirect(`${base}/login?failed`, headers);
  }
  logger().info("dashboard login from {client}", { client });
  return redirect(`${base}/`, { ...headers, "set-cookie": auth.loginCookie(req, ctx.tls) });
}

async function logout(
  req: Request,
  ctx: RequestContext,
  auth: DashboardAuth,
  base: string,
): Promise<Response> {
  auth.checkSameSite(req, "none", false, ctx.tls);
  await req.body?.cancel();
  return redirect(`${base}/login`, { "set-cookie": auth.logoutCookie(req, ctx.tls) });
}

function eventStream(events: DashboardEvents): Response {
  return eventStreamResponse(events.open());
}

/** Finds a session of the table: the only way a log file is chosen. */
function sessionById(sessions: Pick<SessionManager, "find">, id: string): SessionInfo {
  const session = sessions.find(id);
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
  let tail;
  try {
    tail = await readTail(session.logFile, bytes);
  } catch (err) {
    if (!(err instanceof NotRegularFileError)) throw err;
    // Something put in place of the log (by the session's app, which runs as the launcher's
    // user): said, never read.
    logger().warn("session {id}: its log {file} is {what}; it is not read", {
      id: session.id,
      file: session.logFile,
      what: err.what,
    });
    throw new HttpError(
      409,
      `the session's log is ${err.what}, not a regular file; it is not read`,
    );
  }
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
