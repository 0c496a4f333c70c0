/**
 * The proxy's URLs: `/proxy/<id>[/<path>]`, and the trame style
 * `/proxy?sessionId=<id>&path=<path>` (also `?id=<id>`, the spec's form). A URL that names no
 * path is the bare session URL.
 *
 * @module
 */

/** A parsed proxy request path. */
export interface ProxyPath {
  /** Session id. */
  id: string;
  /** Path on the session's server, starting with `/`; undefined for the bare session URL. */
  path?: string;
  /** Query string to forward, with `?`, or empty. */
  search: string;
}

/**
 * Reads the session id and upstream path out of a proxy URL. In the query form the parameter
 * names are matched in any case (trame's client lower-cases the whole session URL, so
 * `sessionId` arrives as `sessionid`); `sessionId` wins over `id`.
 *
 * @param url the request URL
 * @returns the parts, or undefined when the URL is not a proxy URL
 * @example
 * ```ts
 * import { parseProxyPath } from "./proxy_path.ts";
 * parseProxyPath(new URL("http://h/proxy?path=ws&sessionid=abc"));
 * // → { id: "abc", path: "/ws", search: "" }
 * ```
 */
export function parseProxyPath(url: URL): ProxyPath | undefined {
  if (url.pathname === "/proxy" || url.pathname === "/proxy/") return parseProxyQuery(url);
  const m = url.pathname.match(/^\/proxy\/([^/]+)(\/.*)?$/);
  if (!m) return undefined;
  let id: string;
  try {
    id = decodeURIComponent(m[1]);
  } catch {
    return undefined; // malformed %-escapes: no session has such an id
  }
  return m[2] === undefined ? { id, search: url.search } : { id, path: m[2], search: url.search };
}

function parseProxyQuery(url: URL): ProxyPath | undefined {
  const named = (name: string) => (key: string) => key.toLowerCase() === name;
  const keys = [...new Set(url.searchParams.keys())];
  const idKey = keys.find(named("sessionid")) ?? keys.find(named("id"));
  const id = idKey === undefined ? undefined : url.searchParams.get(idKey);
  if (!id) return undefined;
  const pathKey = keys.find(named("path"));
  const path = pathKey === undefined ? "" : url.searchParams.get(pathKey)!;
  const rest = new URLSearchParams(url.searchParams);
  rest.delete(idKey!);
  if (pathKey !== undefined) rest.delete(pathKey);
  const search = rest.size ? `?${rest}` : "";
  return path === "" ? { id, search } : { id, path: `/${path.replace(/^\/+/, "")}`, search };
}
