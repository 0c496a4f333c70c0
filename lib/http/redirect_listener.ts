/**
 * `redirect_http`: a plain listener that answers every request with a 308 to the same path on
 * the launcher's HTTPS port, and has no other route. It is kept accepting like every listener,
 * and its connections are under the guard.
 *
 * @module
 */

import { createRedirectHandler } from "../tls/mod.ts";
import type { ConnectionGuard } from "./connection_guard.ts";
import { type ServeFunction, ServerKeeper } from "./server_keeper.ts";

/** Where the redirect listener listens, and where it sends clients. */
export interface RedirectListenerOptions {
  /** Starts a server: `Deno.serve` in production. */
  serve: ServeFunction;
  /** The host to listen on. */
  hostname: string;
  /** The port to listen on; 0 picks a free one. */
  port: number;
  /** The HTTPS port the redirects name. */
  httpsPort: number;
}

/**
 * Starts the redirect listener.
 *
 * @param options where it listens, and the HTTPS port
 * @param guard times out and sheds its connections, if there is one
 * @returns the listener, accepting
 * @throws what `serve` throws (the address is taken, ...)
 */
export function startRedirectListener(
  options: RedirectListenerOptions,
  guard?: ConnectionGuard,
): ServerKeeper {
  const { serve, hostname, port, httpsPort } = options;
  const keeper = new ServerKeeper({ serve, name: "the HTTP redirect", hostname, port });
  const answer = createRedirectHandler({ httpsPort });
  const addr = keeper.start((req, info) => {
    const respond = () => Promise.resolve(answer(req));
    return guard ? guard.serve(info, respond) : respond();
  });
  guard?.watch(addr.port);
  return keeper;
}
