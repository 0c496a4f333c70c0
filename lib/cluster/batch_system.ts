/**
 * The batch-system interface: what the launcher needs from a cluster scheduler to run a
 * session as a job. Slurm implements it (`slurm.ts`); PBS Pro, LSF or Kubernetes would
 * implement the same four operations (see `docs/clusters.md`).
 *
 * A job is named by a {@linkcode JobRef}: its id and the name it was submitted with. The name
 * guards against ids being reused (a controller that lost its state numbers jobs from 1
 * again): a job whose name differs is not ours, and is treated as gone, never touched.
 *
 * @module
 */

/** A submitted job: its id and the name it was submitted with. */
export interface JobRef {
  /** The batch system's job id (`123` for Slurm). */
  readonly id: string;
  /** The job name given at submission (`pvw-<session id>`). */
  readonly name: string;
}

/** What a job asks for, validated and normalised (see `resolveJobResources`). */
export interface JobResources {
  /** Partition (queue) name; the cluster's default when undefined. */
  partition?: string;
  /** Account to charge. */
  account?: string;
  /** Quality of service. */
  qos?: string;
  /** Wall-clock limit in minutes; the partition's default when undefined. */
  timeMinutes?: number;
  /** CPUs for the session's process (`--cpus-per-task`). */
  cpus?: number;
  /** Memory per node in megabytes. */
  memoryMB?: number;
  /** GPUs per node, with an optional GPU type (`a100`). */
  gpus?: { count: number; type?: string };
  /** Other generic resources, as the batch system spells them (`license:1`). */
  gres?: string;
  /** Number of nodes; the session's process runs on the first. */
  nodes?: number;
  /** Further scheduler arguments, already checked (`--constraint=x11`). */
  extraArgs: string[];
  /**
   * Whether the job gets the launcher's environment too (`session`) or only the app's
   * variables (`app`). @default "session"
   */
  export?: "session" | "app";
}

/** A session to run as a batch job. */
export interface JobSpec {
  /** The job name (unique among the launcher's jobs: it is how a job is recognised). */
  name: string;
  /** The session's rendered command; no shell is involved in running it. */
  argv: string[];
  /** Working directory on the node; the launcher's own when undefined. */
  cwd?: string;
  /**
   * Absolute path of the file that receives the job's stdout and stderr (`<log>/<id>.log`),
   * on a filesystem the nodes share with the launcher. Appended to; created, mode 0600, by
   * the node when missing.
   */
  outputFile: string;
  /** Variables the application needs (its `env`): the job always gets them. */
  env: Record<string, string>;
  /**
   * The environment a local session starts from (the launcher's). The job gets it too
   * unless its resources say `export: "app"`.
   */
  baseEnv?: Record<string, string>;
  /** The umask the application runs with; 0077 when undefined. */
  umask?: number;
  /** What the job asks the scheduler for. */
  resources: JobResources;
}

/** Why a job ended, in words a program can test. */
export type JobOutcome =
  /** Its command exited 0. */
  | "completed"
  /** Its command exited non-zero or was killed by a signal, or could not start. */
  | "failed"
  /** It was cancelled (by the launcher, a user or an administrator). */
  | "cancelled"
  /** It was killed at its time limit. */
  | "timeout"
  /** Its node failed or stopped answering. */
  | "node_fail"
  /** A higher-priority job took its resources. */
  | "preempted"
  /** It used more memory than it asked for. */
  | "out_of_memory"
  /** Its nodes could not be booted. */
  | "boot_fail"
  /** It reached its deadline. */
  | "deadline"
  /** It waits for something that never comes (asks more than the partition allows, ...). */
  | "unrunnable"
  /** It is ending; how is not known yet. */
  | "ending"
  /** The batch system no longer knows it (ended long ago, or its record was lost). */
  | "unknown";

/** What every status holds. */
export interface StatusBase {
  /** The job. */
  job: JobRef;
  /** The batch system's own state word (`PENDING`, `RUNNING`, `TIMEOUT`, ...), for logs. */
  batchState: string;
  /** The batch system's own reason word (`Resources`, `TimeLimit`, ...), for logs. */
  batchReason: string;
  /** The partition(s) the job is in, when known. */
  partition?: string;
}

/** The job waits in the queue. */
export interface QueuedStatus extends StatusBase {
  /** Discriminant. */
  phase: "queued";
  /** Why it waits, for people (`waiting for resources`). */
  reason: string;
  /** 1 for the next job of its partition to start, when computable. */
  position?: number;
}

/** The job runs. */
export interface RunningStatus extends StatusBase {
  /** Discriminant. */
  phase: "running";
  /** The node the session's process runs on (the batch host). */
  node: string;
  /** Every node of the job, the batch host first. */
  nodes: string[];
}

/** The job ended, or will never run. */
export interface EndedStatus extends StatusBase {
  /** Discriminant. */
  phase: "ended";
  /** How it ended. */
  outcome: JobOutcome;
  /** How it ended, for people (`killed at its time limit`). */
  reason: string;
  /** The command's exit code, when it exited. */
  exitCode?: number;
  /** The signal that killed it, when one did. */
  signal?: number;
  /** The node it ran on, when it ran. */
  node?: string;
  /**
   * Whether nothing of it is left: false while its processes are being stopped (Slurm's
   * COMPLETING) or while it still sits in the queue (`unrunnable`: cancel it).
   */
  settled: boolean;
}

/** What a job is doing. */
export type JobStatus = QueuedStatus | RunningStatus | EndedStatus;

/** A cluster scheduler, as the launcher uses it. */
export interface BatchSystem {
  /** The scheduler's name (`slurm`), for logs. */
  readonly kind: string;

  /**
   * Submits a job; it outlives the launcher.
   *
   * @returns the job, queued or already running
   * @throws {JobSubmitError} when the scheduler refuses it (unknown partition, ...)
   * @throws {BatchSystemUnavailableError} when the scheduler cannot be reached; no job is
   *   left behind
   */
  submit(spec: JobSpec): Promise<JobRef>;

  /**
   * Learns what many jobs are doing, in as few scheduler calls as possible.
   *
   * @returns a status for every job asked about; a job the scheduler no longer knows (or
   *   whose id now names another job) is `ended` with outcome `unknown`
   * @throws {BatchSystemUnavailableError} when the scheduler cannot be reached: the jobs'
   *   states are unknown, never "gone"
   */
  query(jobs: readonly JobRef[]): Promise<Map<string, JobStatus>>;

  /**
   * Asks the scheduler to stop jobs; returns without waiting for them to end (see
   * `waitUntilGone`). A job that already ended, or whose id names another job, is left alone.
   *
   * @throws {BatchSystemUnavailableError} when the scheduler cannot be reached
   */
  cancel(jobs: readonly JobRef[]): Promise<void>;

  /**
   * The address the scheduler knows a node by, when it knows one; undefined otherwise.
   *
   * @throws {BatchSystemUnavailableError} when the scheduler cannot be reached
   */
  nodeAddress?(node: string): Promise<string | undefined>;
}
