/**
 * Launches that do not wait, and their progress. A POST with `Prefer: respond-async`
 * (RFC 7240) is answered `202 Accepted` as soon as the session has its id, with the id and a
 * `Location` (`<endpoint>/<id>`, whose GET says where the session is in its start);
 * `GET <endpoint>/<id>/events` streams the session's progress as server-sent events:
 * `queued` (a batch job waiting, with the scheduler's reason and the job's place in the
 * queue), `starting` (its process runs, on a node for a job), then `ready` with the answer a
 * waiting POST would have got, or `failed` with its error and status. The stream ends after
 * `ready` or `failed`. Without the header a POST waits as the spec says.
 *
 * @module
 */

import { jsonResponse } from "../errors/mod.ts";
import type { LaunchObserver, LaunchOutcome } from "./rest_routes.ts";
import type { FailureHandler, FrontDoor } from "./front_door.ts";
import type { RequestContext, Route } from "./route_types.ts";
import { sessionUrlForScheme } from "./session_url.ts";
import {
  type Progress,
  type ProgressEvent,
  type SessionInfo,
  type SessionManager,
  UnknownSessionError,
} from "../sessions/mod.ts";

/**
 * Whether a request asks not to wait for the outcome (`Prefer: respond-async`).
 *
 * @param req the request
 * @returns true when one of its `Prefer` headers holds the `respond-async` preference
 */
export function prefersAsync(req: Request): boolean {
  const prefer = req.headers.get("prefer");
  if (prefer === null) return false;
  return prefer.split(",").some((p) => p.split(";")[0].trim().toLowerCase() === "respond-async");
}

/** What an accepted launch is answered with and reported to. */
export interface AcceptDeps {
  /** The session table. */
  sessions: Pick<SessionManager, "launch">;
  /** Told the outcome of the launch once it is known. */
  observer?: LaunchObserver;
  /** Classifies what a failed launch threw. */
  outcome: (err: unknown) => LaunchOutcome;
  /** The endpoint's path, for `Location`. */
  endpoint: string;
  /** Whether the client's page came over TLS (an absolute `Location` is then `https:`). */
  overTls: boolean;
}

/**
 * Starts a session without waiting for it: answers 202 once it has its id; the launch goes
 * on, and its outcome is told to the observer when known. A launch that fails before the
 * session has an id (a bad request, no capacity) is thrown, as a waiting POST's would be.
 *
 * @param req the POST
 * @param body its parsed body
 * @param application the application, as the observer names it
 * @param deps the session table, observer and endpoint
 * @returns the 202 answer: `{id, events}` (the progress stream's path) with `Location`
 */
export async function acceptLaunch(
  req: Request,
  body: Record<string, unknown>,
  application: string,
  deps: AcceptDeps,
): Promise<Response> {
  const accepted = Promise.withResolvers<SessionInfo>();
  const launching = observed(
    deps.sessions.launch(body, { onAccepted: accepted.resolve }),
    application,
    deps,
  );
  const session = await Promise.race([accepted.promise, launching]);
  const location = sessionLocation(req, deps.endpoint, session.id, deps.overTls);
  return jsonResponse({ id: session.id, events: `${location}/events` }, 202, {
    location,
    "preference-applied": "respond-async",
  });
}

/**
 * Tells the observer how a launch ended, once it has: whether its client waits for it or not.
 *
 * @param launching the launch
 * @param application the application, as the observer names it
 * @param deps the observer, and how a failure is classified
 * @returns the same launch
 */
export function observed(
  launching: Promise<SessionInfo>,
  application: string,
  deps: Pick<AcceptDeps, "observer" | "outcome">,
): Promise<SessionInfo> {
  launching.then(
    (s) => {
      const seconds = s.readyMs === undefined ? undefined : s.readyMs / 1000;
      deps.observer?.launched(application, "ready", seconds);
    },
    (err) => deps.observer?.launched(application, deps.outcome(err), undefined, err),
  );
  return launching;
}

/** The endpoint as the folder of its sessions: `/paraview/`, or a root `/` or `//` as it is. */
function under(endpoint: string): string {
  return endpoint.endsWith("/") ? endpoint : `${endpoint}/`;
}

/**
 * The path pattern of a session, `<endpoint>/:id`, or at a root `/:id` (`//:id`). At `/` only
 * ids of the launcher's shape are taken, so that the content's other files (`/index.html`,
 * `/docs/events`) are still served there.
 *
 * @param endpoint the REST endpoint's path
 * @returns the `URLPattern` pathname, its id named `id`
 */
export function sessionPattern(endpoint: string): string {
  return endpoint === "/" ? "/:id([A-Za-z0-9_-]{16,64})" : `${under(endpoint)}:id`;
}

/** Where a session's state is read: `<endpoint>/<id>`, as a path unless that is ambiguous. */
function sessionLocation(req: Request, endpoint: string, id: string, overTls: boolean): string {
  const path = `${under(endpoint)}${encodeURIComponent(id)}`;
  if (!path.startsWith("//")) return path;
  // `//id` (the root endpoint of a wslink config) would read as a host: make it absolute, in
  // the scheme the client used (behind the TLS front door, req.url says http).
  const url = new URL(req.url);
  url.protocol = overTls ? "https:" : "http:";
  url.pathname = path;
  url.search = "";
  return url.href;
}

/** What the progress route is built from. */
export interface ProgressRoutesDeps {
  /** The endpoint's path. */
  endpoint: string;
  /** The session table. */
  sessions: Pick<SessionManager, "progress">;
  /** Guards the route as the REST routes are guarded. */
  door: FrontDoor;
  /** Turns what a guarded handler threw into its answer. */
  fail: FailureHandler;
  /** Whether a request's page came over TLS: the `ready` event's `sessionURL` then says `wss://`. */
  overTls: (req: Request, ctx: RequestContext) => boolean;
  /** Longest silence before a comment line keeps the stream open, in ms. @default 15000 */
  heartbeatMs?: number;
}

/**
 * The route of `GET <endpoint>/<id>/events`.
 *
 * @param deps the endpoint, sessions, front door and failure handler
 * @returns the route
 */
export function progressRoutes(deps: ProgressRoutesDeps): Route[] {
  const heartbeatMs = deps.heartbeatMs ?? 15_000;
  return [{
    pattern: new URLPattern({ pathname: `${sessionPattern(deps.endpoint)}/events` }),
    methods: deps.door.guard({
      GET: (req, p, ctx) => {
        const progress = deps.sessions.progress(p.id!);
        if (!progress) throw new UnknownSessionError(p.id!);
        const overTls = deps.overTls(req, ctx);
        return Promise.resolve(eventStreamResponse(eventStream(progress, heartbeatMs, overTls)));
      },
    }, deps.fail),
  }];
}

const encoder = new TextEncoder();

/**
 * A stream of server-sent events as an answer, never cached nor held back by a proxy (nginx
 * holds a response back unless `X-Accel-Buffering` says not to).
 *
 * @param stream the `text/event-stream` bytes
 * @returns the answer
 */
export function eventStreamResponse(stream: ReadableStream<Uint8Array>): Response {
  return new Response(stream, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    },
  });
}

/** One event as `text/event-stream` writes it; `ready`'s answer in the client's scheme. */
function sseEvent(event: ProgressEvent, overTls: boolean): Uint8Array {
  const data = event.type === "ready" ? sessionUrlForScheme(event.data, overTls) : event.data;
  return encoder.encode(`event: ${event.type}\ndata: ${JSON.stringify(data)}\n\n`);
}

/**
 * A session's progress as server-sent events: what happened so far, then each change; it
 * ends after `ready` or `failed`, or when the client goes.
 *
 * @param progress the session's progress
 * @param heartbeatMs longest silence before a comment line
 * @param overTls whether the client's page came over TLS (for the `ready` answer's URL)
 * @returns the stream
 */
function eventStream(
  progress: Progress,
  heartbeatMs: number,
  overTls = false,
): ReadableStream<Uint8Array> {
  let stop = () => {};
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const event of progress.events()) controller.enqueue(sseEvent(event, overTls));
      if (progress.done) return controller.close();
      const beat = setInterval(
        () => controller.enqueue(encoder.encode(": waiting\n\n")),
        heartbeatMs,
      );
      const unfollow = progress.follow((event) => {
        controller.enqueue(sseEvent(event, overTls));
        if (progress.done) {
          stop();
          controller.close();
        }
      });
      stop = () => {
        clearInterval(beat);
        unfollow();
      };
    },
    cancel() {
      stop();
    },
  });
}
