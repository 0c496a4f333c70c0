/**
 * pvw-launcher: starts one visualization process per user on demand and routes the user's
 * browser to it. This is the composition root: the only place that reads the command line
 * and the environment, installs signal listeners and starts the server.
 *
 * @module
 */

import {
  configure,
  getLogger,
  getTextFormatter,
  jsonLinesFormatter,
  type LogLevel,
  type LogRecord,
  type Sink,
} from "@logtape/logtape";
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import denoConfig from "./deno.json" with { type: "json" };
import {
  ConfigError,
  defaultLogFolder,
  defaultStateFolder,
  formatProblem,
  type LauncherConfig,
  loadConfig,
} from "./lib/config/mod.ts";
import {
  ConnectionGuard,
  createHandler,
  createRoutesHandler,
  DEFAULT_LIMITS,
  FrontDoor,
  hostPort,
  type LaunchObserver,
  launchPath,
  type RequestContext,
  type Route,
  ServerKeeper,
} from "./lib/http/mod.ts";
import {
  COOKIE_NAME,
  dashboardAnnouncement,
  DashboardEvents,
  dashboardRoutes,
  RecentFailures,
  stateReader,
} from "./lib/dashboard/mod.ts";
import {
  createLogTrimmer,
  createProcessSpawner,
  DirectoryFollower,
  Libc,
  MapFile,
  processSocketTable,
  raiseDescriptorLimit,
  ReopenableLogFile,
  type WriteHealth,
} from "./lib/os/mod.ts";
import {
  localPortProbe,
  LogCap,
  PortPool,
  randomToken,
  readState,
  type SavedSession,
  SessionManager,
  StateFile,
} from "./lib/sessions/mod.ts";
import { LauncherMetrics, opsRoutes, redact } from "./lib/ops/mod.ts";
import { SessionProxy } from "./lib/proxy/mod.ts";
import { TrustedProxies } from "./lib/client/mod.ts";

const VERSION: string = denoConfig.version;

const USAGE = `pvw-launcher ${VERSION}: starts a visualization process per user session.

Usage: pvw-launcher CONFIG [options]

  CONFIG               launcher config: the spec format or the wslink format (JSONC)
  --host H             listen on H (overrides the config)
  --port P             listen on port P (overrides the config; 0 picks a free one)
  --check              validate CONFIG, list every problem, and exit (0 = valid)
  --keep-sessions      on SIGTERM/SIGINT leave sessions running for the next launcher
  --log-level L        trace, debug, info, warning, error (default: info)
  --log-format F       text or json (default: text)
  --log-file PATH      write the launcher's log to PATH instead of stderr; SIGHUP re-opens it
  --version            print the version
  --help               print this help
`;

interface Options {
  config?: string;
  host?: string;
  port?: number;
  check: boolean;
  keepSessions: boolean;
  logLevel: LogLevel;
  logFormat: "text" | "json";
  logFile?: string;
  version: boolean;
  help: boolean;
}

const LEVELS: LogLevel[] = ["trace", "debug", "info", "warning", "error", "fatal"];

function parseOptions(args: string[]): Options {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      host: { type: "string" },
      port: { type: "string" },
      check: { type: "boolean", default: false },
      "keep-sessions": { type: "boolean", default: false },
      "log-level": { type: "string", default: "info" },
      "log-format": { type: "string", default: "text" },
      "log-file": { type: "string" },
      version: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (positionals.length > 1) throw new Error(`one CONFIG expected, got ${positionals.length}`);
  const level = values["log-level"] as LogLevel;
  if (!LEVELS.includes(level)) throw new Error(`--log-level must be one of ${LEVELS.join(", ")}`);
  const format = values["log-format"];
  if (format !== "text" && format !== "json") throw new Error("--log-format must be text or json");
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    throw new Error("--port must be a whole number from 0 to 65535");
  }
  return {
    config: positionals[0],
    host: values.host,
    port,
    check: values.check!,
    keepSessions: values["keep-sessions"]!,
    logLevel: level,
    logFormat: format,
    logFile: values["log-file"],
    version: values.version!,
    help: values.help!,
  };
}

/** A sink that writes each record at once, with secret-looking values masked. */
function lineSink(
  target: () => { writeSync(b: Uint8Array): number },
  format: "text" | "json",
): Sink {
  const formatter = format === "json"
    ? jsonLinesFormatter
    : getTextFormatter({ timestamp: "date-time-tz", level: "ABBR", value: "bare" });
  const encoder = new TextEncoder();
  return (record: LogRecord) => {
    const safe = { ...record, properties: redact(record.properties) as Record<string, unknown> };
    const bytes = encoder.encode(formatter(safe));
    const out = target();
    for (let off = 0; off < bytes.length;) off += out.writeSync(bytes.subarray(off));
  };
}

/**
 * Sends the log to stderr, or to `--log-file`, which SIGHUP re-opens (for logrotate).
 *
 * @returns the log file, if there is one
 */
async function setUpLogging(options: Options): Promise<ReopenableLogFile | undefined> {
  const file = options.logFile ? new ReopenableLogFile(options.logFile) : undefined;
  const target = file ?? Deno.stderr;
  await configure({
    sinks: { stderr: lineSink(() => target, options.logFormat) },
    loggers: [
      { category: ["pvw-launcher"], lowestLevel: options.logLevel, sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
  Deno.addSignalListener("SIGHUP", () => {
    if (!file) return;
    try {
      file.reopen();
      getLogger(["pvw-launcher"]).info("SIGHUP: re-opened {file}", { file: file.path });
    } catch (err) {
      getLogger(["pvw-launcher"]).error("SIGHUP: cannot re-open {file}: {error}", {
        file: file.path,
        error: String(err),
      });
    }
  });
  return file;
}

function describe(config: LauncherConfig): string[] {
  const ports = config.resources.reduce((n, r) => n + r.last - r.first + 1, 0);
  const ranges = config.resources.map((r) => `${r.host}:${r.first}-${r.last}`).join(", ");
  return [
    `applications: ${Object.keys(config.apps).join(", ")}`,
    `resources: ${ranges} (${ports} ports)`,
    `capacity: ${Math.min(config.maxSessions, ports)} sessions`,
    `session logs: ${config.logDir}`,
    `map file: ${config.mapFile ?? "none"}`,
  ];
}

/** Reads the previous launcher's state file; a damaged one is set aside and said loudly. */
async function previousSessions(config: LauncherConfig): Promise<SavedSession[]> {
  const log = getLogger(["pvw-launcher"]);
  const { sessions, skipped, damage } = await readState(config.stateFile);
  if (skipped) log.warn("{skipped} malformed entries of the state file were left out", { skipped });
  if (damage) {
    log.error(
      "the state file {file} is damaged ({reason}): it was set aside as {setAside} and kept. " +
        "{recovered} sessions were read from it; {lost} could not be, and a process " +
        "named there, if it still runs, is not managed by this launcher",
      {
        file: config.stateFile,
        ...damage,
        recovered: sessions.length,
        lost: damage.unreadable === 1 ? "1 entry" : `${damage.unreadable} entries`,
      },
    );
  }
  return sessions;
}

function fileHealth(health: WriteHealth): { stale: boolean; failures: number } {
  return { stale: health.failingSince !== undefined, failures: health.failures };
}

/**
 * Raises the soft descriptor limit to the hard one, and sets up the guard that closes
 * connections that send nothing or idle too long (see lib/http/connection_guard.ts).
 */
function guardConnections(config: LauncherConfig, libc: Libc | undefined) {
  const log = getLogger(["pvw-launcher"]);
  if (!libc) {
    log.warn("cannot load the C library: connections are not timed out, the limit not raised");
    return undefined;
  }
  const { before, soft } = raiseDescriptorLimit(libc);
  log.info("descriptor limit: {soft}{raised}", {
    soft,
    raised: soft === before.soft ? "" : ` (raised from ${before.soft})`,
  });
  return new ConnectionGuard({
    table: processSocketTable(libc),
    headerTimeoutMs: config.headerTimeoutMs,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
  });
}

/** Starts a listener that listens again whenever it stops, its requests under the guard. */
/** Says why a listener could not be opened, and what to do. */
function listenProblem(err: unknown): string {
  const { message } = err as Error;
  if (err instanceof Deno.errors.AddrInUse) {
    return `${message}: another program listens there (choose another port with --port)`;
  }
  if (err instanceof Deno.errors.PermissionDenied) {
    return `${message}: ports below 1024 need privileges (use a higher port behind a proxy)`;
  }
  if (err instanceof Deno.errors.AddrNotAvailable) {
    return `${message}: this machine has no such address (check the host, or use --host)`;
  }
  return message;
}

function listen(
  name: string,
  where: { hostname: string; port: number },
  handler: (req: Request, ctx: RequestContext) => Promise<Response>,
  guard: ConnectionGuard | undefined,
): ServerKeeper {
  const keeper = new ServerKeeper({
    serve: Deno.serve,
    name,
    ...where,
    handler: (req, info) => {
      const answer = () => handler(req, { remoteAddr: info.remoteAddr });
      return guard ? guard.serve(info, answer) : answer();
    },
  });
  guard?.watch(keeper.start().port);
  return keeper;
}

/**
 * The dashboard's routes, on a listener of their own when `dashboard_listen` says so (with
 * `/healthz` and `/metrics`), else added to the launcher's. Without an `admin_token` a token
 * is made now, and the log says where to log in with it.
 */
function serveDashboard(
  config: LauncherConfig,
  deps: Omit<Parameters<typeof dashboardRoutes>[0], "config">,
  ops: Route[],
  guard: ConnectionGuard | undefined,
): { routes: Route[]; listener?: ServerKeeper; announce: (port: number) => void } {
  const adminToken = config.adminToken ?? randomToken(32);
  const routes = dashboardRoutes({ ...deps, config: { ...config, adminToken } });
  const own = config.dashboardListen;
  const listener = own &&
    listen(
      "the dashboard",
      {
        hostname: own.hostname ?? config.listen.hostname,
        port: own.port,
      },
      createRoutesHandler([...ops, ...routes]),
      guard,
    );
  const announce = (port: number) => {
    const addr = listener?.addr ?? { hostname: config.listen.hostname, port };
    const lines = dashboardAnnouncement(config, addr, !!listener, adminToken);
    for (const line of lines) getLogger(["pvw-launcher"]).info(line);
  };
  return { routes: listener ? [] : routes, listener, announce };
}

async function serve(config: LauncherConfig): Promise<number> {
  const log = getLogger(["pvw-launcher"]);
  const libc = Libc.open();
  const guard = guardConnections(config, libc);
  // A file that cannot be written (a full disk) is written again until it is true.
  const map = config.mapFile ? new MapFile(config.mapFile, { retry: {} }) : undefined;
  const follower = DirectoryFollower.open(config.logDir, {
    onChange: (name) => logCap.changed(name),
  });
  const logCap: LogCap = new LogCap({
    maxBytes: config.maxLogBytes,
    files: () => sessions.list().map((s) => s.logFile),
    trimmer: createLogTrimmer(libc),
    positions: follower,
  });
  const proxy: SessionProxy = new SessionProxy((id) => sessions.route(id), {
    reservedCookies: [COOKIE_NAME],
    trustedProxies: new TrustedProxies(config.trustedProxies),
  });
  const metrics = new LauncherMetrics();
  const pool = new PortPool(config.resources, localPortProbe());
  const state: StateFile = new StateFile(
    config.stateFile,
    (): Iterable<string> => sessions.savedJson(),
    undefined,
    {},
  );
  const failures = new RecentFailures();
  const events: DashboardEvents = new DashboardEvents(() => dashboardState());
  const sessions: SessionManager = new SessionManager({
    config,
    pool,
    spawner: createProcessSpawner(),
    follower,
    map,
    baseEnv: Deno.env.toObject(),
    onEnded: (session, reason) => {
      proxy.closeSession(session.id);
      metrics.ended(session.application, reason);
      events.changed();
    },
    persist: (durable) => state.save(durable),
  });
  let saved: SavedSession[];
  try {
    saved = await previousSessions(config);
  } catch (err) {
    log.error("cannot read the state file {file}: {error}", {
      file: config.stateFile,
      error: String(err),
    });
    sessions.close();
    follower.close();
    return 1;
  }
  const { adopted, stopped: unfinished, dropped } = await sessions.adopt(saved);
  if (saved.length) log.info("adopted {adopted} sessions, dropped {dropped}", { adopted, dropped });
  if (unfinished) {
    log.warn("stopping {unfinished} sessions that were still starting", { unfinished });
  }
  // A failure is logged and retried by the map file itself; /healthz says so meanwhile.
  if (adopted === 0) await map?.clear().catch(() => {});
  const routes = opsRoutes({
    metrics,
    shuttingDown: () => sessions.closing,
    listener: () => listener.status,
    descriptors: guard && (() => guard.descriptors),
    snapshot: () => ({
      sessions: sessions.list(),
      freePorts: pool.available,
      totalPorts: pool.size,
      maxSessions: config.maxSessions,
      proxy: proxy.stats(),
      files: [
        ...(map ? [{ file: "map", ...fileHealth(map.health) }] : []),
        { file: "state", ...fileHealth(state.health) },
      ],
    }),
  });
  const dashboardState = stateReader({
    sessions,
    ports: pool,
    failures,
    maxSessions: config.maxSessions,
  });
  const observer: LaunchObserver = {
    launched(application, outcome, readySeconds, error) {
      metrics.launched(application, outcome, readySeconds);
      failures.launched(application, outcome, readySeconds, error);
      events.changed();
    },
  };
  const frontDoor = new FrontDoor(config);
  const limits = { ...DEFAULT_LIMITS, bodyTimeoutMs: config.headerTimeoutMs };
  const { promise: stopped, resolve: stop } = Promise.withResolvers<string>();
  let dashboard: ReturnType<typeof serveDashboard> | undefined;
  let listener: ServerKeeper;
  try {
    dashboard = serveDashboard(
      config,
      {
        sessions,
        state: dashboardState,
        events,
        bodyTimeoutMs: config.headerTimeoutMs,
      },
      [...routes],
      guard,
    );
    routes.push(...dashboard.routes);
    const deps = { config, sessions, proxy, observer, routes, frontDoor, limits };
    listener = listen("the launcher", config.listen, createHandler(deps), guard);
  } catch (err) {
    // Nothing was started for a client yet: adopted sessions run on for the next launcher.
    log.error("cannot listen: {error}", { error: listenProblem(err) });
    await dashboard?.listener?.shutdown();
    await sessions.detachAll();
    guard?.close();
    follower.close();
    return 1;
  }
  guard?.start();
  logCap.start();
  log.info(
    `pvw-launcher ${VERSION} listening on http://${hostPort(listener.addr)}${
      launchPath(config.endpoint)
    }`,
  );
  for (const line of describe(config)) log.info(line);
  dashboard.announce(listener.addr.port);
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    log.error("unexpected error: {error}", { error: String(e.reason?.stack ?? e.reason) });
  });
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(signal, () => stop(signal));
  }
  const signal = await stopped;
  guard?.close();
  logCap.close();
  const closing = Promise.all([listener.shutdown(), dashboard.listener?.shutdown()]);
  events.close(); // the dashboards' event streams would hold the shutdown open
  if (config.keepSessions) {
    log.info("{signal}: leaving {count} sessions running for the next launcher", {
      signal,
      count: sessions.size,
    });
    await sessions.detachAll();
  } else {
    log.info("{signal}: stopping {count} sessions", { signal, count: sessions.size });
    await sessions.stopAll();
    await map?.clear().catch((err) => {
      log.error("the map file could not be emptied: {error}", { error: String(err) });
    });
  }
  map?.close();
  state.close();
  // Deno 2.9's server.shutdown() never settles when a client hung up in the middle of a
  // WebSocket upgrade; every session is already stopped, so do not wait forever for it.
  let limit: ReturnType<typeof setTimeout> | undefined;
  const drained = await Promise.race([
    closing.then(() => true),
    new Promise<false>((r) => limit = setTimeout(() => r(false), 5000)),
  ]);
  clearTimeout(limit);
  if (!drained) log.warn("open connections did not close within 5 s; exiting anyway");
  follower.close();
  libc?.close();
  log.info("stopped");
  return 0;
}

/**
 * Runs the launcher with the given command line.
 *
 * @param args the command line, without the program name
 * @returns the exit code
 */
export async function main(args: string[]): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(args);
  } catch (err) {
    console.error(`pvw-launcher: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) return console.log(USAGE), 0;
  if (options.version) return console.log(`pvw-launcher ${VERSION}`), 0;
  if (!options.config) {
    console.error(`pvw-launcher: no CONFIG given\n\n${USAGE}`);
    return 2;
  }
  try {
    await setUpLogging(options);
  } catch (err) {
    console.error(`pvw-launcher: cannot open the log file: ${(err as Error).message}`);
    return 1;
  }
  let config: LauncherConfig;
  try {
    const stateFolder = defaultStateFolder(Deno.env.toObject(), Deno.uid() ?? 0);
    const loaded = await loadConfig(options.config, {
      defaults: { logDir: defaultLogFolder(stateFolder) },
      create: !options.check, // --check changes nothing
    });
    for (const w of loaded.warnings) console.error(formatProblem(w));
    config = loaded.config;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) console.error(formatProblem(p));
    console.error(`pvw-launcher: ${options.config} is not valid`);
    return 1;
  }
  if (options.check) {
    console.log(`${options.config}: valid (${config.format} format)`);
    for (const line of describe(config)) console.log(`  ${line}`);
    if (!existsSync(config.logDir)) console.log(`  (the launcher will make ${config.logDir})`);
    return 0;
  }
  // Under `deno run`, `$deno` names the Deno running the launcher (the demo app needs it);
  // the compiled binary has none to offer. The config's own properties win.
  if (!Deno.build.standalone) config.properties = { deno: Deno.execPath(), ...config.properties };
  config.keepSessions ||= options.keepSessions;
  config.listen.hostname = options.host ?? config.listen.hostname;
  config.listen.port = options.port ?? config.listen.port;
  return await serve(config);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
