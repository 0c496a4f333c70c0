/**
 * The launcher's HTTP layer: the handler and its route table (404 and 405 told apart), the
 * REST routes of the process-launcher spec, reading a request's body, the front door (origins,
 * CORS, `api_token`, `rate_limit`), the static content, the `sessionURL` in the client's
 * scheme, and the listeners that keep accepting (with their connection guard): plain, and
 * HTTPS through the TLS front door.
 *
 * @module
 */

export { ConnectionGuard } from "./connection_guard.ts";
export {
  ForbiddenOriginError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
  RequestTimeoutError,
} from "./errors.ts";
export { FrontDoor } from "./front_door.ts";
export { eventStreamResponse } from "./progress_routes.ts";
export { createHandler, createRoutesHandler, type HandlerDeps } from "./handler.ts";
export { type LaunchObserver, type LaunchOutcome, launchOutcome } from "./rest_routes.ts";
export { DEFAULT_LIMITS, readBody } from "./request.ts";
export { type RequestContext, type Route, type RouteHandler } from "./route_types.ts";
export { hostPort, type ListenerStatus, ServerKeeper } from "./server_keeper.ts";
export { type ContextHandler, TlsListener, type TlsListenerOptions } from "./tls_listener.ts";
export { type RedirectListenerOptions, startRedirectListener } from "./redirect_listener.ts";
