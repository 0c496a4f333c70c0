/**
 * The launcher's `cluster` key: which scheduler runs the sessions of applications that have
 * a `slurm` key, how to reach it, and how to reach its nodes.
 *
 * ```jsonc
 * "cluster": {
 *   "scheduler": "slurm",
 *   "slurm_conf": "/etc/slurm/slurm.conf",
 *   "bin": "/usr/bin",
 *   "node_hosts": { "n1": "10.0.0.11", "n2": "10.0.0.12" },
 *   "port_range": [9001, 9100],
 *   "queue_timeout": 300,
 *   "job_prefix": "pvw-",
 *   "poll_interval": 1,
 *   "command_timeout": 30,
 *   "cancel_timeout": 45
 * }
 * ```
 *
 * @module
 */

import { checkKeys, isObject, ProblemList, type SettingsProblem } from "./settings_problems.ts";

/** The launcher's cluster settings. */
export interface ClusterSettings {
  /** The scheduler; Slurm is the one implemented. */
  scheduler: "slurm";
  /** Slurm's config file, given to every command as `SLURM_CONF`; Slurm's default when unset. */
  slurmConf?: string;
  /** Folder of `sbatch`, `squeue`, `scancel` and `scontrol`; looked up in `PATH` when unset. */
  bin?: string;
  /** Address of each node the proxy connects to, by node name; see `NodeHosts`. */
  nodeHosts: Record<string, string>;
  /**
   * The ports of the sessions that run as jobs, the same on every node: the node is chosen
   * after the port, so a port is never given to two running sessions. Required once an
   * application runs as a job.
   */
  portRange?: { first: number; last: number };
  /**
   * How long a session may wait in the queue before its job is cancelled and its launch
   * fails, in milliseconds; an application's `queue_timeout` overrides it. @default 300000
   */
  queueTimeoutMs: number;
  /**
   * What every job name starts with; the session id follows (`pvw-<id>`). Jobs are known by
   * id and name together, so jobs of other launchers (another prefix) are never touched.
   * @default "pvw-"
   */
  jobPrefix: string;
  /** How often every job is checked, in milliseconds. @default 1000 */
  pollIntervalMs: number;
  /** How long a scheduler command may take, in milliseconds. @default 30000 */
  commandTimeoutMs: number;
  /**
   * How long a cancelled job may take to be gone, in milliseconds: Slurm's `KillWait`
   * (30 s by default) plus a margin. @default 45000
   */
  cancelTimeoutMs: number;
}

const KEYS = [
  "scheduler",
  "slurm_conf",
  "bin",
  "node_hosts",
  "port_range",
  "queue_timeout",
  "job_prefix",
  "poll_interval",
  "command_timeout",
  "cancel_timeout",
];

/** Reads a duration in seconds (above 0, at most a day) as milliseconds. */
function seconds(raw: unknown, key: string, fallback: number, problems: ProblemList): number {
  if (raw === undefined) return fallback;
  if (typeof raw === "number" && raw > 0 && raw <= 86_400) return Math.round(raw * 1000);
  problems.error(key, "must be a number of seconds above 0");
  return fallback;
}

/** Reads an absolute path. */
function path(raw: unknown, key: string, problems: ProblemList): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw === "string" && raw.startsWith("/")) return raw;
  problems.error(key, "must be an absolute path");
  return undefined;
}

/** Reads `port_range`: `[first, last]`, whole ports in 1..65535. */
function portRange(raw: unknown, problems: ProblemList): ClusterSettings["portRange"] {
  if (raw === undefined) return undefined;
  const port = (n: unknown) => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65535;
  if (Array.isArray(raw) && raw.length === 2 && raw.every(port) && raw[0] <= raw[1]) {
    return { first: raw[0], last: raw[1] };
  }
  problems.error("port_range", "must be a port range [first, last] such as [9001, 9100]");
  return undefined;
}

/** Reads `job_prefix`: letters, digits, `.`, `_` and `-`, as Slurm shows a name whole. */
function jobPrefix(raw: unknown, problems: ProblemList): string {
  if (raw === undefined) return "pvw-";
  if (typeof raw === "string" && /^[A-Za-z0-9._-]{1,40}$/.test(raw)) return raw;
  problems.error("job_prefix", 'must be 1 to 40 letters, digits, ".", "_" or "-", such as "pvw-"');
  return "pvw-";
}

/** Reads `node_hosts`: node name to host name or address. */
function nodeHosts(raw: unknown, problems: ProblemList): Record<string, string> {
  if (raw === undefined) return {};
  if (isObject(raw) && Object.values(raw).every((v) => typeof v === "string" && v !== "")) {
    return { ...raw } as Record<string, string>;
  }
  problems.error("node_hosts", 'must map node names to host names, such as {"n1": "10.0.0.11"}');
  return {};
}

/**
 * Reads the launcher's `cluster` settings.
 *
 * @param raw the value of the `cluster` key, as parsed from the config
 * @returns the settings, unless an error was found, and every problem found (paths relative
 *   to the `cluster` key)
 */
export function parseClusterSettings(
  raw: unknown,
): { settings?: ClusterSettings; problems: SettingsProblem[] } {
  const problems = new ProblemList();
  if (!isObject(raw)) {
    problems.error("", 'must be an object such as {"scheduler": "slurm"}');
    return { problems: problems.problems };
  }
  checkKeys(raw, KEYS, "", problems);
  if (raw.scheduler !== undefined && raw.scheduler !== "slurm") {
    problems.error("scheduler", 'must be "slurm", the one scheduler supported');
  }
  const settings: ClusterSettings = {
    scheduler: "slurm",
    nodeHosts: nodeHosts(raw.node_hosts, problems),
    queueTimeoutMs: seconds(raw.queue_timeout, "queue_timeout", 300_000, problems),
    jobPrefix: jobPrefix(raw.job_prefix, problems),
    pollIntervalMs: seconds(raw.poll_interval, "poll_interval", 1000, problems),
    commandTimeoutMs: seconds(raw.command_timeout, "command_timeout", 30_000, problems),
    cancelTimeoutMs: seconds(raw.cancel_timeout, "cancel_timeout", 45_000, problems),
  };
  const ports = portRange(raw.port_range, problems);
  if (ports !== undefined) settings.portRange = ports;
  const conf = path(raw.slurm_conf, "slurm_conf", problems);
  if (conf !== undefined) settings.slurmConf = conf;
  const bin = path(raw.bin, "bin", problems);
  if (bin !== undefined) settings.bin = bin;
  return problems.failed
    ? { problems: problems.problems }
    : { settings, problems: problems.problems };
}
