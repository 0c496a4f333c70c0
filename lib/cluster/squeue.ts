/**
 * Asking `squeue` about many jobs in one call, and reading its answer.
 *
 * `--states=all` lists ended jobs too, for `MinJobAge` (300 s by default) after their end;
 * without it an ended job is simply missing. `--Format` (not `--format`) because only it has
 * the exit status. Each field ends with `|`, and the name (which may hold anything, `|`
 * included) comes last.
 *
 * @module
 */

import { BatchSystemUnavailableError } from "./errors.ts";
import type { CommandResult } from "../os/mod.ts";
import { errorText, unreachable } from "./sbatch.ts";

/** One job as squeue printed it. */
export interface SqueueRow {
  /** Job id. */
  id: string;
  /** Slurm's state word: PENDING, RUNNING, COMPLETING, TIMEOUT, ... */
  state: string;
  /** The raw wait status: exit code × 256 + the signal number. */
  exitStatus: number;
  /** Slurm's reason word: None, Resources, Priority, NonZeroExitCode, TimeLimit, ... */
  reason: string;
  /** Where the batch script runs; empty while pending. */
  batchHost: string;
  /** Every node of the job, as a compact list (`n[2-3]`); empty while pending. */
  nodeList: string;
  /** The partition(s), comma-separated. */
  partition: string;
  /** Priority; the higher starts first. */
  priority: number;
  /** The time limit as Slurm writes it (`1:00`, `4:00:00`, `UNLIMITED`). */
  timeLimit: string;
  /** The job name. */
  name: string;
}

const FIELDS = [
  "JobID",
  "State",
  "exit_code",
  "Reason",
  "BatchHost",
  "NodeList",
  "Partition",
  "PriorityLong",
  "TimeLimit",
];
const JOB_FORMAT = [...FIELDS.map((f) => `${f}:|`), "Name:"].join(",");
const PENDING_FORMAT = "JobID:|,Partition:|,PriorityLong:|,Reason:";

/** squeue's arguments to show jobs `ids`, ended ones included. */
export function squeueJobsArgs(ids: readonly string[]): string[] {
  return ["--noheader", "--states=all", `--jobs=${ids.join(",")}`, `--Format=${JOB_FORMAT}`];
}

/** squeue's arguments to list every pending job of `partitions`, for queue positions. */
export function squeuePendingArgs(partitions: readonly string[]): string[] {
  return [
    "--noheader",
    "--states=PENDING",
    `--partition=${partitions.join(",")}`,
    `--Format=${PENDING_FORMAT}`,
  ];
}

/**
 * Checks that squeue answered; an id Slurm no longer knows is an answer (no line for it).
 *
 * @throws {BatchSystemUnavailableError} when it timed out, could not reach the controller,
 *   or failed in any other way
 */
export function squeueOutput(result: CommandResult): string {
  if (result.timedOut) throw new BatchSystemUnavailableError("squeue timed out");
  if (result.code === 0) return result.stdout;
  // Alone, an id Slurm forgot is an error; in a list it is just left out.
  if (/Invalid job id specified/.test(result.stderr) && !unreachable(result.stderr)) return "";
  throw new BatchSystemUnavailableError(`squeue: ${errorText(result.stderr)}`);
}

/** Reads the lines of a {@linkcode squeueJobsArgs} answer; malformed lines are skipped. */
export function parseJobRows(stdout: string): SqueueRow[] {
  const rows: SqueueRow[] = [];
  for (const line of stdout.split("\n")) {
    const fields = line.split("|");
    if (fields.length < FIELDS.length + 1 || !/^\d+$/.test(fields[0])) continue;
    const [id, state, exit, reason, batchHost, nodeList, partition, priority, timeLimit] = fields;
    rows.push({
      id,
      state: state.trim(),
      exitStatus: Number(exit) || 0,
      reason: reason.trim(),
      batchHost: batchHost === "n/a" ? "" : batchHost.trim(),
      nodeList: nodeList.trim(),
      partition: partition.trim(),
      priority: Number(priority) || 0,
      timeLimit: timeLimit.trim(),
      name: fields.slice(FIELDS.length).join("|"),
    });
  }
  return rows;
}

/** A pending job, for ranking the queue. */
export interface PendingRow {
  /** Job id. */
  id: string;
  /** Its partitions. */
  partitions: string[];
  /** Its priority. */
  priority: number;
  /** Why it waits. */
  reason: string;
}

/** Reads the lines of a {@linkcode squeuePendingArgs} answer. */
export function parsePendingRows(stdout: string): PendingRow[] {
  const rows: PendingRow[] = [];
  for (const line of stdout.split("\n")) {
    const [id, partition, priority, reason] = line.split("|");
    if (!/^\d+$/.test(id) || reason === undefined) continue;
    rows.push({
      id,
      partitions: partition.split(","),
      priority: Number(priority) || 0,
      reason: reason.trim(),
    });
  }
  return rows;
}
