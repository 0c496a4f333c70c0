/**
 * The shapes the HTTP layer's route table is made of: a route, its handlers, and what the
 * server knows of a request. A module of its own so that route providers (the front door,
 * the dashboard, the operations routes) need not import the handler that serves them.
 *
 * @module
 */

/** What the server knows of a request besides the request itself. */
export interface RequestContext {
  /** The client's address. */
  remoteAddr?: Deno.NetAddr;
  /**
   * It came over the launcher's own TLS listener: the browser's scheme is `https` (`wss`),
   * though the request's URL says `http:`, as the internal server behind TLS sees it.
   */
  tls?: boolean;
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
