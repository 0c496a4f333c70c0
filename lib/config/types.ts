/**
 * The typed model that both config formats (the spec's flat keys and wslink's four sections)
 * load into. Everything downstream of the config parser reads only this model.
 *
 * @module
 */

import type { ClusterSettings, SlurmSettings } from "../cluster/mod.ts";

/** A range of ports on one host that sessions may use. */
export interface ResourceRange {
  /** Host name or address the session's process binds and the proxy connects to. */
  host: string;
  /** First port of the range. */
  first: number;
  /** Last port of the range, inclusive. */
  last: number;
}

/** One wslink `sanitize` rule: a bad client value is replaced by `default` and logged. */
export type SanitizeRule =
  | {
    /** The value must match `pattern` as a whole. */
    type: "regexp";
    /** The compiled rule. */
    pattern: RegExp;
    /** What replaces a value that does not match. */
    default: string;
  }
  | {
    /** The value must be one of `list`. */
    type: "inList";
    /** The accepted values. */
    list: string[];
    /** What replaces a value that is not in the list. */
    default: string;
  };

/** One application that clients may launch. */
export interface AppConfig {
  /** The name clients send as `application`. */
  name: string;
  /** The argv, each element a template (`$name`, `${name}`, `$$`); never run by a shell. */
  cmd: string[];
  /** Absolute working directory, or undefined for the launcher's own. */
  dir?: string;
  /** Extra environment variables, on top of the launcher's and `PYTHONUNBUFFERED=1`. */
  env: Record<string, string>;
  /** The process is ready once a line of its output contains any of these. Never empty. */
  readyLines: string[];
  /** How long to wait for a ready line, in milliseconds. */
  timeoutMs: number;
  /** Path a WebSocket to the bare session URL is proxied to, starting with `/`. */
  wsPath: string;
  /** How many started processes of the app wait, ready, to be handed out at once on a POST. */
  warm: number;
  /** Stop the session after this long with no proxied connection and no traffic, in ms. */
  idleTimeoutMs?: number;
  /** Stop the session this long after it started, in ms. */
  maxLifetimeMs?: number;
  /** Its sessions run as Slurm jobs, asking for these; they run locally when undefined. */
  slurm?: SlurmSettings;
  /** How long a session may wait in the batch queue, in ms; the cluster's when undefined. */
  queueTimeoutMs?: number;
}

/** A per-client limit on launch requests (a token bucket). */
export interface RateLimit {
  /** Requests a client may make per minute, on average. */
  perMinute: number;
  /** Requests a client may make at once before the average applies. */
  burst: number;
}

/** The whole launcher configuration, whatever format it was written in. */
export interface LauncherConfig {
  /** Absolute path of the config file. */
  file: string;
  /** Which format the file was written in; decides the shape of the POST answer. */
  format: "spec" | "wslink";
  /** Where the launcher listens. */
  listen: {
    /** Host name or address. */
    hostname: string;
    /** TCP port; 0 picks a free one. */
    port: number;
  };
  /** Path of the REST endpoint, starting with `/` and without a trailing slash (`/paraview`). */
  endpoint: string;
  /** Absolute directory of static files served at `/`, if any. */
  content?: string;
  /** Absolute directory that receives `<id>.log` for each session. */
  logDir: string;
  /** Absolute path of the Apache `RewriteMap txt:` file, if one is kept. */
  mapFile?: string;
  /** Template of the `sessionURL` answered to clients. */
  sessionUrl: string;
  /** Default ready lines for applications that set none. Never empty. */
  readyLines: string[];
  /** Default ready timeout in milliseconds. */
  timeoutMs: number;
  /** Time between SIGTERM and SIGKILL when a session is stopped, in milliseconds. */
  stopGraceMs: number;
  /** At most this many sessions run at once (starting or ready). */
  maxSessions: number;
  /** Host and port ranges handed to sessions. */
  resources: ResourceRange[];
  /** Admin-defined template values; they always win over anything a client sends. */
  properties: Record<string, string>;
  /** The launchable applications by name. */
  apps: Record<string, AppConfig>;
  /** wslink: extra session keys returned to the client. Empty for the spec format. */
  fields: string[];
  /** wslink: templates rendered per session and returned to the client. */
  sessionData: Record<string, string>;
  /** wslink: rules applied to client values by key. */
  sanitize: Record<string, SanitizeRule>;
  /**
   * A template variable that nothing provides: `"refuse"` answers the POST 400 (spec format);
   * `"keep"` leaves it in place as written and logs it (wslink format, as the wslink launcher's
   * `safe_substitute` does; real clients rely on it).
   */
  unprovided: "refuse" | "keep";
  /** Default idle timeout of applications that set none, in ms; undefined: never. */
  idleTimeoutMs?: number;
  /** Default lifetime limit of applications that set none, in ms; undefined: none. */
  maxLifetimeMs?: number;
  /** Absolute path of the file the session table is kept in, to survive restarts. */
  stateFile: string;
  /** On SIGTERM/SIGINT, leave sessions running for the next launcher to adopt. */
  keepSessions: boolean;
  /** Path of the dashboard, starting with `/`, without a trailing slash (`/_dashboard`). */
  dashboardPath: string;
  /** Token that opens the dashboard and its API; without one, the launcher makes one at start. */
  adminToken?: string;
  /** Token the REST API requires as `Authorization: Bearer <token>`, if set. */
  apiToken?: string;
  /** Origins, besides the launcher's own, whose pages may POST (CORS). */
  allowedOrigins: string[];
  /** Per-client limit on POSTs, if set. */
  rateLimit?: RateLimit;
  /** How long a new connection may take to send its request's headers, in ms. */
  headerTimeoutMs: number;
  /** How long a connection may idle between requests, in ms. */
  keepAliveTimeoutMs: number;
  /** Addresses and networks of proxies whose forwarded headers are believed. */
  trustedProxies: string[];
  /** Where the dashboard listens, when it has a listener of its own; no host: the launcher's. */
  dashboardListen?: { hostname?: string; port: number };
  /** Most bytes a session log keeps; older output is dropped. */
  maxLogBytes: number;
  /** The batch system of the applications that run as jobs, if the config names one. */
  cluster?: ClusterSettings;
  /**
   * How sessions are placed on the hosts of `resources`: `spread` (the host with the fewest
   * sessions first) or `pack` (the ranges' order). Undefined: spread with several hosts.
   */
  placement?: "spread" | "pack";
  /** The certificate chain and private key files (PEM), when the launcher serves HTTPS itself. */
  tls?: { cert: string; key: string };
  /** Where the plain-HTTP listener that only redirects to HTTPS listens; no host: the launcher's. */
  redirectHttp?: { hostname?: string; port: number };
}

/** Names whose values the launcher assigns to every session. */
export const ASSIGNED_NAMES: readonly string[] = [
  "id",
  "host",
  "port",
  "secret",
  "sessionURL",
  "application",
];
