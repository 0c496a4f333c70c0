/**
 * The TCP connections this process has accepted, as the kernel lists them: Deno's HTTP
 * server accepts and holds its connections in Rust and hands none to JavaScript, so the
 * launcher finds them among its own descriptors (`/proc/self/fd`), tells them apart by their
 * local port and peer, and can shut one down (the server then sees it end and closes it).
 *
 * Listing the descriptors takes one itself, which a process that has run out does not have,
 * just when it must shed connections to recover (a listener that keeps accepting, as the TLS
 * front door's does, takes every descriptor freed). So the table holds one in reserve, and
 * gives it up for the listing when the process is out.
 *
 * @module
 */

import type { Libc } from "./libc.ts";

/** One accepted connection. */
export interface AcceptedConnection {
  /** Its descriptor in this process. */
  fd: number;
  /** The socket's cookie: unlike the descriptor number, never reused while the system runs. */
  id: string;
  /** The peer, as `host:port` the way `Deno.NetAddr` gives them (see {@linkcode peerKey}). */
  peer: string;
  /** The local port it was accepted on. */
  localPort: number;
}

/** What the connection guard needs from the operating system. */
export interface SocketTable {
  /**
   * Lists the connections accepted on any of `ports`, and counts every open descriptor.
   *
   * @param ports local ports of the listeners
   */
  scan(ports: ReadonlySet<number>): { connections: AcceptedConnection[]; descriptors: number };
  /**
   * Shuts a connection down, if its descriptor is still that connection.
   *
   * @returns whether it was shut down
   */
  shutdown(connection: AcceptedConnection): boolean;
  /** The soft descriptor limit. */
  limit(): number;
  /** How many descriptors are open now. */
  open(): number;
}

/**
 * The key of a peer: `host:port`.
 *
 * @param address the peer as `Deno.NetAddr` or {@linkcode Libc.socketAddress} gives it
 * @returns the key
 */
export function peerKey(address: { hostname: string; port: number }): string {
  return `${address.hostname}:${address.port}`;
}

/**
 * This process's socket table, read from `/proc/self/fd` and through the C library.
 *
 * @param libc the loaded C library
 * @returns the table
 */
export function processSocketTable(libc: Libc): SocketTable {
  const idOf = (fd: number) => libc.socketCookie(fd)?.toString();
  let reserve = libc.openReserve();
  // The descriptors' names, the one that lists them included; with the reserve's help if the
  // process is out of descriptors, and the reserve taken again once it can be.
  const descriptorNames = (): string[] => {
    let names: string[];
    try {
      names = [...Deno.readDirSync("/proc/self/fd")].map((e) => e.name);
    } catch (err) {
      if (reserve === undefined || !/too many open files/i.test(String(err))) throw err;
      libc.closeReserve(reserve);
      reserve = undefined;
      names = [...Deno.readDirSync("/proc/self/fd")].map((e) => e.name);
    }
    reserve ??= libc.openReserve();
    return names;
  };
  return {
    scan(ports) {
      const connections: AcceptedConnection[] = [];
      let descriptors = 0;
      for (const name of descriptorNames()) {
        descriptors++;
        const fd = Number(name);
        const localPort = libc.localPort(fd);
        if (localPort === undefined || !ports.has(localPort)) continue;
        const peer = libc.socketAddress(fd, true); // a listener has none
        const id = peer && idOf(fd);
        if (id) connections.push({ fd, id, peer: peerKey(peer), localPort });
      }
      return { connections, descriptors: descriptors - 1 }; // less the one that lists them
    },
    shutdown(connection) {
      // Checked again right before: the descriptor may have been closed and reused since the
      // scan. Nothing runs between this check and the call (the server closes descriptors
      // on this thread only).
      if (idOf(connection.fd) !== connection.id) return false;
      return libc.shutdown(connection.fd);
    },
    limit: () => libc.descriptorLimit().soft,
    open() {
      return descriptorNames().length - 1; // the one that lists them
    },
  };
}
