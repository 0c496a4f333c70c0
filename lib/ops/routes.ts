/**
 * Routes for whoever runs the launcher: `GET /metrics` for Prometheus and `GET /healthz` for
 * load balancers and systemd. Both take `HEAD` too. They go into the handler's route table
 * through `HandlerDeps.routes`.
 *
 * `/healthz` answers 503 as soon as shutdown begins, so a load balancer stops sending new
 * launches here while the sessions are being stopped, while the listener cannot accept
 * connections (out of descriptors: a monitor on a connection it keeps open hears it), and while a
 * file the launcher keeps (the map file, the state file) cannot be written: launches fail then.
 *
 * @module
 */

import { jsonResponse } from "../errors/mod.ts";
import type { ListenerStatus, Route, RouteHandler } from "../http/mod.ts";
import type { Metrics, MetricsSnapshot } from "./metrics.ts";

/** The content type of the Prometheus text exposition format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** What the operations routes read. */
export interface OpsRoutesDeps {
  /** The metrics to write out. */
  metrics: Metrics;
  /** Takes the live state (sessions, ports, proxy) at request time. */
  snapshot: () => MetricsSnapshot;
  /** True once the launcher has begun shutting down. */
  shuttingDown: () => boolean;
  /** Whether the launcher's listener accepts connections. @default always */
  listener?: () => ListenerStatus;
  /** Descriptors open and the limit. @default not reported */
  descriptors?: () => { open: number; limit: number };
}

/** The body of a `/healthz` answer. */
export interface Health {
  /**
   * "ok"; else, with status 503, "shutting down" or "failing" (see `problems`): the listener
   * refuses connections, or a file the launcher keeps cannot be written.
   */
  status: "ok" | "shutting down" | "failing";
  /** What is wrong while "failing", such as "the map file cannot be written". */
  problems?: string[];
  /** While the listener refuses connections: why, and since when (an ISO date). */
  refusing?: { error: string; since: string };
  /** Sessions in the table, whatever their state. */
  sessions: number;
  /** The most sessions that may run at once. */
  capacity: number;
  /** Ports no session holds. */
  freePorts: number;
  /** Descriptors the launcher holds open, and its limit. */
  descriptors?: { open: number; limit: number };
}

// Monitoring must always see the present, never a cached answer.
const NO_STORE = { "cache-control": "no-store" };

/** Answers HEAD with the status and headers GET would have, and no body. */
function withHead(get: RouteHandler): Record<string, RouteHandler> {
  const head: RouteHandler = async (req, params, ctx) => {
    const answer = await get(req, params, ctx);
    await answer.body?.cancel();
    return new Response(null, { status: answer.status, headers: answer.headers });
  };
  return { GET: get, HEAD: head };
}

/**
 * Builds the `/metrics` and `/healthz` routes.
 *
 * @param deps the metrics, the live state and the shutdown flag
 * @returns routes for `HandlerDeps.routes`
 */
export function opsRoutes(deps: OpsRoutesDeps): Route[] {
  const metrics: RouteHandler = () =>
    Promise.resolve(
      new Response(deps.metrics.render(deps.snapshot()), {
        headers: { "content-type": METRICS_CONTENT_TYPE, ...NO_STORE },
      }),
    );
  const healthz: RouteHandler = () => {
    const snapshot = deps.snapshot();
    const closing = deps.shuttingDown();
    // Only what: the details (paths) are in the log, not for anonymous clients.
    const problems = (snapshot.files ?? []).filter((f) => f.stale)
      .map((f) => `the ${f.file} file cannot be written`);
    const listener = deps.listener?.() ?? { accepting: true };
    const refusing = listener.accepting ? undefined : {
      error: listener.error ?? "unknown",
      since: new Date(listener.since ?? Date.now()).toISOString(),
    };
    if (refusing) problems.unshift("the listener refuses connections");
    const body: Health = {
      status: closing ? "shutting down" : problems.length ? "failing" : "ok",
      ...(problems.length ? { problems } : {}),
      ...(refusing ? { refusing } : {}),
      sessions: snapshot.sessions.length,
      capacity: snapshot.maxSessions,
      freePorts: snapshot.freePorts,
      ...(deps.descriptors ? { descriptors: deps.descriptors() } : {}),
    };
    return Promise.resolve(jsonResponse(body, body.status === "ok" ? 200 : 503, NO_STORE));
  };
  return [
    { pattern: new URLPattern({ pathname: "/metrics" }), methods: withHead(metrics) },
    { pattern: new URLPattern({ pathname: "/healthz" }), methods: withHead(healthz) },
  ];
}
