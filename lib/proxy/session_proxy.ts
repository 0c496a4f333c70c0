/**
 * The built-in proxy: routes a browser's WebSocket (and plain HTTP) to its session's
 * process, so no Apache is needed. Targets come only from the session table, never from the
 * request. Paths: `/proxy/<id>[/<path>]` and the trame style `/proxy?sessionId=<id>&path=<path>`
 * (also `?id=<id>`, the spec's form). A URL that names no path is the bare session URL: a
 * WebSocket there goes to the application's WebSocket path (wslink servers serve theirs at
 * `/ws`, as the classic ParaViewWeb Apache rule assumes), plain HTTP to `/`.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { errorResponse, jsonResponse } from "../errors/mod.ts";
import { TrustedProxies } from "../client/mod.ts";
import { forwardHttp, type UpstreamHttp } from "../os/mod.ts";
import {
  type ProxyLookup,
  type ProxyTarget,
  type Traffic,
  UnknownSessionError,
} from "../sessions/mod.ts";
import { dropHopByHop, forwarding, withForwarding } from "./forwarded_headers.ts";
import { isHttpToken } from "./http_token.ts";
import { parseProxyPath, type ProxyPath } from "./proxy_path.ts";
import { pipeWebSockets, safeClose } from "./web_socket_pipe.ts";

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
  /** Sends plain HTTP requests to the apps. @default {@linkcode forwardHttp} */
  upstream?: UpstreamHttp;
}

const logger = () => getLogger(["pvw-launcher", "proxy"]);

/**
 * The name a cookie set by a `Set-Cookie` header is sent back under. A nameless cookie
 * (`=pvw_dashboard=x`, or `pvw_dashboard` with no `=`) is kept by browsers and sent as its bare
 * value, `pvw_dashboard=x`: the server reads that as a cookie named `pvw_dashboard`.
 */
function nameAsSent(setCookie: string): string {
  const pair = setCookie.split(";")[0];
  const eq = pair.indexOf("=");
  const name = eq < 0 ? "" : pair.slice(0, eq).trim();
  if (name !== "") return name;
  const value = pair.slice(eq + 1).trim();
  return value.slice(0, value.indexOf("=") < 0 ? value.length : value.indexOf("=")).trim();
}

/** The address to dial for a host a process was told to bind. */
function dialHost(host: string): string {
  if (host === "0.0.0.0" || host === "localhost" || host === "::" || host === "") {
    return "127.0.0.1";
  }
  return host;
}

/** The answer when a session's app cannot be reached. */
function unreachable(id: string): Response {
  return jsonResponse({ error: `session "${id}" is not reachable` }, 502);
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
  #upstream: UpstreamHttp;
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
    this.#trusted = options.trustedProxies ?? new TrustedProxies();
    this.#upstream = options.upstream ?? forwardHttp;
  }

  /**
   * Serves a request if its URL is a proxy URL.
   *
   * @param req the request
   * @param url the request's URL, when the caller has parsed it already
   * @param remote the client's address (the peer), for the forwarded headers
   * @param tls whether it came over the launcher's own TLS listener (the forwarded scheme)
   * @returns the answer, or undefined when the URL is not a proxy URL
   */
  handle(
    req: Request,
    url: URL = new URL(req.url),
    remote?: Deno.NetAddr,
    tls = false,
  ): Promise<Response> | undefined {
    if (!url.pathname.startsWith("/proxy")) return undefined;
    const parsed = parseProxyPath(url);
    if (!parsed) return undefined;
    const target = this.#lookup(parsed.id);
    if (!target) return Promise.resolve(errorResponse(new UnknownSessionError(parsed.id)));
    const forwarded = forwarding(this.#trusted, req, remote?.hostname, tls, url);
    const upgrade = req.headers.get("upgrade")?.toLowerCase() === "websocket";
    return upgrade
      ? this.#webSocket(req, parsed, target, forwarded)
      : this.#http(req, parsed, target, forwarded);
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
    forwarded: Headers,
  ): Promise<Response> {
    let res: Response;
    try {
      // The client's headers as they are (its Accept-Encoding, or none), and the app's answer
      // as it is: a compressed body keeps its encoding, its headers say so.
      res = await this.#upstream({
        host: dialHost(target.host),
        port: target.port,
        method: req.method,
        path: `${p.path ?? "/"}${p.search}`,
        headers: withForwarding(req, forwarded),
        body: req.body,
        signal: req.signal,
      });
    } catch (err) {
      logger().warn("session {id} is not reachable: {error}", { id: p.id, error: String(err) });
      return unreachable(p.id);
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
      if (!this.#reservedCookies.has(nameAsSent(cookie))) headers.append("set-cookie", cookie);
    }
  }

  async #webSocket(
    req: Request,
    p: ProxyPath,
    target: ProxyTarget,
    forwarded: Headers,
  ): Promise<Response> {
    const protocols = (req.headers.get("sec-websocket-protocol") ?? "")
      .split(",").map((s) => s.trim()).filter(Boolean);
    if (!protocols.every(isHttpToken)) {
      return jsonResponse({ error: "not a valid WebSocket request: bad subprotocol" }, 400);
    }
    const path = p.path ?? target.wsPath;
    const host = dialHost(target.host);
    const where = `${host.includes(":") ? `[${host}]` : host}:${target.port}`;
    const upstream = await this.#connect(`ws://${where}${path}${p.search}`, protocols, forwarded);
    if (!upstream) {
      await req.body?.cancel();
      return unreachable(p.id);
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
    const open = this.#open.get(id) ?? new Set();
    this.#open.set(id, open);
    const close = pipeWebSockets(client, upstream, {
      traffic,
      maxBufferedBytes: this.#maxBuffered,
      openTimeoutMs: this.#connectTimeoutMs,
      onFrame: (toSession, bytes) => {
        if (toSession) this.#bytesToSessions += bytes;
        else this.#bytesFromSessions += bytes;
      },
      onEnd: () => {
        open.delete(close);
        if (open.size === 0) this.#open.delete(id);
      },
    });
    open.add(close);
  }
}
