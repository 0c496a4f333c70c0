/**
 * The settings of a launcher in production, spelt the same in both formats (at the top level
 * of the spec format, inside `configuration` in wslink's): session lifetimes, the state file
 * that lets sessions survive a restart, the dashboard's path and the guards of the front door
 * (read by `config_access.ts`).
 *
 * @module
 */

import { dirname, join } from "node:path";
import type { LauncherConfig } from "./types.ts";
import type { Fields, Value } from "./reader.ts";
import { readOrigins, readRateLimit, readToken } from "./access.ts";
import { NETWORK_KEYS, type NetworkSettings, readNetwork } from "./network.ts";
import { readTlsSettings, TLS_KEYS, type TlsSettings } from "./tls_settings.ts";
import { DEFAULTS, readBoolean, readPath, readSeconds, withoutUndefined } from "./values.ts";

/** The operating keys, in both formats. */
export const OPERATION_KEYS: readonly string[] = [
  "idle_timeout",
  "max_lifetime",
  "state_file",
  "keep_sessions",
  "dashboard_path",
  "admin_token",
  "api_token",
  "allowed_origins",
  "rate_limit",
  ...NETWORK_KEYS,
  ...TLS_KEYS,
];

/** The part of the model that {@linkcode readOperations} reads. */
export type OperationSettings =
  & Pick<
    LauncherConfig,
    | "idleTimeoutMs"
    | "maxLifetimeMs"
    | "stateFile"
    | "keepSessions"
    | "dashboardPath"
    | "adminToken"
    | "apiToken"
    | "allowedOrigins"
    | "rateLimit"
  >
  & NetworkSettings
  & TlsSettings;

/** What the operating settings are checked against, read from the rest of the config. */
export interface OperationContext {
  /** Absolute path of the config file. */
  file: string;
  /** Absolute folder of the config file, for a relative `state_file`. */
  baseDir: string;
  /** Path of the REST endpoint, which the dashboard must stay clear of. */
  endpoint: string;
  /** The value that set the endpoint; undefined when it is the default. */
  endpointValue?: Value;
  /** Absolute path of the map file, if one is kept. */
  mapFile?: string;
  /** Absolute folder of the session logs. */
  logDir: string;
  /** The port the launcher listens on, which the dashboard's own listener cannot share. */
  listenPort: number;
}

/** Paths served by the launcher itself, which neither the endpoint nor the dashboard may take. */
const RESERVED_PATHS: [string, string][] = [
  ["/proxy", "the built-in proxy"],
  ["/metrics", "the metrics"],
  ["/healthz", "the health check"],
];

/**
 * Where the state file is kept when `state_file` is absent: next to the map file, which a
 * restart must make true again, else in the log folder.
 *
 * @param paths the config's absolute map file and log folder
 * @returns the absolute path of the state file
 */
function defaultStateFile(paths: { mapFile?: string; logDir: string }): string {
  const folder = paths.mapFile === undefined ? paths.logDir : dirname(paths.mapFile);
  return join(folder, DEFAULTS.stateFileName);
}

/**
 * Reads the operating settings. Problems are recorded, not thrown.
 *
 * @param fields the object that holds them (the spec's top level, wslink's `configuration`),
 *   undefined when it is absent
 * @param context the rest of the config, which some settings must agree with
 * @returns the settings, with defaults in place of absent or invalid values; absent optional
 *   settings are left out
 */
export function readOperations(
  fields: Fields | undefined,
  context: OperationContext,
): OperationSettings {
  const reserved = RESERVED_PATHS.find(([path]) => overlapping(path, context.endpoint));
  if (reserved) {
    (context.endpointValue ?? fields?.owner)?.error(
      `the REST endpoint "${context.endpoint}" overlaps ${reserved[1]} at "${reserved[0]}", ` +
        "which the launcher serves first: the endpoint could not be reached there; choose " +
        "another path",
    );
  }
  const adminToken = fields?.read("admin_token", readToken);
  const apiToken = fields?.read("api_token", readToken);
  if (apiToken !== undefined && apiToken === adminToken) {
    fields?.get("api_token")?.warn(
      "api_token is the same as admin_token: every API client could also use the dashboard",
    );
  }
  const network = readNetwork(fields, context.listenPort);
  const tls = readTlsSettings(fields, {
    baseDir: context.baseDir,
    listenPort: context.listenPort,
    dashboardPort: network.dashboardListen?.port,
  });
  return withoutUndefined({
    idleTimeoutMs: fields?.read("idle_timeout", readSeconds),
    maxLifetimeMs: fields?.read("max_lifetime", readSeconds),
    stateFile: fields?.read("state_file", (v) => readStateFile(v, context)) ??
      defaultStateFile(context),
    keepSessions: fields?.read("keep_sessions", readBoolean) ?? false,
    dashboardPath: readDashboard(fields, context),
    adminToken,
    apiToken,
    allowedOrigins: fields?.read("allowed_origins", readOrigins) ?? [],
    rateLimit: fields?.read("rate_limit", readRateLimit),
    ...network,
    ...tls,
  });
}

function readStateFile(value: Value, context: OperationContext): string | undefined {
  const file = readPath(value, context.baseDir);
  if (file === undefined) return undefined;
  if (file === context.mapFile) {
    return value.error("the state file cannot be the map file: each would overwrite the other");
  }
  if (file === context.file) return value.error("the state file cannot be the config file");
  return file;
}

/** Reads `dashboard_path`; a default that clashes with the endpoint is reported there. */
function readDashboard(fields: Fields | undefined, context: OperationContext): string {
  const value = fields?.get("dashboard_path");
  if (value) return readDashboardPath(value, context.endpoint) ?? DEFAULTS.dashboardPath;
  const clash = clashOf(DEFAULTS.dashboardPath, context.endpoint);
  if (clash) {
    (context.endpointValue ?? fields?.owner)?.error(
      `the dashboard is at "${DEFAULTS.dashboardPath}" by default, which overlaps ${clash}; ` +
        'set "dashboard_path" to another path',
    );
  }
  return DEFAULTS.dashboardPath;
}

function readDashboardPath(value: Value, endpoint: string): string | undefined {
  const text = value.string();
  if (text === undefined) return undefined;
  const example = `such as "${DEFAULTS.dashboardPath}"`;
  if (!text.startsWith("/")) return value.error(`expected a path starting with "/", ${example}`);
  const path = text.replace(/\/+$/, "");
  if (path === "") {
    return value.error(`the dashboard cannot be at "/", where the launcher serves content`);
  }
  if (path.includes("//") || new URL(path, "http://localhost").pathname !== path) {
    return value.error(
      'expected a path as browsers send it: no spaces, non-ASCII letters, "?", "#", "//", ' +
        '"." or ".." parts',
    );
  }
  const clash = clashOf(path, endpoint);
  if (clash) return value.error(`"${path}" overlaps ${clash}; choose another path`);
  return path;
}

/** Whether one path is the other, or under it (a root endpoint, `/` or `//`, is under none). */
function overlapping(a: string, b: string): boolean {
  const within = (x: string, y: string) => x === y || x.startsWith(`${y}/`);
  return within(a, b) || within(b, a);
}

/** Says what a dashboard path would shadow, or be shadowed by, if anything. */
function clashOf(path: string, endpoint: string): string | undefined {
  if (overlapping(path, endpoint)) return `the REST endpoint "${endpoint}"`;
  const reserved = RESERVED_PATHS.find(([other]) => overlapping(path, other));
  return reserved && `${reserved[1]} at "${reserved[0]}"`;
}
