/**
 * The `sessionURL` a client is answered follows the scheme its page was loaded with. A
 * `USE_HOST`-style template (`ws://USE_HOST/proxy/${id}`) means "the host the browser is on",
 * and the browser clients (wslink's `SmartConnect`) put the page's host in its place but keep
 * the scheme as answered: a page loaded over HTTPS may not open a `ws://` WebSocket (mixed
 * content), so over TLS the answer says `wss://`. A URL the admin wrote out in full
 * (`ws://render-3.example.org:9000/ws`) names a host of its own and is left as it is.
 *
 * @module
 */

/** The start of a `USE_HOST`-style URL over plain WebSocket (`USE_HOSTNAME` included). */
const USE_HOST_WS = "ws://USE_HOST";

/**
 * Gives an answer's `sessionURL` the scheme of the page that asked.
 *
 * @param answer the JSON object answered for a session
 * @param overTls whether the browser came over TLS (see `cameOverTls` in lib/client)
 * @returns the answer, with `wss://` in place of a `USE_HOST`-style `ws://` over TLS; the
 *   same object when nothing changes
 * @example
 * ```ts
 * import { sessionUrlForScheme } from "./session_url.ts";
 * sessionUrlForScheme({ id: "a", sessionURL: "ws://USE_HOST/proxy/a" }, true);
 * // { id: "a", sessionURL: "wss://USE_HOST/proxy/a" }
 * ```
 */
export function sessionUrlForScheme(
  answer: Record<string, unknown>,
  overTls: boolean,
): Record<string, unknown> {
  const url = answer.sessionURL;
  if (!overTls || typeof url !== "string" || !url.startsWith(USE_HOST_WS)) return answer;
  return { ...answer, sessionURL: `wss://${url.slice("ws://".length)}` };
}
