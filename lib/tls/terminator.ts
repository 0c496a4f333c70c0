/**
 * The TLS front door: one `node:tls` server on the public address that decrypts each
 * connection and forwards its bytes over a plain connection of its own to the launcher's
 * internal listener (a plain `Deno.serve` on loopback), which serves it unchanged.
 *
 * Why not `Deno.serve({ cert, key })`: a certificate renewal then means a new server, and
 * shutting the old one down closes every upgraded WebSocket (Deno 2.9); swapping listeners
 * resets the connections waiting in the old one's queue. Here the listener lives as long as
 * the process, and {@linkcode TlsTerminator.reload} gives new handshakes the new pair while
 * every open connection goes on with the old one.
 *
 * The internal listener sees every client as the terminator's own loopback address, so the
 * terminator remembers, for each of its connections to it, the real client:
 * {@linkcode TlsTerminator.clientOf} turns the peer address the internal server reports into
 * that client, and into nothing for a connection the terminator did not make, which the
 * launcher refuses (a local user dialling the internal port would otherwise skip TLS and
 * pose as a loopback client).
 *
 * Running out of descriptors does not stop it for good either: Deno 2.9's `node:net` listener
 * stops accepting, silently, after an `accept(2)` error such as EMFILE (nothing polls it
 * again), so the terminator re-arms it every {@linkcode REARM_INTERVAL_MS} and whenever one of
 * its connections closes, which costs one `accept(2)` that finds nothing when all is well.
 *
 * Abusive clients cost nothing lasting: a handshake must complete within
 * `handshakeTimeoutMs` of the connection's start (however slowly bytes trickle in), a failed
 * handshake closes its socket, and a link whose other side closed is destroyed once its peer
 * stops making progress. After the handshake, the internal server's own timeouts apply.
 *
 * @module
 */

import net from "node:net";
import tls from "node:tls";
import { type CertificateInfo, inspectPair, type TlsPair } from "./certificate.ts";
import { link } from "./link.ts";

/** How often the listener is re-armed after a possible `accept(2)` error, in ms. */
export const REARM_INTERVAL_MS = 500;

/** How the front door is set up. */
export interface TlsTerminatorOptions {
  /** The public address to listen on. */
  hostname: string;
  /** The public port; 0 picks a free one. */
  port: number;
  /** The launcher's internal plain listener, on loopback. */
  upstream: { hostname: string; port: number };
  /** The certificate chain and key to serve first; checked like a reload. */
  pair: TlsPair;
  /** How long a client has to complete its handshake, in ms. @default 10000 */
  handshakeTimeoutMs?: number;
  /** How long a side may go without progress once the other closed, in ms. @default 10000 */
  lingerMs?: number;
  /** The clock certificates are checked against. @default () => new Date() */
  now?: () => Date;
}

/** The client behind a connection of the internal listener. */
export interface TlsClient {
  /** The client's address, as the public listener saw it. */
  remoteAddr: Deno.NetAddr;
  /** It came over TLS: the request's scheme is `https` (`wss` for a WebSocket). */
  tls: true;
  /** The host name the client asked for in its handshake (SNI), when it gave one. */
  servername?: string;
}

/** What the front door has done since it started. */
export interface TerminatorCounts {
  /** Public connections open now, handshake done or not. */
  open: number;
  /** Connections to the internal listener open now, each vouching for a client. */
  forwarding: number;
  /** Handshakes that failed or timed out. */
  handshakeFailures: number;
  /** Connections to the internal listener that failed or broke. */
  upstreamErrors: number;
  /** Pairs put in service by {@linkcode TlsTerminator.reload}. */
  reloads: number;
}

/**
 * The TLS front door.
 *
 * @example
 * ```ts ignore
 * const inner = Deno.serve({ hostname: "127.0.0.1", port: 0 }, (req, info) => {
 *   const client = terminator.clientOf(info.remoteAddr);
 *   if (!client) return Response.json({ error: "use https" }, { status: 403 });
 *   return handler(req, { remoteAddr: client.remoteAddr, scheme: "https" });
 * });
 * const terminator = await TlsTerminator.listen({
 *   hostname: "0.0.0.0", port: 443, upstream: inner.addr, pair: await loadPair(files),
 * });
 * Deno.addSignalListener("SIGHUP", () => {
 *   loadPair(files).then((pair) => terminator.reload(pair)).then(
 *     (info) => log.info(`serving the certificate ${info.serial}`),
 *     (err) => log.warn(`certificate not reloaded, keeping the old one: ${err.message}`),
 *   );
 * });
 * ```
 */
export class TlsTerminator {
  readonly #server: tls.Server;
  readonly #upstream: { hostname: string; port: number };
  readonly #lingerMs: number;
  readonly #now: () => Date;
  readonly #clients = new Map<string, TlsClient>();
  readonly #sockets = new Set<net.Socket>(); // public connections
  readonly #links = new Set<net.Socket>(); // their connections to the internal listener
  readonly #idle = new Set<() => void>();
  readonly #counts = { handshakeFailures: 0, upstreamErrors: 0, reloads: 0 };
  #certificate: CertificateInfo;
  #addr: Deno.NetAddr;
  #rearm: ReturnType<typeof setInterval> | undefined;

  private constructor(options: TlsTerminatorOptions, certificate: CertificateInfo) {
    this.#upstream = options.upstream;
    this.#lingerMs = options.lingerMs ?? 10_000;
    this.#now = options.now ?? (() => new Date());
    this.#certificate = certificate;
    this.#addr = { transport: "tcp", hostname: options.hostname, port: options.port };
    this.#server = tls.createServer({
      cert: options.pair.cert,
      key: options.pair.key,
      ALPNProtocols: ["http/1.1"], // the internal server speaks HTTP/1.1 WebSockets
      handshakeTimeout: options.handshakeTimeoutMs ?? 10_000,
    }, (client) => this.#forward(client));
    this.#server.on("connection", (socket: net.Socket) => this.#track(socket, this.#sockets));
    this.#server.on("tlsClientError", (_err: Error, socket: tls.TLSSocket) => {
      this.#counts.handshakeFailures++;
      socket.destroy(); // not done for us, not even on a handshake timeout
    });
  }

  /**
   * Checks the pair and starts listening.
   *
   * @param options the public address, the internal listener, the pair
   * @returns the front door, accepting
   * @throws {TlsPairError} the pair cannot be served
   * @throws {Error} the address cannot be listened on (`code` EADDRINUSE, EACCES...)
   */
  static async listen(options: TlsTerminatorOptions): Promise<TlsTerminator> {
    const now = options.now ?? (() => new Date());
    const terminator = new TlsTerminator(options, inspectPair(options.pair, { now: now() }));
    const server = terminator.#server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, options.hostname, () => {
        server.off("error", reject);
        resolve();
      });
    });
    // An accept error (EMFILE) must not become an uncaught exception.
    server.on("error", () => {});
    const { address, port } = server.address() as net.AddressInfo;
    terminator.#addr = { transport: "tcp", hostname: address, port };
    terminator.#rearm = setInterval(() => rearmAccept(server), REARM_INTERVAL_MS);
    return terminator;
  }

  /** The public address it listens on (or listened on, once closed). */
  get addr(): Deno.NetAddr {
    return this.#addr;
  }

  /** What the certificate served to new connections holds. */
  get certificate(): CertificateInfo {
    return this.#certificate;
  }

  /** Open connections and failures so far. */
  get counts(): TerminatorCounts {
    return { open: this.#sockets.size, forwarding: this.#clients.size, ...this.#counts };
  }

  /**
   * The client behind a connection of the internal listener.
   *
   * @param peer the peer address the internal server reports for the request
   * @returns the real client, or undefined when the connection did not come through this
   *   front door (then refuse the request: it skipped TLS)
   */
  clientOf(peer: { hostname: string; port: number }): TlsClient | undefined {
    return this.#clients.get(`${peer.hostname}:${peer.port}`);
  }

  /**
   * Serves a new pair to new connections; open connections keep theirs.
   *
   * @param pair the new chain and key
   * @returns what the new certificate holds
   * @throws {TlsPairError} the pair cannot be served: the old one stays in service
   */
  reload(pair: TlsPair): CertificateInfo {
    const info = inspectPair(pair, { now: this.#now() });
    this.#server.setSecureContext({ cert: pair.cert, key: pair.key });
    this.#certificate = info;
    this.#counts.reloads++;
    return info;
  }

  /** Resolves once no connection is open, public or internal (at once if none is). */
  idle(): Promise<void> {
    if (this.#sockets.size + this.#links.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.add(resolve));
  }

  /**
   * Stops accepting connections; open ones go on until they end (see
   * {@linkcode TlsTerminator.idle}) or {@linkcode TlsTerminator.closeConnections}.
   */
  close(): void {
    clearInterval(this.#rearm);
    this.#rearm = undefined;
    this.#server.close();
  }

  /** Destroys every open connection, each with its internal connection. */
  closeConnections(): void {
    for (const socket of [...this.#sockets, ...this.#links]) socket.destroy();
  }

  #track(socket: net.Socket, set: Set<net.Socket>): void {
    set.add(socket);
    socket.once("close", () => {
      set.delete(socket);
      if (this.#rearm !== undefined) rearmAccept(this.#server); // a descriptor was freed
      if (this.#sockets.size + this.#links.size > 0) return;
      for (const resolve of this.#idle) resolve();
      this.#idle.clear();
    });
  }

  #forward(client: tls.TLSSocket): void {
    const { remoteAddress, remotePort } = client;
    if (remoteAddress === undefined || remotePort === undefined) {
      client.destroy(); // gone already
      return;
    }
    const who: TlsClient = {
      remoteAddr: { transport: "tcp", hostname: remoteAddress, port: remotePort },
      tls: true,
      ...sniOf(client),
    };
    const upstream = net.connect({ host: this.#upstream.hostname, port: this.#upstream.port });
    this.#track(upstream, this.#links);
    upstream.once("error", () => this.#counts.upstreamErrors++);
    let key: string | undefined;
    link(client, upstream, this.#lingerMs, {
      connected: (local) => {
        key = `${local.hostname}:${local.port}`;
        this.#clients.set(key, who);
      },
      released: () => {
        if (key !== undefined) this.#clients.delete(key);
      },
    });
  }
}

/**
 * Makes the listener try `accept(2)` again. Deno 2.9's listener (`libs/core/uv_compat/tcp.rs`)
 * polls for connections only when woken, and an accept error leaves it with no wake-up
 * registered; `listen()` on its already-listening handle (a no-op, as in libuv) queues it to be
 * polled. `_handle` is Node's internal field: when it is missing this does nothing.
 */
function rearmAccept(server: net.Server): void {
  const handle = (server as { _handle?: { listen?: (backlog: number) => number } })._handle;
  handle?.listen?.(511);
}

/** The SNI name of a server-side TLS socket (set by `node:tls`, missing from its types). */
function sniOf(client: tls.TLSSocket): { servername?: string } {
  const name = (client as { servername?: unknown }).servername;
  return typeof name === "string" && name !== "" ? { servername: name } : {};
}
