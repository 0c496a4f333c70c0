/**
 * Joins a client's decrypted TLS socket to its own plain connection to the launcher's
 * internal listener, byte for byte in both directions, and takes both down cleanly.
 *
 * Closing: when one side ends, the other is ended too (a TLS `close_notify`, or a FIN), after
 * what was already received from the first has been written to it; it then gets
 * `lingerMs` without any progress to finish before it is destroyed, so a peer that stops
 * reading cannot hold the descriptors. An error on either side destroys both at once.
 *
 * @module
 */

import type { Socket } from "node:net";

/** What the terminator learns of a link. */
export interface LinkHooks {
  /** The upstream connection is open, from this local address. */
  connected(local: { hostname: string; port: number }): void;
  /**
   * The upstream connection carries no more requests. Called before its descriptor is
   * closed, so that no other connection can have taken its address while the terminator
   * still vouches for it.
   */
  released(): void;
}

/**
 * Pipes `client` and `upstream` into each other until both are closed.
 *
 * @param client the client's TLS socket, handshake done
 * @param upstream a connection being made to the internal listener
 * @param lingerMs how long, without progress, a side may take to finish once the other closed
 * @param hooks told when the upstream connection opens and when it can be forgotten
 */
export function link(client: Socket, upstream: Socket, lingerMs: number, hooks: LinkHooks): void {
  // Without TCP_NODELAY each new connection's first answer can wait ~40 ms for a delayed ACK.
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    hooks.released();
  };
  const abort = () => {
    release();
    client.destroy();
    upstream.destroy();
  };
  const finish = (other: Socket) => () => {
    if (other.destroyed) return;
    // The pipe into the closed side stopped reading this one: read on, discarding, or its
    // peer's end would never be seen.
    other.resume();
    other.end();
    other.setTimeout(lingerMs, abort);
  };
  upstream.once("connect", () => {
    hooks.connected({ hostname: upstream.localAddress ?? "", port: upstream.localPort ?? 0 });
  });
  // The internal server has said its last: no request of this connection is left to vouch for.
  upstream.once("end", release);
  upstream.once("close", release);
  client.on("error", abort);
  upstream.on("error", abort);
  client.once("close", finish(upstream));
  upstream.once("close", finish(client));
  client.pipe(upstream);
  upstream.pipe(client);
}
