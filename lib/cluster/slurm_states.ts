/**
 * What Slurm's job states and reasons mean for a session: queued (and why, in words),
 * running (on which node), or ended (how), including the pending reasons that never
 * resolve and therefore end a session at once rather than at its `queue_timeout`.
 *
 * @module
 */

import type { EndedStatus, JobOutcome, JobRef, JobStatus } from "./batch_system.ts";
import { expandHostlist } from "./hostlist.ts";
import type { SqueueRow } from "./squeue.ts";

/** Why a job waits, for people; reasons not listed are shown as Slurm writes them. */
const WAITING: Record<string, string> = {
  None: "waiting for the scheduler to look at it",
  Resources: "waiting for resources",
  Priority: "waiting behind jobs of higher priority",
  Dependency: "waiting for another job",
  BeginTime: "waiting for its start time",
  ReqNodeNotAvail: "a node it needs is unavailable",
  NodeDown: "a node it needs is down",
  PartitionDown: "its partition is down",
  PartitionInactive: "its partition is inactive",
  JobHeldAdmin: "held by an administrator",
  JobHeldUser: "held",
  Reservation: "waiting for its reservation",
  Licenses: "waiting for licenses",
  Configuring: "its nodes are being booted or configured",
};

/** Pending reasons that never resolve by waiting: the job asks for what it cannot get. */
const NEVER: Record<string, string> = {
  PartitionTimeLimit: "its time limit is above its partition's",
  PartitionNodeLimit: "it asks for more nodes than its partition allows",
  // Shown at submission for any request beyond the partition's limits, then the precise one.
  PartitionConfig: "it asks for more than its partition allows",
  BadConstraints: "no node can satisfy what it asks for",
  InvalidAccount: "its account is not valid",
  InvalidQOS: "its QOS is not valid",
  AccountNotAllowed: "its account may not use its partition",
  QOSNotAllowed: "its QOS may not use its partition",
  DependencyNeverSatisfied: "it depends on a job that failed",
  InactiveLimit: "it reached its partition's inactivity limit",
};

/** Per-job maxima and minima of a QOS or an association: waiting never changes them. */
const NEVER_PATTERN = /^(QOS|Assoc)(Max\w*PerJob\w*|Min\w*)$/;

/** Whether a pending job with `reason` can never start. */
export function neverRuns(reason: string): boolean {
  return reason in NEVER || NEVER_PATTERN.test(reason);
}

/** Ended states: the outcome and the words for it. */
const ENDED: Record<string, [JobOutcome, string]> = {
  COMPLETED: ["completed", "exited with code 0"],
  FAILED: ["failed", "failed"],
  CANCELLED: ["cancelled", "was cancelled"],
  TIMEOUT: ["timeout", "was killed at its time limit"],
  NODE_FAIL: ["node_fail", "its node failed"],
  PREEMPTED: ["preempted", "was preempted by a job of higher priority"],
  OUT_OF_MEMORY: ["out_of_memory", "ran out of memory"],
  BOOT_FAIL: ["boot_fail", "its node failed to boot"],
  DEADLINE: ["deadline", "reached its deadline"],
  REVOKED: ["cancelled", "was revoked (it runs on another cluster)"],
  SPECIAL_EXIT: ["failed", "failed (special exit)"],
};

/** States that still have processes on a node: the job is ending, not yet gone. */
const ENDING = new Set(["COMPLETING", "STAGE_OUT", "SIGNALING"]);
/** States where the job holds its nodes and its script runs (or is stopped). */
const RUNNING = new Set(["RUNNING", "SUSPENDED", "STOPPED", "RESIZING"]);

const SIGNALS: Record<number, string> = {
  1: "SIGHUP",
  2: "SIGINT",
  6: "SIGABRT",
  9: "SIGKILL",
  11: "SIGSEGV",
  15: "SIGTERM",
};

/**
 * The signal in a raw wait status, if a real one (1 to 31); Slurm also puts its own error
 * numbers there (53 when the job could not be launched).
 */
function signalOf(status: number): number | undefined {
  const signal = status & 0x7f;
  return signal >= 1 && signal <= 31 ? signal : undefined;
}

/** How a FAILED job failed, from its exit status and reason. */
function failure(row: SqueueRow): string {
  const signal = signalOf(row.exitStatus);
  if (signal !== undefined) {
    return `was killed by signal ${signal}${SIGNALS[signal] ? ` (${SIGNALS[signal]})` : ""}`;
  }
  if (row.reason === "JobLaunchFailure") {
    return `could not start on ${row.batchHost || "its node"} (is the log folder there, on a` +
      " filesystem the nodes share?)";
  }
  return `exited with code ${(row.exitStatus >> 8) & 0xff}`;
}

/** The status of a job that ended, or is ending. */
function ended(job: JobRef, row: SqueueRow, node: string | undefined): EndedStatus {
  const [outcome, words] = ENDED[row.state] ?? ["ending", "is ending"];
  const status: EndedStatus = {
    job,
    phase: "ended",
    outcome,
    reason: row.state === "FAILED"
      ? failure(row)
      : row.state === "TIMEOUT"
      ? `${words} (${row.timeLimit})`
      : words,
    batchState: row.state,
    batchReason: row.reason,
    partition: row.partition,
    settled: !ENDING.has(row.state),
  };
  if (node) status.node = node;
  if (outcome === "completed" || outcome === "failed") {
    const signal = signalOf(row.exitStatus);
    if (signal !== undefined) status.signal = signal;
    else if ((row.exitStatus & 0x7f) === 0) status.exitCode = (row.exitStatus >> 8) & 0xff;
  }
  return status;
}

/** The status of a pending job. */
function pending(job: JobRef, row: SqueueRow, waiting?: string): JobStatus {
  const base = { job, batchState: row.state, batchReason: row.reason, partition: row.partition };
  if (neverRuns(row.reason)) {
    const why = NEVER[row.reason] ?? `it exceeds a limit (${row.reason})`;
    return {
      ...base,
      phase: "ended",
      outcome: "unrunnable",
      reason: `can never start: ${why}`,
      settled: false,
    };
  }
  return { ...base, phase: "queued", reason: waiting ?? WAITING[row.reason] ?? row.reason };
}

/**
 * What a job's squeue line means.
 *
 * @param job the job asked about
 * @param row its line
 * @returns its status; a queued job's position is filled in separately
 */
export function jobStatus(job: JobRef, row: SqueueRow): JobStatus {
  const nodes = expandHostlist(row.nodeList);
  const node = row.batchHost || nodes[0];
  if (row.state in ENDED || ENDING.has(row.state)) return ended(job, row, node);
  if (RUNNING.has(row.state) && node) {
    const rest = nodes.filter((n) => n !== node);
    return {
      job,
      phase: "running",
      node,
      nodes: [node, ...rest],
      batchState: row.state,
      batchReason: row.reason,
      partition: row.partition,
    };
  }
  if (row.state === "CONFIGURING") return pending(job, row, WAITING.Configuring);
  return pending(job, row);
}

/** The status of a job Slurm no longer knows, or whose id now names another job. */
export function forgotten(job: JobRef): EndedStatus {
  return {
    job,
    phase: "ended",
    outcome: "unknown",
    reason: "is no longer known to Slurm (it ended more than MinJobAge ago, or was lost)",
    batchState: "",
    batchReason: "",
    settled: true,
  };
}
