/**
 * The sections both config formats share: `resources` (port ranges per host), the
 * applications (`applications` or `apps`) and the session cap that depends on the ports.
 *
 * @module
 */

import { type AppConfig, ASSIGNED_NAMES, type ResourceRange } from "./types.ts";
import type { Fields, Value } from "./reader.ts";
import type { ClusterSettings } from "../cluster/mod.ts";
import { APP_SCHEDULING_KEYS, readAppScheduling } from "./scheduling.ts";
import { compileTemplate } from "./template.ts";
import {
  DEFAULTS,
  defineOwn,
  readNonEmpty,
  readPath,
  readProperties,
  readReadyLines,
  readSeconds,
  readStringMap,
  readTemplate,
  withoutUndefined,
} from "./values.ts";

const RESOURCE_KEYS = ["host", "port", "port_range"] as const;
const APP_KEYS = [
  "cmd",
  "dir",
  "env",
  "timeout",
  "wait_line",
  "ready_line",
  "idle_timeout",
  "max_lifetime",
  "ws_path",
  "warm",
  ...APP_SCHEDULING_KEYS,
];

/** What an application takes from the global settings when it sets nothing itself. */
export interface AppDefaults {
  /** Ready lines of the config. */
  readyLines: readonly string[];
  /** Ready timeout of the config, in milliseconds. */
  timeoutMs: number;
  /** Idle timeout of the config, in milliseconds; undefined: never. */
  idleTimeoutMs?: number;
  /** Lifetime limit of the config, in milliseconds; undefined: none. */
  maxLifetimeMs?: number;
  /** Absolute folder of the config file, for a relative `dir`. */
  baseDir: string;
  /**
   * When set, a cmd variable that neither the launcher nor these names provide gets a warning:
   * the wslink format passes it on as written unless the client sends it.
   */
  provided?: ReadonlySet<string>;
  /** What the launcher and the properties give values to (a warm app's cmd may use only these). */
  known?: ReadonlySet<string>;
  /**
   * The config's `cluster` settings, which applications that run as jobs need: `null` when
   * the config has none, undefined when it has invalid ones (already reported).
   */
  cluster?: ClusterSettings | null;
}

/** The sections that both formats read the same way. */
export interface SharedSections {
  /** Port ranges. */
  resources: ResourceRange[];
  /** Session cap. */
  maxSessions: number;
  /** Applications by name. */
  apps: Record<string, AppConfig>;
  /** Admin-defined template values. */
  properties: Record<string, string>;
}

/** How a format names the shared sections. */
export interface SharedKeys {
  /** Key of the applications object. */
  apps: "applications" | "apps";
  /** Preferred key of a resource's port range. */
  port: "port" | "port_range";
  /** The `max_session` value, wherever the format keeps it. */
  maxSession?: Value;
  /** Warn of cmd variables nothing in the config provides (the wslink format keeps them). */
  warnUnprovided?: boolean;
  /**
   * Ports of the cluster's range, for sessions that run as jobs: with some, `resources` may
   * be left out when every application runs as a job.
   */
  clusterPorts?: number;
}

/**
 * Reads `resources`, the applications, `properties` and the session cap.
 *
 * @param top the top-level object
 * @param keys how the format names them
 * @param defaults what an application takes from the global settings
 * @returns the sections, with errors recorded for what is invalid
 */
export function readSharedSections(
  top: Fields,
  keys: SharedKeys,
  defaults: AppDefaults,
): SharedSections {
  const clusterPorts = keys.clusterPorts ?? 0;
  const resourcesValue = clusterPorts > 0 ? top.get("resources") : top.require("resources");
  const resources = resourcesValue ? readResources(resourcesValue, keys.port) : [];
  const appsValue = top.require(keys.apps);
  const properties = top.read("properties", readProperties) ?? {};
  const known = new Set([...ASSIGNED_NAMES, ...Object.keys(properties)]);
  const provided = keys.warnUnprovided ? known : undefined;
  const maxSessions = readMaxSessions(keys.maxSession, portCount(resources) + clusterPorts);
  const apps = appsValue ? readApps(appsValue, { ...defaults, provided, known }) : {};
  if (!resourcesValue && clusterPorts > 0) requireLocalPorts(apps, appsValue);
  const warm = Object.values(apps).reduce((n, app) => n + app.warm, 0);
  if (appsValue && warm > maxSessions) {
    appsValue.warn(
      `the applications ask for ${warm} warm processes, more than the ${maxSessions} sessions ` +
        `that can run: fewer wait, and cold starts take their places`,
    );
  }
  return { resources, maxSessions, apps, properties };
}

/** Without `resources`, every application must run as a job: a local one has no port. */
function requireLocalPorts(apps: Record<string, AppConfig>, appsValue: Value | undefined): void {
  const local = Object.values(apps).filter((app) => !app.slurm).map((app) => app.name);
  if (local.length === 0) return;
  appsValue?.atKey(
    "error",
    `${local.map((n) => `"${n}"`).join(", ")} run${local.length === 1 ? "s" : ""} on this ` +
      'machine and need ports: add "resources", such as [{"host": "localhost", "port": ' +
      "[9001, 9100]}]",
  );
}

/**
 * Reads `resources`: a non-empty list of `{host, port: [first, last]}`, where the port key
 * may also be spelt `port_range`. Ranges on the same host must not overlap.
 *
 * @param value the `resources` value
 * @param portKey the key named when a resource has no ports: `port` or `port_range`
 * @returns the ranges that are valid (errors are recorded for the others)
 */
function readResources(value: Value, portKey: "port" | "port_range"): ResourceRange[] {
  const items = value.list();
  if (!items) return [];
  if (items.length === 0) {
    value.error(
      `expected at least one resource, such as {"host": "localhost", "${portKey}": [9001, 9100]}`,
    );
    return [];
  }
  const read = items.map((item) => readResource(item, portKey)).filter((r) => r !== undefined);
  reportOverlaps(read);
  return read.map(({ range }) => range);
}

/**
 * Counts the ports of all ranges: the most sessions that can ever run at once.
 *
 * @param resources the port ranges
 * @returns the number of ports
 */
export function portCount(resources: readonly ResourceRange[]): number {
  return resources.reduce((sum, { first, last }) => sum + last - first + 1, 0);
}

/**
 * Reads `max_session`: an integer of at least 1. More than the ports available is only a
 * warning, and the cap becomes the port count.
 *
 * @param value the `max_session` value, if given
 * @param capacity the number of ports, see {@linkcode portCount}
 * @returns the session cap: the value given, or `capacity` when it is absent or too large
 */
function readMaxSessions(value: Value | undefined, capacity: number): number {
  const n = value?.integer();
  if (value === undefined || n === undefined) return capacity;
  if (n < 1) {
    value.error(`expected at least 1 session, found ${n}`);
  } else if (n > capacity && capacity > 0) {
    value.warn(
      `${n} sessions need more ports than "resources" has (${capacity}); at most ${capacity} can run`,
    );
  } else {
    return n;
  }
  return capacity;
}

/**
 * Reads the applications: an object of `{cmd, dir, env, timeout, wait_line or ready_line,
 * idle_timeout, max_lifetime, ws_path, warm}` by name. An empty one is only a warning (the trame
 * image's base config has `"apps": {}` until its apps are merged in).
 *
 * @param value the `applications` or `apps` value
 * @param defaults what an application takes from the global settings
 * @returns the valid applications by name (errors are recorded for the others)
 */
function readApps(value: Value, defaults: AppDefaults): Record<string, AppConfig> {
  const members = value.entries();
  const apps: Record<string, AppConfig> = {};
  if (!members) return apps;
  if (members.size === 0) {
    value.warn("no applications: every launch request will be refused until some are added");
  }
  for (const [name, member] of members) {
    if (name.trim() === "") member.atKey("error", "an application name must not be empty");
    const app = readApp(name, member, defaults);
    if (app && name.trim() !== "") defineOwn(apps, name, app);
  }
  return apps;
}

type ReadResource = { range: ResourceRange; ports: Value };

function readResource(item: Value, portKey: "port" | "port_range"): ReadResource | undefined {
  const fields = item.fields(RESOURCE_KEYS);
  if (!fields) return undefined;
  const hostValue = fields.require("host");
  const host = hostValue && readNonEmpty(hostValue);
  const keys = portKey === "port" ? ["port", "port_range"] : ["port_range", "port"];
  const ports = fields.oneOf(keys, true);
  const range = ports && readPortRange(ports);
  if (host === undefined || !ports || !range) return undefined;
  return { range: { host, first: range[0], last: range[1] }, ports };
}

function readPortRange(value: Value): [number, number] | undefined {
  if (value.node.type !== "array") return value.expected("a port range [first, last]");
  const items = value.list() ?? [];
  if (items.length !== 2) {
    return value.error(`expected a port range [first, last], found a list of ${items.length}`);
  }
  const [first, last] = items.map(readPort);
  if (first === undefined || last === undefined) return undefined;
  if (first > last) {
    return value.error(`empty port range: the first port ${first} is after the last ${last}`);
  }
  return [first, last];
}

function readPort(value: Value): number | undefined {
  const port = value.integer();
  if (port === undefined) return undefined;
  if (port < 1 || port > 65535) return value.error(`expected a port in 1..65535, found ${port}`);
  return port;
}

function reportOverlaps(read: ReadResource[]): void {
  const show = ({ first, last }: ResourceRange) => `${first}-${last}`;
  read.forEach((b, j) => {
    const host = b.range.host.toLowerCase();
    const a = read.slice(0, j).find(({ range }) =>
      range.host.toLowerCase() === host && range.first <= b.range.last &&
      b.range.first <= range.last
    );
    if (!a) return;
    b.ports.error(
      `ports ${show(b.range)} on host "${b.range.host}" overlap ${a.ports.path} ` +
        `(${show(a.range)}); each port may be in one range only`,
    );
  });
}

function readApp(name: string, value: Value, defaults: AppDefaults): AppConfig | undefined {
  const fields = value.fields(APP_KEYS);
  if (!fields) return undefined;
  const cmdValue = fields.require("cmd");
  const cmd = cmdValue && readCommand(cmdValue, name, defaults.provided);
  const dir = fields.read("dir", (v) => readPath(v, defaults.baseDir));
  const env = fields.read("env", readEnv) ?? {};
  const timeoutMs = fields.read("timeout", readSeconds) ?? defaults.timeoutMs;
  const readyValue = fields.oneOf(["wait_line", "ready_line"]);
  const readyLines = readyValue && readReadyLines(readyValue);
  const idleTimeoutMs = fields.read("idle_timeout", readSeconds) ?? defaults.idleTimeoutMs;
  const maxLifetimeMs = fields.read("max_lifetime", readSeconds) ?? defaults.maxLifetimeMs;
  const wsPath = fields.read("ws_path", readUrlPath) ?? DEFAULTS.wsPath;
  const warm = fields.read("warm", (v) => readWarm(v, cmd, defaults.known)) ?? 0;
  const scheduling = readAppScheduling(fields, defaults.cluster);
  if (scheduling.slurm && warm > 0) {
    fields.get("warm")!.error(
      "an application that runs as a Slurm job keeps no warm processes: a job would hold the " +
        "cluster's resources while it waits",
    );
  }
  if (!cmd) return undefined;
  return withoutUndefined({
    name,
    cmd,
    dir,
    env,
    readyLines: readyLines ?? [...defaults.readyLines],
    timeoutMs,
    wsPath,
    warm,
    idleTimeoutMs,
    maxLifetimeMs,
    ...scheduling,
  });
}

/**
 * Reads `warm`: how many started processes of the app wait for clients. A warm process is
 * started before any client asks, so its cmd may use only what the launcher and the
 * properties give.
 */
function readWarm(
  value: Value,
  cmd: string[] | undefined,
  known: ReadonlySet<string> | undefined,
): number | undefined {
  const n = value.integer();
  if (n === undefined) return undefined;
  if (n < 0) return value.error(`expected a number of processes, 0 or more, found ${n}`);
  const used = new Set((cmd ?? []).flatMap((arg) => compileTemplate(arg).variables));
  const clientKey = [...used].find((name) => known && !known.has(name));
  if (n > 0 && clientKey !== undefined) {
    return value.error(
      `a warm process starts before any client asks, but the cmd uses "${clientKey}", which ` +
        `no property gives (only a client could): remove "warm" or make "${clientKey}" a property`,
    );
  }
  return n;
}

function readUrlPath(value: Value): string | undefined {
  const text = value.string();
  if (text === undefined) return undefined;
  if (!/^\/[^\s?#]*$/.test(text)) {
    return value.error(`expected a path such as "/ws", found ${JSON.stringify(text)}`);
  }
  return text;
}

function readCommand(
  value: Value,
  app: string,
  provided: ReadonlySet<string> | undefined,
): string[] | undefined {
  if (value.node.type === "string") {
    return value.error(
      `expected a list of arguments such as ["${String(value.node.value).split(" ")[0]}", ...], ` +
        "found a string; the command is never run by a shell",
    );
  }
  const items = value.list();
  if (!items) return undefined;
  if (items.length === 0) return value.error("expected at least the program to run, found []");
  const argv = items.map(readTemplate);
  if (argv[0] === "") return items[0].error("expected the program to run, found an empty string");
  if (provided) items.forEach((item, i) => warnUnprovided(item, argv[i], app, provided));
  return argv.every((arg) => arg !== undefined) ? argv as string[] : undefined;
}

function warnUnprovided(
  item: Value,
  text: string | undefined,
  app: string,
  provided: ReadonlySet<string>,
): void {
  if (text === undefined) return;
  for (const name of compileTemplate(text).variables) {
    if (provided.has(name)) continue;
    item.warn(
      `no property gives "${name}" a value: unless the client sends "${name}", ` +
        `application "${app}" gets "${text}" as written`,
    );
  }
}

function readEnv(value: Value): Record<string, string> | undefined {
  return readStringMap(value, (member) => {
    const name = member.key;
    if (name === "" || name.includes("=") || name.includes("\0")) {
      member.atKey("error", `"${name}" cannot be an environment variable name`);
      return undefined;
    }
    return member.string();
  });
}
