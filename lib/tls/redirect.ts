/**
 * The optional plain-HTTP listener (`redirect_http`): it answers every request with a
 * permanent redirect to the same path over HTTPS and has no other route, so nothing of the
 * launcher (API, proxy, dashboard, secrets) is ever served in the clear. 308, not 301: a
 * client repeats the same method and body at the new address.
 *
 * @module
 */

/** Where the redirects point. */
export interface RedirectOptions {
  /** The HTTPS port the clients see (443 is left out of the URLs). */
  httpsPort: number;
  /**
   * The host name to send every client to. Without it, the host the client asked for
   * (its `Host` header, port removed) is used, which is only the client's own word.
   * @default the request's host
   */
  publicHost?: string;
}

// A DNS name or IPv4 address, or an IPv6 literal in brackets, with an optional port.
const HOST = /^([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * Makes the redirect listener's handler.
 *
 * @param options the HTTPS port and, optionally, the public host name
 * @returns a handler for `Deno.serve`: 308 to `https://<host>[:port]<path>?<query>`, or a
 *   JSON 400 when the request names no usable host
 * @example
 * ```ts ignore
 * Deno.serve({ port: 80 }, createRedirectHandler({ httpsPort: 443 }));
 * // GET http://example.org/pvw/?a=1 -> 308 Location: https://example.org/pvw/?a=1
 * ```
 */
export function createRedirectHandler(options: RedirectOptions): (req: Request) => Response {
  const port = options.httpsPort === 443 ? "" : `:${options.httpsPort}`;
  return (req) => {
    const host = options.publicHost ?? hostOf(req.headers.get("host"));
    if (host === undefined) {
      return Response.json(
        { error: "this address only redirects to HTTPS, and the request names no valid host" },
        { status: 400 },
      );
    }
    // The path and query as the client sent them: a URL of our own making, so an absolute
    // request target cannot choose the host.
    const url = new URL(req.url);
    return new Response(null, {
      status: 308,
      headers: { location: `https://${host}${port}${url.pathname}${url.search}` },
    });
  };
}

/** The host part of a `Host` header, without its port, or undefined when it is not one. */
function hostOf(header: string | null): string | undefined {
  const m = header?.match(HOST);
  return m ? m[1] : undefined;
}
