/**
 * A pending job's place in its queue. Slurm has no such field: the main scheduler tries the
 * pending jobs of a partition by priority, highest first (ties by submission, the lower id
 * first), so a job's position is one more than the jobs ahead of it that share a partition
 * with it. Jobs that can never start are not counted: the scheduler passes over them.
 *
 * The backfill scheduler may start a small job ahead of its turn, and jobs of other
 * partitions on the same nodes compete too: the position is an estimate.
 *
 * @module
 */

import type { PendingRow } from "./squeue.ts";
import { neverRuns } from "./slurm_states.ts";

/** Whether `a` is tried before `b`. */
function ahead(a: PendingRow, b: PendingRow): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  return Number(a.id) < Number(b.id);
}

/**
 * Ranks jobs in their queues.
 *
 * @param ids the jobs whose position is wanted
 * @param pending every pending job of their partitions
 * @returns each job's 1-based position; jobs not among `pending` are left out
 */
export function queuePositions(ids: readonly string[], pending: readonly PendingRow[]): Map<
  string,
  number
> {
  const waiting = pending.filter((row) => !neverRuns(row.reason));
  const positions = new Map<string, number>();
  for (const id of ids) {
    const job = waiting.find((row) => row.id === id);
    if (!job) continue;
    const count = waiting.filter((row) =>
      row.id !== id && row.partitions.some((p) =>
        job.partitions.includes(p)
      ) && ahead(row, job)
    ).length;
    positions.set(id, count + 1);
  }
  return positions;
}
