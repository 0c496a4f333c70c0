/**
 * The launcher's HTTPS listener: the TLS front door ({@linkcode TlsTerminator}) on the public
 * address, in front of a plain listener of the launcher's own on `127.0.0.1:0`, kept accepting
 * by a {@linkcode ServerKeeper} like every listener. The handler gets each request with the
 * real client's address and `tls: true`, so that the origin check, the rate limit, the
 * forwarded headers and the `sessionURL` all see the client as it is, not the loopback
 * connection the front door made.
 *
 * A connection to the internal listener that the front door did not make (a local user
 * dialling its port, to skip TLS and pose as a loopback client) has every request refused
 * (403); the guard closes it at the header timeout, since none of its requests counts.
 *
 * The connection guard watches both ports: the public one (a client that never completes its
 * handshake, or that idles; the first to be shed when descriptors run short) and the internal
 * one (its side of the same connections, and any connection that did not come through TLS).
 * Each request is marked busy on both sides, so neither side is ever timed out while the other
 * is in use.
 *
 * @module
 */

import { type CertificateInfo, type TlsPair, TlsTerminator } from "../tls/mod.ts";
import { jsonResponse } from "../errors/mod.ts";
import type { ConnectionGuard } from "./connection_guard.ts";
import type { RequestContext } from "./route_types.ts";
import { type ListenerStatus, type ServeFunction, ServerKeeper } from "./server_keeper.ts";

/** Answers a request, knowing who sent it and how. */
export type ContextHandler = (req: Request, ctx: RequestContext) => Promise<Response>;

/** How the listener is set up. */
export interface TlsListenerOptions {
  /** Starts the internal server: `Deno.serve` in production. */
  serve: ServeFunction;
  /** What it is, for the log: "the launcher", "the dashboard". */
  name: string;
  /** The public host to listen on. */
  hostname: string;
  /** The public port; 0 picks a free one. */
  port: number;
  /** The certificate chain and key to serve first. */
  pair: TlsPair;
  /** How long a client has to complete its handshake, in ms. @default 10000 */
  handshakeTimeoutMs?: number;
}

/** What a connection the front door did not make is told. */
const NOT_THROUGH_TLS = "this port is the launcher's internal one: connect over HTTPS";

/** One HTTPS listener: the front door, and the plain listener behind it. */
export class TlsListener {
  readonly #options: TlsListenerOptions;
  readonly #inner: ServerKeeper;
  #terminator: TlsTerminator | undefined;

  /**
   * Makes the listener; {@linkcode TlsListener.start} listens.
   *
   * @param options where, with which pair
   */
  constructor(options: TlsListenerOptions) {
    this.#options = options;
    this.#inner = new ServerKeeper({
      serve: options.serve,
      name: `${options.name} (behind TLS)`,
      hostname: "127.0.0.1",
      port: 0,
    });
  }

  /**
   * Listens: the internal server first, then the public TLS port in front of it.
   *
   * @param handler answers requests
   * @param guard times out and sheds connections on both ports, if there is one
   * @returns the public address
   * @throws {TlsPairError} the pair cannot be served
   * @throws {Error} the public address cannot be listened on (`code` EADDRINUSE, EACCES...)
   */
  async start(handler: ContextHandler, guard?: ConnectionGuard): Promise<Deno.NetAddr> {
    const inner = this.#inner.start((req, info) => this.#serve(req, info, handler, guard));
    guard?.watch(inner.port);
    try {
      this.#terminator = await TlsTerminator.listen({
        hostname: this.#options.hostname,
        port: this.#options.port,
        upstream: inner,
        pair: this.#options.pair,
        handshakeTimeoutMs: this.#options.handshakeTimeoutMs,
      });
    } catch (err) {
      await this.#inner.shutdown();
      throw err;
    }
    guard?.watch(this.#terminator.addr.port);
    return this.#terminator.addr;
  }

  /** The public address (after {@linkcode TlsListener.start}). */
  get addr(): Deno.NetAddr {
    if (!this.#terminator) throw new Error("the listener has not started");
    return this.#terminator.addr;
  }

  /** The internal listener's address (after {@linkcode TlsListener.start}). */
  get internalAddr(): Deno.NetAddr {
    return this.#inner.addr;
  }

  /**
   * Whether the internal listener accepts connections. (The public one cannot say: Deno's
   * `node:net` listener reports no `accept(2)` error; the front door re-arms it instead.)
   */
  get status(): ListenerStatus {
    return this.#inner.status;
  }

  /** What the certificate served to new connections holds (after start). */
  get certificate(): CertificateInfo {
    if (!this.#terminator) throw new Error("the listener has not started");
    return this.#terminator.certificate;
  }

  /**
   * Serves a new pair to new connections; open ones keep theirs.
   *
   * @param pair the new chain and key
   * @returns what the new certificate holds
   * @throws {TlsPairError} the pair cannot be served: the old one stays
   */
  reload(pair: TlsPair): CertificateInfo {
    if (!this.#terminator) throw new Error("the listener has not started");
    return this.#terminator.reload(pair);
  }

  /**
   * Stops accepting, lets the internal server finish (it answers what is in flight and closes
   * its WebSockets), then closes whatever is still open on the public side.
   */
  async shutdown(): Promise<void> {
    this.#terminator?.close();
    await this.#inner.shutdown();
    this.#terminator?.closeConnections();
  }

  #serve(
    req: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
    handler: ContextHandler,
    guard: ConnectionGuard | undefined,
  ): Promise<Response> {
    const client = this.#terminator?.clientOf(info.remoteAddr);
    // Not under the guard: such a connection stays "fresh", and is closed at the header timeout.
    if (!client) {
      return req.body?.cancel().catch(() => {}).then(refused) ?? Promise.resolve(refused());
    }
    const ctx: RequestContext = { remoteAddr: client.remoteAddr, tls: true };
    const answer = () => handler(req, ctx);
    if (!guard) return answer();
    // Busy on both sides: the client's connection to the front door, and the front door's
    // connection to the internal server.
    const outer = { remoteAddr: client.remoteAddr, completed: info.completed };
    return guard.serve(outer, () => guard.serve(info, answer));
  }
}

function refused(): Response {
  return jsonResponse({ error: NOT_THROUGH_TLS }, 403);
}
