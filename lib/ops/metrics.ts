/**
 * The launcher's Prometheus metrics.
 *
 * Counters and the time-to-ready histogram are fed by events as they happen (a launch request
 * ends, a session stops). Facts about the present (sessions by state, free ports, proxy
 * connections and byte totals) are read from a {@linkcode MetricsSnapshot} that the caller
 * takes at scrape time, so they can never drift from the session table and the proxy.
 *
 * @example
 * ```ts
 * import { LauncherMetrics } from "./metrics.ts";
 *
 * const metrics = new LauncherMetrics();
 * metrics.launched("visualizer", "ready", 1.8);
 * metrics.ended("visualizer", "idle");
 * const text = metrics.render({
 *   sessions: [],
 *   freePorts: 100,
 *   totalPorts: 100,
 *   maxSessions: 100,
 *   proxy: { connections: 0, bytesToSessions: 0, bytesFromSessions: 0 },
 * });
 * ```
 *
 * @module
 */

import type { LaunchObserver, LaunchOutcome } from "../http/mod.ts";
import { residentMemory } from "../os/mod.ts";
import { Counter, Gauge, Histogram, Registry } from "./prometheus.ts";

/** The live state that the metrics read at scrape time. */
export interface MetricsSnapshot {
  /** Every session in the table, whatever its state, with its batch job if it runs as one. */
  sessions: {
    application: string;
    state: string;
    job?: { phase: string; partition?: string; node?: string };
  }[];
  /** Ports no session holds. */
  freePorts: number;
  /** Ports in the configured resource ranges. */
  totalPorts: number;
  /** The most sessions that may run at once. */
  maxSessions: number;
  /** The built-in proxy. */
  proxy: {
    /** Connections open now. */
    connections: number;
    /** Bytes sent to sessions since the launcher started. */
    bytesToSessions: number;
    /** Bytes received from sessions since the launcher started. */
    bytesFromSessions: number;
  };
  /** The files the launcher keeps (the map file, the state file), if any. */
  files?: KeptFileHealth[];
  /** The warm pools of the applications that keep processes waiting, if any. */
  warm?: WarmPoolHealth[];
  /** The TLS certificate served, when the launcher serves HTTPS itself. */
  tls?: TlsCertificateState;
}

/** What one application's warm pool holds, and how often it served. */
export interface WarmPoolHealth {
  /** The application. */
  application: string;
  /** Processes waiting to be handed out. */
  waiting: number;
  /** Processes starting, to wait. */
  starting: number;
  /** POSTs that got a waiting process. */
  hits: number;
  /** POSTs that found none waiting (or sent their own secret) and started cold. */
  misses: number;
}

/** The TLS certificate in service, and its reloads. */
export interface TlsCertificateState {
  /** The certificate's file: the gauge's label, the same across renewals. */
  file: string;
  /** Its end of validity, in seconds since the epoch. */
  notAfterSeconds: number;
  /** Pairs put in service by a reload (SIGHUP). */
  reloads: number;
  /** Reloads refused: the pair in service stayed. */
  refused: number;
}

/** Whether a file the launcher keeps is as it should be. */
export interface KeptFileHealth {
  /** Which: `map` or `state`. */
  file: string;
  /** True while the file cannot be written and is behind the sessions (retries go on). */
  stale: boolean;
  /** Writes that failed since the launcher started. */
  failures: number;
}

/** What the launcher reports to, and what `GET /metrics` writes out. */
export interface Metrics extends LaunchObserver {
  /**
   * A session ended.
   *
   * @param application its application
   * @param reason why: "deleted", "exited", "idle", "lifetime", "shutdown", ...
   */
  ended(application: string, reason: string): void;
  /**
   * Writes every metric in the Prometheus text format.
   *
   * @param snapshot the live state now
   * @returns the exposition text
   */
  render(snapshot: MetricsSnapshot): string;
}

/** Where the process metrics come from, replaceable in tests. */
export interface LauncherMetricsOptions {
  /** Milliseconds since the epoch; read once, at construction, as the start time. @default Date.now */
  clock?: () => number;
  /** The process's resident set size in bytes. @default the process's own */
  residentMemory?: () => number;
}

/**
 * Upper bounds of the time-to-ready buckets in seconds: from a fake app's few milliseconds to
 * a ParaView server loading a large state file within a minute.
 */
export const READY_BUCKETS: readonly number[] = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
];

/** The launcher's metrics, fed by the HTTP layer and the session table. */
export class LauncherMetrics implements Metrics {
  readonly #registry = new Registry();
  readonly #residentMemory: () => number;
  readonly #up = this.#gauge("pvw_launcher_up", "1 while the launcher answers.");
  readonly #sessions = this.#gauge(
    "pvw_launcher_sessions",
    "Sessions in the table, by application and state.",
    ["application", "state"],
  );
  readonly #batch = this.#gauge(
    "pvw_launcher_batch_sessions",
    "Sessions that run as batch jobs, queued or running, by partition and node.",
    ["state", "partition", "node"],
  );
  readonly #launches = this.#registry.register(
    new Counter(
      "pvw_launcher_launches_total",
      "Launch requests, by application and outcome.",
      ["application", "outcome"],
    ),
  );
  readonly #ready = this.#registry.register(
    new Histogram(
      "pvw_launcher_time_to_ready_seconds",
      "Time from a launch request to its session's ready line.",
      READY_BUCKETS,
      ["application"],
    ),
  );
  readonly #stops = this.#registry.register(
    new Counter(
      "pvw_launcher_session_stops_total",
      "Sessions ended, by application and reason.",
      ["application", "reason"],
    ),
  );
  readonly #freePorts = this.#gauge("pvw_launcher_free_ports", "Ports no session holds.");
  readonly #ports = this.#gauge("pvw_launcher_ports", "Ports in the configured resources.");
  readonly #maxSessions = this.#gauge("pvw_launcher_max_sessions", "Most sessions at once.");
  readonly #proxyConnections = this.#gauge(
    "pvw_launcher_proxy_connections",
    "Connections open through the built-in proxy.",
  );
  readonly #proxyBytes = this.#registry.register(
    new Counter(
      "pvw_launcher_proxy_bytes_total",
      "Bytes relayed by the built-in proxy, by direction.",
      ["direction"],
    ),
  );
  readonly #fileStale = this.#gauge(
    "pvw_launcher_file_stale",
    "1 while a kept file (map, state) cannot be written and is behind the sessions.",
    ["file"],
  );
  readonly #fileErrors = this.#registry.register(
    new Counter(
      "pvw_launcher_file_write_errors_total",
      "Failed writes of a kept file (map, state).",
      ["file"],
    ),
  );
  readonly #warm = this.#gauge(
    "pvw_launcher_warm_processes",
    "Warm processes not handed out, by application and state (waiting, starting).",
    ["application", "state"],
  );
  readonly #warmRequests = this.#registry.register(
    new Counter(
      "pvw_launcher_warm_requests_total",
      "Launch requests for applications with warm processes, by result (hit, miss).",
      ["application", "result"],
    ),
  );
  // Labelled by file so that a launcher without TLS has no series (0 would read as expired).
  readonly #tlsExpiry = this.#gauge(
    "pvw_launcher_tls_certificate_expiry_seconds",
    "End of validity of the TLS certificate served to new connections, since the Unix epoch.",
    ["file"],
  );
  readonly #tlsReloads = this.#registry.register(
    new Counter(
      "pvw_launcher_tls_reloads_total",
      "Certificate reloads (SIGHUP), by outcome: reloaded, or refused (the old pair stays).",
      ["outcome"],
    ),
  );
  readonly #rss = this.#gauge("process_resident_memory_bytes", "Resident memory size in bytes.");
  readonly #startTime = this.#gauge(
    "process_start_time_seconds",
    "Start time of the process since the Unix epoch in seconds.",
  );

  /**
   * Makes the metrics, all at zero.
   *
   * @param options where the process metrics come from
   */
  constructor(options: LauncherMetricsOptions = {}) {
    const clock = options.clock ?? Date.now;
    this.#residentMemory = options.residentMemory ?? residentMemory;
    this.#startTime.set({}, clock() / 1000);
    this.#up.set({}, 1);
  }

  #gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.#registry.register(new Gauge(name, help, labelNames));
  }

  /**
   * Counts a launch request by outcome, and its time to ready when it became ready.
   *
   * @param application the application asked for, or "" when none was valid
   * @param outcome how it ended
   * @param readySeconds from request to ready line, when it became ready
   */
  launched(application: string, outcome: LaunchOutcome, readySeconds?: number): void {
    this.#launches.inc({ application, outcome });
    if (outcome === "ready" && readySeconds !== undefined && readySeconds >= 0) {
      this.#ready.observe({ application }, readySeconds);
    }
  }

  /**
   * Counts a session that ended.
   *
   * @param application its application
   * @param reason why: "deleted", "exited", "idle", "lifetime", "shutdown", ...
   */
  ended(application: string, reason: string): void {
    this.#stops.inc({ application, reason });
  }

  /**
   * Writes every metric in the Prometheus text format.
   *
   * @param snapshot the live state now
   * @returns the exposition text
   */
  render(snapshot: MetricsSnapshot): string {
    // A state that emptied reads 0 rather than vanishing, so rate() and alerts see the drop.
    this.#sessions.zero();
    this.#batch.zero();
    for (const [labels, n] of tally(snapshot.sessions.map(stateLabels))) {
      this.#sessions.set(labels, n);
    }
    const jobs = snapshot.sessions.flatMap(({ job }) =>
      job && job.phase !== "ended"
        ? [{ state: job.phase, partition: job.partition ?? "", node: job.node ?? "" }]
        : []
    );
    for (const [labels, n] of tally(jobs)) this.#batch.set(labels, n);
    this.#freePorts.set({}, snapshot.freePorts);
    this.#ports.set({}, snapshot.totalPorts);
    this.#maxSessions.set({}, snapshot.maxSessions);
    this.#proxyConnections.set({}, snapshot.proxy.connections);
    this.#proxyBytes.setTotal({ direction: "to_session" }, snapshot.proxy.bytesToSessions);
    this.#proxyBytes.setTotal({ direction: "from_session" }, snapshot.proxy.bytesFromSessions);
    for (const { file, stale, failures } of snapshot.files ?? []) {
      this.#fileStale.set({ file }, stale ? 1 : 0);
      this.#fileErrors.setTotal({ file }, failures);
    }
    for (const { application, waiting, starting, hits, misses } of snapshot.warm ?? []) {
      this.#warm.set({ application, state: "waiting" }, waiting);
      this.#warm.set({ application, state: "starting" }, starting);
      this.#warmRequests.setTotal({ application, result: "hit" }, hits);
      this.#warmRequests.setTotal({ application, result: "miss" }, misses);
    }
    if (snapshot.tls) {
      this.#tlsExpiry.set({ file: snapshot.tls.file }, snapshot.tls.notAfterSeconds);
      this.#tlsReloads.setTotal({ outcome: "reloaded" }, snapshot.tls.reloads);
      this.#tlsReloads.setTotal({ outcome: "refused" }, snapshot.tls.refused);
    }
    this.#rss.set({}, this.#residentMemory());
    return this.#registry.render();
  }
}

/** A session's labels: its application and state (`queued` for a batch job waiting). */
function stateLabels(s: MetricsSnapshot["sessions"][number]): Record<string, string> {
  const queued = s.state === "starting" && s.job?.phase === "queued";
  return { application: s.application, state: queued ? "queued" : s.state };
}

/** Counts equal label sets. */
function tally(labelSets: Record<string, string>[]): [Record<string, string>, number][] {
  const counts = new Map<string, [Record<string, string>, number]>();
  for (const labels of labelSets) {
    const key = JSON.stringify(labels);
    const entry = counts.get(key) ?? [labels, 0];
    entry[1]++;
    counts.set(key, entry);
  }
  return [...counts.values()];
}
