/**
 * pvw-launcher: starts one visualization process per user on demand and routes the user's
 * browser to it. This is the composition root: the only place that reads the command line
 * and the environment, installs signal listeners and starts the server. It builds the
 * launcher's objects in the order each needs the others; an object that must hear of
 * another's events subscribes once both exist.
 *
 * @module
 */

import { basename } from "node:path";
import {
  configure,
  getLogger,
  getTextFormatter,
  jsonLinesFormatter,
  type LogRecord,
  type Sink,
} from "@logtape/logtape";
import { existsSync } from "node:fs";
import denoConfig from "./deno.json" with { type: "json" };
import { type Options, parseOptions, usage } from "./lib/cli/mod.ts";
import { TrustedProxies } from "./lib/client/mod.ts";
import {
  type ClusterSettings,
  JobPoller,
  NodeHosts,
  ProcessRunner,
  SlurmBatchSystem,
} from "./lib/cluster/mod.ts";
import {
  ConfigError,
  defaultLogFolder,
  defaultStateFolder,
  describeConfig,
  formatProblem,
  type LauncherConfig,
  loadConfig,
} from "./lib/config/mod.ts";
import {
  COOKIE_NAME,
  dashboardAnnouncement,
  DashboardEvents,
  dashboardRoutes,
  RecentFailures,
  stateReader,
} from "./lib/dashboard/mod.ts";
import {
  ConnectionGuard,
  createHandler,
  createRoutesHandler,
  DEFAULT_LIMITS,
  FrontDoor,
  hostPort,
  type LaunchObserver,
  type RequestContext,
  ServerKeeper,
  startRedirectListener,
  TlsListener,
} from "./lib/http/mod.ts";
import { LauncherMetrics, opsRoutes, redact } from "./lib/ops/mod.ts";
import {
  createLogTrimmer,
  createProcessSpawner,
  currentUid,
  DirectoryFollower,
  findLogWriterGroups,
  Libc,
  listenProblem,
  localPortProbe,
  MapFile,
  prepareLog,
  processSocketTable,
  raiseDescriptorLimit,
  ReopenableLogFile,
  type WriteHealth,
} from "./lib/os/mod.ts";
import { SessionProxy } from "./lib/proxy/mod.ts";
import {
  type ClusterParts,
  createPool,
  LogCap,
  PortPool,
  randomToken,
  resumeSessions,
  SessionManager,
  SessionTable,
  StateFile,
  type StrayDeps,
} from "./lib/sessions/mod.ts";
import {
  CertificateReloader,
  describeCertificate,
  type LoadedPair,
  TlsPairError,
} from "./lib/tls/mod.ts";

const VERSION: string = denoConfig.version;
const USAGE = usage(VERSION);

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

/** A listener, plain or behind TLS. */
type Listener = ServerKeeper | TlsListener;

/**
 * A listener that is not listening yet: its status can be read before it starts. With a
 * certificate it serves HTTPS only, and gets the certificate's reloads.
 */
function listener(
  name: string,
  where: { hostname: string; port: number },
  tls?: { reloader: CertificateReloader; handshakeTimeoutMs: number },
): Listener {
  if (!tls) return new ServerKeeper({ serve: Deno.serve, name, ...where });
  const secure = new TlsListener({
    serve: Deno.serve,
    name,
    ...where,
    pair: tls.reloader.pair,
    handshakeTimeoutMs: tls.handshakeTimeoutMs,
  });
  tls.reloader.serve(secure);
  return secure;
}

/** Starts a listener (one that listens again whenever it stops), its requests under the guard. */
async function startListening(
  keeper: Listener,
  handler: (req: Request, ctx: RequestContext) => Promise<Response>,
  guard: ConnectionGuard | undefined,
): Promise<void> {
  if (keeper instanceof TlsListener) {
    await keeper.start(handler, guard);
    return;
  }
  const addr = keeper.start((req, info) => {
    const answer = () => handler(req, { remoteAddr: info.remoteAddr });
    return guard ? guard.serve(info, answer) : answer();
  });
  guard?.watch(addr.port);
}

/**
 * The batch system of the `cluster` key: Slurm's commands (with only `SLURM_CONF` in their
 * environment), one poller for every job, the nodes' hosts, and the cluster's ports (the same
 * on every node, so their host is left empty).
 */
function buildCluster(settings: ClusterSettings): ClusterParts {
  const runner = new ProcessRunner({
    ...(settings.bin === undefined ? {} : { binDir: settings.bin }),
    env: settings.slurmConf === undefined ? {} : { SLURM_CONF: settings.slurmConf },
    timeoutMs: settings.commandTimeoutMs,
  });
  const system = new SlurmBatchSystem(runner);
  const log = getLogger(["pvw-launcher", "cluster"]);
  const poller = new JobPoller(system, {
    intervalMs: settings.pollIntervalMs,
    onError: (error, retryInMs) => {
      log.warn("cannot learn the jobs' states from Slurm: {error}; next try in {seconds} s", {
        error: error.message,
        seconds: retryInMs / 1000,
      });
    },
  });
  const hosts = new NodeHosts(settings.nodeHosts, (node) => system.nodeAddress(node));
  const range = settings.portRange;
  const pool = new PortPool(range ? [{ host: "", first: range.first, last: range.last }] : []);
  const prepare = (path: string) => prepareLog(path, 0o600);
  return { system, poller, hosts, pool, settings, prepareLog: prepare };
}

/** The session table and what it stands on, each made after what it needs. */
function buildSessions(config: LauncherConfig, libc: Libc | undefined) {
  // A file that cannot be written (a full disk) is written again until it is true.
  const map = config.mapFile ? new MapFile(config.mapFile, { retry: {} }) : undefined;
  const follower = DirectoryFollower.open(config.logDir);
  const table = new SessionTable();
  const stateFile = new StateFile(config.stateFile, () => table.savedJson(), undefined, {});
  const spawner = createProcessSpawner();
  const local = createPool(config.resources, config.placement, localPortProbe());
  const cluster = config.cluster && buildCluster(config.cluster);
  // What the dashboard and the metrics count: the local ports and the cluster's.
  const pool = {
    get available() {
      return local.available + (cluster?.pool.available ?? 0);
    },
    get size() {
      return local.size + (cluster?.pool.size ?? 0);
    },
  };
  const sessions = new SessionManager({
    config,
    table,
    pool: local,
    ...(cluster ? { cluster } : {}),
    spawner,
    follower,
    map,
    baseEnv: Deno.env.toObject(),
    persist: (durable) => stateFile.save(durable),
  });
  const logCap = new LogCap({
    maxBytes: config.maxLogBytes,
    // Warm processes write logs too, while they wait.
    files: () => table.records().map((s) => s.logFile),
    trimmer: createLogTrimmer(libc),
    positions: follower,
    writtenElsewhere: (path) => table.find(basename(path, ".log"))?.batch === true,
  });
  // Sessions no state entry names (a crash in the middle of launches, a damaged state file)
  // are found by the log their processes write to.
  const strays: StrayDeps = {
    find: (exclude) => findLogWriterGroups(config.logDir, exclude),
    spawner,
    times: { graceMs: config.stopGraceMs, killWaitMs: 5000 },
  };
  return { map, follower, stateFile, pool, sessions, logCap, strays };
}

type Core = ReturnType<typeof buildSessions>;

/** What watches and reports on the sessions: the proxy, the metrics, the dashboard's state. */
function buildObservers(config: LauncherConfig, core: Core) {
  const { sessions, pool } = core;
  const proxy = new SessionProxy((id) => sessions.route(id), {
    reservedCookies: [COOKIE_NAME],
    trustedProxies: new TrustedProxies(config.trustedProxies),
  });
  const metrics = new LauncherMetrics();
  const failures = new RecentFailures();
  const dashboardState = stateReader({
    sessions,
    ports: pool,
    failures,
    maxSessions: config.maxSessions,
  });
  const events = new DashboardEvents(dashboardState);
  sessions.onEnded((session, reason) => {
    proxy.closeSession(session.id);
    metrics.ended(session.application, reason);
    if (reason === "job_ended" && session.job) {
      const { id, node, reason: how } = session.job;
      failures.jobEnded(session.application, `job ${id}${node ? ` on ${node}` : ""} ${how}`);
    }
    events.changed();
  });
  const observer: LaunchObserver = {
    launched(application, outcome, readySeconds, error) {
      metrics.launched(application, outcome, readySeconds);
      failures.launched(application, outcome, readySeconds, error);
      events.changed();
    },
  };
  return { proxy, metrics, dashboardState, events, observer };
}

type Observers = ReturnType<typeof buildObservers>;

/** `/metrics` and `/healthz`, which read the launcher's listener, and the dashboard's routes. */
function buildRoutes(
  config: LauncherConfig,
  parts: Core & Observers & {
    guard?: ConnectionGuard;
    launcher: Listener;
    tls?: CertificateReloader;
  },
) {
  const { sessions, pool, map, stateFile, proxy, metrics, guard, launcher, tls } = parts;
  const ops = opsRoutes({
    metrics,
    shuttingDown: () => sessions.closing,
    listener: () => launcher.status,
    descriptors: guard && (() => guard.descriptors),
    snapshot: () => ({
      sessions: sessions.list(),
      freePorts: pool.available,
      totalPorts: pool.size,
      maxSessions: config.maxSessions,
      proxy: proxy.stats(),
      files: [
        ...(map ? [{ file: "map", ...fileHealth(map.health) }] : []),
        { file: "state", ...fileHealth(stateFile.health) },
      ],
      warm: sessions.warmCounts(),
      ...(tls ? { tls: tls.state() } : {}),
    }),
  });
  // Without an admin_token a token is made now, and the log says where to log in with it.
  const adminToken = config.adminToken ?? randomToken(32);
  const dashboard = dashboardRoutes({
    config: { ...config, adminToken },
    sessions,
    state: parts.dashboardState,
    events: parts.events,
    bodyTimeoutMs: config.headerTimeoutMs,
  });
  return { ops, dashboard, adminToken };
}

/** The launcher, serving: what {@linkcode shutDown} stops. */
interface Running {
  libc: Libc | undefined;
  guard: ConnectionGuard | undefined;
  core: Core;
  events: DashboardEvents;
  listeners: Listener[];
  tls?: CertificateReloader;
}

/** What {@linkcode startServing} started. */
interface Served {
  launcher: Listener;
  dashboard?: Listener;
  redirect?: ServerKeeper;
  adminToken: string;
}

/**
 * Starts serving: the dashboard's own listener (with `dashboard_listen`), then the
 * launcher's, which serves the REST API, the proxy, `/metrics`, `/healthz`, the dashboard
 * (without a listener of its own) and the content; with a certificate both serve HTTPS only,
 * and `redirect_http` adds a plain listener that redirects to the launcher's.
 *
 * @returns the listeners started
 * @throws what listening throws; the listeners started are shut down first
 */
async function startServing(
  config: LauncherConfig,
  parts: Core & Observers & { guard?: ConnectionGuard; tls?: CertificateReloader },
): Promise<Served> {
  const { guard } = parts;
  const tls = parts.tls && { reloader: parts.tls, handshakeTimeoutMs: config.headerTimeoutMs };
  const launcher = listener("the launcher", config.listen, tls);
  const own = config.dashboardListen;
  const dashboard = own
    ? listener("the dashboard", {
      hostname: own.hostname ?? config.listen.hostname,
      port: own.port,
    }, tls)
    : undefined;
  const routes = buildRoutes(config, { ...parts, launcher });
  let redirect: ServerKeeper | undefined;
  try {
    if (dashboard) {
      await startListening(
        dashboard,
        createRoutesHandler([...routes.ops, ...routes.dashboard]),
        guard,
      );
    }
    const handler = createHandler({
      config,
      sessions: parts.sessions,
      proxy: parts.proxy,
      observer: parts.observer,
      routes: [...routes.ops, ...(dashboard ? [] : routes.dashboard)],
      frontDoor: new FrontDoor(config),
      limits: { ...DEFAULT_LIMITS, bodyTimeoutMs: config.headerTimeoutMs },
      cut: guard && ((peer) => guard.cut(peer)),
    });
    await startListening(launcher, handler, guard);
    const where = config.redirectHttp;
    redirect = where && startRedirectListener({
      serve: Deno.serve,
      hostname: where.hostname ?? config.listen.hostname,
      port: where.port,
      httpsPort: launcher.addr.port,
    }, guard);
  } catch (err) {
    await dashboard?.shutdown();
    await launcher.shutdown();
    throw err;
  }
  return { launcher, dashboard, redirect, adminToken: routes.adminToken };
}

/** What the log says once the launcher listens. */
function announce(config: LauncherConfig, served: Served): void {
  const log = getLogger(["pvw-launcher"]);
  const { launcher, dashboard, redirect, adminToken } = served;
  const scheme = launcher instanceof TlsListener ? "https" : "http";
  const where = `${scheme}://${hostPort(launcher.addr)}${config.endpoint}`;
  log.info(`pvw-launcher ${VERSION} listening on ${where}`);
  if (redirect) log.info(`redirecting http://${hostPort(redirect.addr)}/ to https`);
  if (launcher instanceof TlsListener) {
    const address = hostPort(launcher.internalAddr);
    log.debug("the launcher behind TLS: internal listener on {address}", { address });
  }
  for (const line of describeConfig(config)) log.info(line);
  const addr = dashboard?.addr ?? { hostname: config.listen.hostname, port: launcher.addr.port };
  for (const line of dashboardAnnouncement(config, addr, !!dashboard, adminToken, scheme)) {
    log.info(line);
  }
}

/**
 * Stops serving, and stops the sessions or leaves them for the next launcher
 * (`keep_sessions`).
 */
async function shutDown(config: LauncherConfig, signal: string, running: Running): Promise<void> {
  const log = getLogger(["pvw-launcher"]);
  const { sessions, map, stateFile, follower, logCap } = running.core;
  running.guard?.close();
  running.tls?.close();
  logCap.close();
  const closing = Promise.all(running.listeners.map((l) => l.shutdown()));
  running.events.close(); // the dashboards' event streams would hold the shutdown open
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
  stateFile.close();
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
  running.libc?.close();
}

/** Runs the launcher on a loaded config until SIGTERM or SIGINT. */
async function serve(config: LauncherConfig, pair: LoadedPair | undefined): Promise<number> {
  const log = getLogger(["pvw-launcher"]);
  const libc = Libc.open();
  const guard = guardConnections(config, libc);
  const core = buildSessions(config, libc);
  const files = { stateFile: config.stateFile, map: core.map };
  if (!await resumeSessions(core.sessions, files, core.strays)) {
    await core.sessions.close();
    core.follower.close();
    return 1;
  }
  const observers = buildObservers(config, core);
  let served;
  let tls;
  try {
    tls = pair && new CertificateReloader(pair);
    served = await startServing(config, { ...core, ...observers, guard, tls });
  } catch (err) {
    // Nothing was started for a client yet: adopted sessions run on for the next launcher.
    if (err instanceof TlsPairError) {
      log.error("cannot serve the TLS certificate: {error}", { error: err.message });
    } else log.error("cannot listen: {error}", { error: listenProblem(err) });
    await core.sessions.detachAll();
    guard?.close();
    core.follower.close();
    return 1;
  }
  guard?.start();
  core.logCap.start();
  core.sessions.warmUp(); // once listening: a launcher that cannot listen starts nothing
  announce(config, served);
  if (tls) {
    tls.start();
    // Next to the log file's re-opening (setUpLogging): certbot's deploy hook sends one SIGHUP.
    Deno.addSignalListener("SIGHUP", () => void tls.reload());
  }
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    log.error("unexpected error: {error}", { error: String(e.reason?.stack ?? e.reason) });
  });
  const { promise: stopped, resolve: stop } = Promise.withResolvers<string>();
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(signal, () => stop(signal));
  }
  const listeners = [served.launcher, served.dashboard, served.redirect]
    .filter((l) => l !== undefined);
  const running = { libc, guard, core, events: observers.events, listeners, tls };
  await shutDown(config, await stopped, running);
  log.info("stopped");
  return 0;
}

/** Reads the config, and says what is wrong with it; undefined when it is not valid. */
async function readConfig(options: Options & { config: string }) {
  try {
    const stateFolder = defaultStateFolder(Deno.env.toObject(), currentUid());
    const loaded = await loadConfig(options.config, {
      defaults: { logDir: defaultLogFolder(stateFolder) },
      create: !options.check, // --check changes nothing
    });
    for (const w of loaded.warnings) console.error(formatProblem(w));
    return loaded;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) console.error(formatProblem(p));
    console.error(`pvw-launcher: ${options.config} is not valid`);
    return undefined;
  }
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
  const loaded = await readConfig({ ...options, config: options.config });
  if (!loaded) return 1;
  const { config, certificate, pair } = loaded;
  if (options.check) {
    console.log(`${options.config}: valid (${config.format} format)`);
    for (const line of describeConfig(config)) console.log(`  ${line}`);
    for (const line of certificate ? describeCertificate(certificate, new Date()) : []) {
      console.log(`  ${line}`);
    }
    if (!existsSync(config.logDir)) console.log(`  (the launcher will make ${config.logDir})`);
    return 0;
  }
  // Under `deno run`, `$deno` names the Deno running the launcher (the demo app needs it);
  // the compiled binary has none to offer. The config's own properties win.
  if (!Deno.build.standalone) config.properties = { deno: Deno.execPath(), ...config.properties };
  config.keepSessions ||= options.keepSessions;
  config.listen.hostname = options.host ?? config.listen.hostname;
  config.listen.port = options.port ?? config.listen.port;
  // The config itself is checked for this; --port comes after it.
  if (options.port && options.port === config.dashboardListen?.port) {
    console.error(
      `pvw-launcher: --port ${options.port} is the dashboard's (dashboard_listen): the ` +
        "launcher needs a port of its own\n\n" + USAGE,
    );
    return 2;
  }
  return await serve(config, pair);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
