/**
 * Whether a port of a session's resources is really free: for a host of this machine, by
 * trying to listen on it; another program may hold it.
 *
 * @module
 */

import { isLoopback } from "../client/mod.ts";

/**
 * Tells whether a slot is really free.
 *
 * @returns true when no other program listens on `host`:`port`
 */
export type PortProbe = (host: string, port: number) => boolean;

/**
 * Makes the real probe: for a host of this machine it tries to listen on the port and closes
 * the listener at once; for any other host it cannot tell and reports the port free. Whether
 * a host is local is worked out once per host.
 *
 * @returns a probe that is false only when the port is already in use on this machine
 * @throws {Deno.errors.NotCapable} from the probe, when Deno may not listen on the port
 */
export function localPortProbe(): PortProbe {
  const local = new Map<string, boolean>();
  return (host, port) => {
    let isLocal = local.get(host);
    if (isLocal === undefined) local.set(host, isLocal = isLocalHost(host));
    return !isLocal || canListen(unbracket(host), port);
  };
}

function canListen(hostname: string, port: number): boolean {
  let listener: Deno.Listener;
  try {
    listener = Deno.listen({ hostname, port });
  } catch (err) {
    if (err instanceof Deno.errors.AddrInUse) return false;
    if (err instanceof Deno.errors.NotCapable) throw err;
    // Not ours to judge (a privileged port, an address that went away): the launch will tell.
    return true;
  }
  listener.close();
  return true;
}

/**
 * Tells whether a host names this machine: `localhost`, `0.0.0.0`, `::`, `::1`, any
 * `127.x.x.x`, this machine's host name, or an address of one of its network interfaces.
 * Without the `sys` permission only the fixed names are recognised.
 *
 * @param host a host name or an IPv4 or IPv6 address, with or without `[` `]`
 * @returns true when a listener on this host would be on this machine
 */
export function isLocalHost(host: string): boolean {
  const h = normalizeHost(host);
  if (["localhost", "0.0.0.0", "::"].includes(h) || isLoopback(h)) return true;
  return ownNames().has(h);
}

function ownNames(): Set<string> {
  const names = new Set<string>();
  try {
    names.add(normalizeHost(Deno.hostname()));
    for (const nic of Deno.networkInterfaces()) names.add(normalizeHost(nic.address));
  } catch (err) {
    if (!(err instanceof Deno.errors.NotCapable)) throw err;
  }
  return names;
}

// Canonical, lower-case form, so that `127.1`, `[::1]` and `0:0:0:0:0:0:0:1` compare equal.
function normalizeHost(host: string): string {
  const bare = unbracket(host);
  try {
    const url = new URL(bare.includes(":") ? `http://[${bare}]` : `http://${bare}`);
    return unbracket(url.hostname);
  } catch {
    return bare.toLowerCase();
  }
}

function unbracket(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}
