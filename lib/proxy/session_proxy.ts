/**
 * The built-in proxy: routes a browser's WebSocket (and plain HTTP) to its session's
 * process, so no Apache is needed. Targets come only from the session table, never from the
 * request. Paths: `/proxy/<id>[/<path>]` and the trame style `/proxy?sessionId=<id>&path=<path>`
 * (also `?id=<id>`, the spec's form). A URL that names no path is the bare session URL: a
 * WebSocket there goes to the application's WebSocket path (wslink servers serve theirs at
 * `/ws`, as the classic ParaViewWeb Apache rule assumes), plain HTTP to `/`.
 *
 * Memory stays bounded when one side reads slower than the other sends: the WebSocket API
 * cannot pause a sender, so a peer that falls more than `maxBufferedBytes` behind is
 * disconnected (close code 1013, "try again later") and so is its partner.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { jsonResponse } from "../errors/mod.ts";
import { dropHopByHop, TrustedProxies } from "../client/mod.ts";
import type { ProxyLookup, ProxyTarget, Traffic } from "../sessions/mod.ts";

/** Proxy tuning. */
export interface ProxyOptions {
  /** Most bytes queued towards one slow peer before both sides are closed. @default 16 MiB */
  maxBufferedBytes?: number;
  /** How long to wait for the session's process to accept a WebSocket. @default 10000 */
  connectTimeoutMs?: number;
  /**
   * Cookies a session's answer may not set (the dashboard's login cookie): its pages are
   * served from the launcher's own host. @default none
   */
  reservedCookies?: string[];
  /** Peers whose forwarded headers are believed. @default this machine (loopback) */
  trustedProxies?: TrustedProxies;
}

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
 * import { parseProxyPath } from "./session_proxy.ts";
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

const logger = () => getLogger(["pvw-launcher", "proxy"]);

/** An HTTP token (RFC 9110), which a WebSocket subprotocol must be. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The address to dial for a host a process was told to bind. */
function dialHost(host: string): string {
  if (host === "0.0.0.0" || host === "localhost" || host === "::" || host === "") {
    return "127.0.0.1";
  }
  return host.includes(":") ? `[${host}]` : host;
}

function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) n += c >= 0x800 && (c < 0xd800 || c > 0xdfff) ? 2 : c < 0x800 ? 1 : 0;
  }
  return n;
}

function frameSize(data: string | ArrayBuffer): number {
  return typeof data === "string" ? utf8Length(data) : data.byteLength;
}

/** Close codes a WebSocket client may send; others become 1000 with their reason. */
function clientCloseCode(code: number): number | undefined {
  if (code === 1005 || code === 1006) return undefined;
  return code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000;
}

function safeClose(ws: WebSocket, code?: number, reason?: string): void {
  if (ws.readyState === WebSocket.CLOSING || ws.readyState === WebSocket.CLOSED) return;
  try {
    if (code === undefined) ws.close();
    else ws.close(code, reason);
  } catch {
    ws.close();
  }
}

/**
 * The session proxy.
 *
 * @example
 * ```ts ignore
 * const proxy = new SessionProxy((id) => sessions.route(id));
 * Deno.serve((req) => proxy.handle(req) ?? new Response("not a proxy path", { status: 404 }));
 * ```
 */
export class SessionProxy {
  #lookup: ProxyLookup;
  #maxBuffered: number;
  #connectTimeoutMs: number;
  #reservedCookies: Set<string>;
  #trusted: TrustedProxies;
  #open = new Map<string, Set<() => void>>();
  #bytesToSessions = 0;
  #bytesFromSessions = 0;

  /**
   * Makes a proxy over the session table.
   *
   * @param lookup finds ready sessions
   * @param options tuning
   */
  constructor(lookup: ProxyLookup, options: ProxyOptions = {}) {
    this.#lookup = lookup;
    this.#maxBuffered = options.maxBufferedBytes ?? 16 * 1024 * 1024;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.#reservedCookies = new Set(options.reservedCookies ?? []);
    this.#trusted = options.trustedProxies ?? new TrustedProxies(["127.0.0.0/8", "::1"]);
  }

  /**
   * Serves a request if its URL is a proxy URL.
   *
   * @param req the request
   * @param url the request's URL, when the caller has parsed it already
   * @param remote the client's address (the peer), for the forwarded headers
   * @returns the answer, or undefined when the URL is not a proxy URL
   */
  handle(
    req: Request,
    url: URL = new URL(req.url),
    remote?: Deno.NetAddr,
  ): Promise<Response> | undefined {
    if (!url.pathname.startsWith("/proxy")) return undefined;
    const parsed = parseProxyPath(url);
    if (!parsed) return undefined;
    const target = this.#lookup(parsed.id);
    if (!target) {
      return Promise.resolve(jsonResponse({ error: `no session with id "${parsed.id}"` }, 404));
    }
    const upgrade = req.headers.get("upgrade")?.toLowerCase() === "websocket";
    return upgrade
      ? this.#webSocket(req, parsed, target, remote)
      : this.#http(req, parsed, target, remote);
  }

  /** Closes every proxied connection of a session (it ended). @param id session id */
  closeSession(id: string): void {
    for (const close of [...this.#open.get(id) ?? []]) close();
  }

  /** Number of proxied WebSocket connections open now. */
  get connections(): number {
    let n = 0;
    for (const set of this.#open.values()) n += set.size;
    return n;
  }

  /** Open connections, and the WebSocket bytes carried each way since the start. */
  stats(): { connections: number; bytesToSessions: number; bytesFromSessions: number } {
    return {
      connections: this.connections,
      bytesToSessions: this.#bytesToSessions,
      bytesFromSessions: this.#bytesFromSessions,
    };
  }

  async #http(
    req: Request,
    p: ProxyPath,
    target: ProxyTarget,
    remote?: Deno.NetAddr,
  ): Promise<Response> {
    const headers = this.#trusted.forwardedHeaders(req, remote?.hostname);
    const path = p.path ?? "/";
    const upstreamUrl = `http://${dialHost(target.host)}:${target.port}${path}${p.search}`;
    let res: Response;
    try {
      res = await fetch(upstreamUrl, {
        method: req.method,
        headers,
        body: req.body,
        redirect: "manual",
      });
    } catch (err) {
      logger().warn("session {id} is not reachable: {error}", { id: p.id, error: String(err) });
      return jsonResponse({ error: `session "${p.id}" is not reachable` }, 502);
    }
    const out = new Headers(res.headers);
    dropHopByHop(out);
    this.#dropReservedCookies(out);
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers: out });
  }

  /** A session's page must not log the admin out of the dashboard, nor in as someone else. */
  #dropReservedCookies(headers: Headers): void {
    if (this.#reservedCookies.size === 0 || !headers.has("set-cookie")) return;
    const cookies = headers.getSetCookie();
    headers.delete("set-cookie");
    for (const cookie of cookies) {
      const name = cookie.slice(0, Math.max(0, cookie.indexOf("="))).trim();
      if (!this.#reservedCookies.has(name)) headers.append("set-cookie", cookie);
    }
  }

  async #webSocket(
    req: Request,
    p: ProxyPath,
    target: ProxyTarget,
    remote?: Deno.NetAddr,
  ): Promise<Response> {
    const protocols = (req.headers.get("sec-websocket-protocol") ?? "")
      .split(",").map((s) => s.trim()).filter(Boolean);
    if (!protocols.every((s) => TOKEN.test(s))) {
      return jsonResponse({ error: "not a valid WebSocket request: bad subprotocol" }, 400);
    }
    const path = p.path ?? target.wsPath;
    const url = `ws://${dialHost(target.host)}:${target.port}${path}${p.search}`;
    const upstream = await this.#connect(
      url,
      protocols,
      this.#trusted.forwarding(req, remote?.hostname),
    );
    if (!upstream) {
      await req.body?.cancel();
      return jsonResponse({ error: `session "${p.id}" is not reachable` }, 502);
    }
    // A client that hung up while we dialled must not be upgraded: Deno 2.9 would wait for it
    // forever, holding its socket and keeping the server from shutting down. (Deno notices
    // the hang-up a little late, so this narrows that window; it cannot close it.)
    if (req.signal.aborted) {
      upstream.close();
      return jsonResponse({ error: "the client went away" }, 400);
    }
    let upgraded;
    try {
      upgraded = Deno.upgradeWebSocket(
        req,
        upstream.protocol ? { protocol: upstream.protocol } : {},
      );
    } catch (err) {
      upstream.close();
      return jsonResponse(
        { error: `not a valid WebSocket request: ${(err as Error).message}` },
        400,
      );
    }
    this.#pipe(p.id, upgraded.socket, upstream, target.traffic);
    return upgraded.response;
  }

  #connect(url: string, protocols: string[], headers: Headers): Promise<WebSocket | undefined> {
    return new Promise((resolve) => {
      const ws = new WebSocket(url, { protocols, headers });
      ws.binaryType = "arraybuffer";
      const timer = setTimeout(() => {
        safeClose(ws);
        resolve(undefined);
      }, this.#connectTimeoutMs);
      ws.onopen = () => {
        clearTimeout(timer);
        resolve(ws);
      };
      ws.onerror = () => {
        clearTimeout(timer);
        resolve(undefined);
      };
    });
  }

  #pipe(id: string, client: WebSocket, upstream: WebSocket, traffic: Traffic): void {
    client.binaryType = "arraybuffer";
    const set = this.#open.get(id) ?? new Set();
    this.#open.set(id, set);
    let opened = false;
    const overflow = "proxy buffer limit exceeded";
    const forget = () => {
      if (!set.delete(closeBoth)) return;
      if (set.size === 0) this.#open.delete(id);
      if (opened) traffic.closed();
    };
    function closeBoth(): void {
      safeClose(client, 1001, "session ended");
      safeClose(upstream, 1000, "session ended");
    }
    set.add(closeBoth);
    // A client that hung up during the upgrade never opens (nor closes): let its partner go.
    const opening = setTimeout(() => {
      safeClose(upstream, 1000, "the client never connected");
      forget();
    }, this.#connectTimeoutMs);
    // What the app says before the browser's side is open (apps that speak first) waits for it.
    let early: (string | ArrayBuffer)[] | undefined = [];
    let earlyBytes = 0;
    const toClient = (data: string | ArrayBuffer) => {
      client.send(data);
      const size = frameSize(data);
      traffic.fromSession(size);
      this.#bytesFromSessions += size;
      if (client.bufferedAmount > this.#maxBuffered) {
        safeClose(client, 1013, overflow);
        safeClose(upstream, 1000, overflow);
      }
    };
    client.onopen = () => {
      clearTimeout(opening);
      opened = true;
      traffic.opened();
      const queued = early ?? [];
      early = undefined;
      for (const data of queued) if (client.readyState === WebSocket.OPEN) toClient(data);
    };
    client.onmessage = (e: MessageEvent<string | ArrayBuffer>) => {
      if (upstream.readyState !== WebSocket.OPEN) return;
      upstream.send(e.data);
      const size = frameSize(e.data);
      traffic.toSession(size);
      this.#bytesToSessions += size;
      if (upstream.bufferedAmount > this.#maxBuffered) {
        safeClose(upstream, 1000, overflow);
        safeClose(client, 1013, overflow);
      }
    };
    upstream.onmessage = (e: MessageEvent<string | ArrayBuffer>) => {
      if (early && client.readyState === WebSocket.CONNECTING) {
        early.push(e.data);
        earlyBytes += frameSize(e.data);
        if (earlyBytes > this.#maxBuffered) safeClose(upstream, 1000, overflow);
        return;
      }
      if (client.readyState === WebSocket.OPEN) toClient(e.data);
    };
    client.onclose = (e) => {
      clearTimeout(opening);
      safeClose(upstream, clientCloseCode(e.code), e.reason);
      forget();
    };
    upstream.onclose = (e) => {
      if (e.code === 1005) safeClose(client);
      else if (e.code === 1006) safeClose(client, 1011, "the session closed the connection");
      else safeClose(client, e.code, e.reason);
      forget();
    };
    client.onerror = () => {
      clearTimeout(opening);
      safeClose(upstream);
      if (!opened) forget(); // a failed upgrade: no close event follows
    };
    upstream.onerror = () => safeClose(client, 1011, "session connection failed");
  }
}
