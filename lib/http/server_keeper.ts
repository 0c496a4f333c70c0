/**
 * Keeps an HTTP listener accepting. Deno 2.9's `Deno.serve` ends its accept loop for good at
 * the first error from `accept(2)`, such as EMFILE when the process is out of descriptors: the
 * listening socket is closed, `server.finished` rejects, and the process lives on without
 * listening, which no supervisor notices. The keeper notices, says so, and listens again on
 * the same address after a back-off (from 50 ms, doubling to 2 s) until it succeeds. The
 * connections the old server holds are still served meanwhile (a monitor's `/healthz` says
 * the listener is down), and go on being served until they close. When the listener dies
 * again, the server that died before is forgotten (not shut down: that would close its
 * clients' idle connections): a listener that dies again and again holds two servers at most,
 * not every one it ever started, and a shutdown drains the last two.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";

/** Starts a server: `Deno.serve` in production. */
export type ServeFunction = (
  options: { hostname: string; port: number; onListen?: (addr: Deno.NetAddr) => void },
  handler: Deno.ServeHandler<Deno.NetAddr>,
) => Deno.HttpServer<Deno.NetAddr>;

/** How a keeper is set up. */
export interface ServerKeeperOptions {
  /** Starts a server. */
  serve: ServeFunction;
  /** What it is, for the log: "the launcher", "the dashboard". */
  name: string;
  /** Host to listen on. */
  hostname: string;
  /** Port to listen on; 0 picks one at the first start, which later starts reuse. */
  port: number;
  /** First wait before listening again, in ms. @default 50 */
  firstBackoffMs?: number;
  /** Longest wait between attempts, in ms. @default 2000 */
  maxBackoffMs?: number;
}

/** Whether the listener accepts connections, and if not, since when and why. */
export interface ListenerStatus {
  /** True while a listener is accepting. */
  accepting: boolean;
  /** Since when it is not, in ms since the epoch. */
  since?: number;
  /** The error that stopped it. */
  error?: string;
}

const logger = () => getLogger(["pvw-launcher"]);

/** One listener, started again whenever its accept loop dies. */
export class ServerKeeper {
  readonly #options: ServerKeeperOptions;
  readonly #servers = new Set<Deno.HttpServer<Deno.NetAddr>>();
  /** The server whose accept loop died last, still serving its connections. */
  readonly #dead = new Set<Deno.HttpServer<Deno.NetAddr>>();
  #addr: Deno.NetAddr | undefined;
  #status: ListenerStatus = { accepting: false };
  #closing = false;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #handler: Deno.ServeHandler<Deno.NetAddr> | undefined;

  /**
   * Makes the keeper, which reports its status at once (not accepting);
   * {@linkcode ServerKeeper.start} listens.
   *
   * @param options how to serve, where
   */
  constructor(options: ServerKeeperOptions) {
    this.#options = options;
  }

  /**
   * Listens for the first time.
   *
   * @param handler answers requests, on this listener and on those it starts again
   * @returns the address it listens on
   * @throws what `serve` throws (the address is taken, ...)
   */
  start(handler: Deno.ServeHandler<Deno.NetAddr>): Deno.NetAddr {
    this.#handler = handler;
    const server = this.#serve(this.#options.port);
    this.#addr = server.addr;
    return server.addr;
  }

  /** The address it listens on (after {@linkcode ServerKeeper.start}). */
  get addr(): Deno.NetAddr {
    if (!this.#addr) throw new Error("the server has not started");
    return this.#addr;
  }

  /** Whether it accepts connections now. */
  get status(): ListenerStatus {
    return { ...this.#status };
  }

  /** How many servers it holds: the one listening, and the one that died last. */
  get held(): number {
    return this.#servers.size;
  }

  /** Stops listening and waits for every server it started to finish its requests. */
  async shutdown(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#retry);
    await Promise.all([...this.#servers].map((s) => s.shutdown().catch(() => {})));
  }

  #serve(port: number): Deno.HttpServer<Deno.NetAddr> {
    const { hostname, serve } = this.#options;
    const server = serve({ hostname, port, onListen: () => {} }, this.#handler!);
    this.#servers.add(server);
    this.#status = { accepting: true };
    server.finished.then(() => this.#ended(server), (err) => this.#ended(server, err));
    return server;
  }

  #ended(server: Deno.HttpServer<Deno.NetAddr>, err?: unknown): void {
    if (this.#closing) return;
    for (const earlier of this.#dead) {
      this.#dead.delete(earlier);
      this.#servers.delete(earlier);
    }
    this.#dead.add(server);
    const error = err instanceof Error ? err.message : String(err ?? "the server ended");
    this.#status = { accepting: false, since: Date.now(), error };
    logger().error("{name} is not accepting connections on {address}: {error}", {
      name: this.#options.name,
      address: hostPort(server.addr),
      error,
    });
    this.#again(this.#options.firstBackoffMs ?? 50);
  }

  #again(waitMs: number): void {
    this.#retry = setTimeout(() => {
      if (this.#closing) return;
      const since = this.#status.since ?? Date.now();
      try {
        this.#serve(this.addr.port);
      } catch (err) {
        this.#status.error = (err as Error).message;
        this.#again(Math.min(waitMs * 2, this.#options.maxBackoffMs ?? 2000));
        return;
      }
      logger().info("{name} is accepting connections again on {address}, after {seconds} s", {
        name: this.#options.name,
        address: hostPort(this.addr),
        seconds: Math.round((Date.now() - since) / 100) / 10,
      });
    }, waitMs);
  }
}

/**
 * An address as `host:port`, with IPv6 hosts in brackets.
 *
 * @param addr the address
 * @returns the text
 */
export function hostPort(addr: { hostname: string; port: number }): string {
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return `${host}:${addr.port}`;
}
