/**
 * The settings of the launcher's own connections and files, spelt the same in both formats
 * (read with the operating keys): how long a client may take to send a request's headers or
 * idle between requests, which peers are trusted proxies whose forwarded headers count, a
 * listener of the dashboard's own, and the most a session log may hold.
 *
 * @module
 */

import type { Fields, Value } from "./reader.ts";
import type { LauncherConfig } from "./types.ts";
import { LOOPBACK, parseNetwork } from "../client/mod.ts";
import { readSeconds, withoutUndefined } from "./values.ts";

/** The keys read here, in both formats. */
export const NETWORK_KEYS: readonly string[] = [
  "header_timeout",
  "keepalive_timeout",
  "trusted_proxies",
  "dashboard_listen",
  "max_log_size",
];

/** What these settings are when their key is absent. */
const NETWORK_DEFAULTS: {
  /** Seconds for a new connection's request headers (and a request body the launcher reads). */
  readonly headerTimeoutMs: number;
  /** Seconds a connection may idle between requests. */
  readonly keepAliveTimeoutMs: number;
  /** Peers whose forwarded headers are believed: this machine. */
  readonly trustedProxies: readonly string[];
  /** Most bytes a session log keeps. */
  readonly maxLogBytes: number;
} = {
  headerTimeoutMs: 10_000,
  keepAliveTimeoutMs: 30_000,
  trustedProxies: LOOPBACK,
  maxLogBytes: 16 * 1024 * 1024,
};

/** The smallest `max_log_size`: a session's start-up output must fit. */
const MIN_LOG_BYTES = 64 * 1024;

/** The part of the model read here. */
export type NetworkSettings = Pick<
  LauncherConfig,
  "headerTimeoutMs" | "keepAliveTimeoutMs" | "trustedProxies" | "dashboardListen" | "maxLogBytes"
>;

/**
 * Reads the settings. Problems are recorded, not thrown.
 *
 * @param fields the object that holds them, undefined when it is absent
 * @param listenPort the launcher's own port, which `dashboard_listen` cannot take too
 * @returns the settings, with defaults in place of absent or invalid values
 */
export function readNetwork(fields: Fields | undefined, listenPort: number): NetworkSettings {
  const dashboardListen = fields?.read("dashboard_listen", readListen);
  if (dashboardListen && dashboardListen.port !== 0 && dashboardListen.port === listenPort) {
    fields?.get("dashboard_listen")?.error(
      `port ${listenPort} is the launcher's own: the dashboard needs a port of its own`,
    );
  }
  return withoutUndefined({
    headerTimeoutMs: fields?.read("header_timeout", readSeconds) ??
      NETWORK_DEFAULTS.headerTimeoutMs,
    keepAliveTimeoutMs: fields?.read("keepalive_timeout", readSeconds) ??
      NETWORK_DEFAULTS.keepAliveTimeoutMs,
    trustedProxies: fields?.read("trusted_proxies", readNetworks) ??
      [...NETWORK_DEFAULTS.trustedProxies],
    dashboardListen,
    maxLogBytes: fields?.read("max_log_size", readSize) ?? NETWORK_DEFAULTS.maxLogBytes,
  });
}

/** Reads `trusted_proxies`: addresses and CIDR networks (`10.0.0.0/8`, `::1`). */
function readNetworks(value: Value): string[] | undefined {
  const items = value.list();
  if (!items) return undefined;
  const networks: string[] = [];
  for (const item of items) {
    const text = item.string();
    if (text === undefined) continue;
    if (parseNetwork(text) === undefined) {
      item.error(
        `expected an IP address or a network such as "10.0.0.0/8" or "::1", found ` +
          JSON.stringify(text),
      );
    } else networks.push(text);
  }
  return networks;
}

/**
 * Reads a listener's address (`dashboard_listen`, `redirect_http`): a port, or `"host:port"`
 * (`"[::1]:9090"` for IPv6).
 *
 * @param value the value to read
 * @returns the port, and the host when one is given; undefined after recording an error
 */
export function readListen(value: Value): { hostname?: string; port: number } | undefined {
  const example = 'a port such as 9090, or "127.0.0.1:9090"';
  if (value.node.type === "number") {
    const port = value.integer();
    return port !== undefined && port >= 0 && port <= 65535
      ? { port }
      : value.expected(`${example} (a port is 0..65535)`);
  }
  const text = value.string();
  if (text === undefined) return undefined;
  const m = text.match(/^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:/\[\]]+)):(\d{1,5})$/);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) return value.expected(example);
  return { hostname: m[1] ?? m[2], port };
}

const UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Reads a size: a number of bytes, or a string with a unit such as `"16M"` or `"512K"`. */
function readSize(value: Value): number | undefined {
  const example = 'a number of bytes, or a size such as "16M" or "512K"';
  let bytes: number;
  if (value.node.type === "number") bytes = value.node.value as number;
  else if (value.node.type === "string") {
    const m = String(value.node.value).trim().match(/^(\d+(?:\.\d+)?)\s*([kmg]?)i?b?$/i);
    if (!m) return value.expected(example);
    bytes = Number(m[1]) * UNITS[m[2].toLowerCase()];
  } else return value.expected(example);
  if (!Number.isFinite(bytes)) return value.expected(example);
  if (bytes < MIN_LOG_BYTES) {
    return value.error(`a session log must be able to hold at least 64K, found ${bytes} bytes`);
  }
  return Math.floor(bytes);
}
