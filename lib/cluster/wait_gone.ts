/**
 * Stopping a job for good: cancel it, then wait until the scheduler says nothing of it is
 * left. Slurm reports COMPLETING while it kills the job's processes (3 to 4 s; `KillWait`,
 * 30 s by default, when the app ignores SIGTERM), and only then a final state. An
 * unreachable scheduler is asked again, never taken for "gone".
 *
 * @module
 */

import type { BatchSystem, EndedStatus, JobRef, JobStatus } from "./batch_system.ts";
import { type Clock, realClock } from "./clock.ts";
import { BatchSystemUnavailableError } from "./errors.ts";

/** The job was still there (or its state unknown) when the wait ran out. */
export class JobNotGoneError extends Error {
  /**
   * Makes the error.
   *
   * @param job the job
   * @param last what was last learned of it; undefined when the scheduler never answered
   */
  constructor(readonly job: JobRef, readonly last: JobStatus | undefined) {
    super(
      `job ${job.id} is not gone: ${
        last ? `last seen ${last.batchState || last.phase}` : "the scheduler did not answer"
      }`,
    );
    this.name = "JobNotGoneError";
  }
}

/** How long and how often to look. */
export interface WaitOptions {
  /** Give up after this many milliseconds. */
  timeoutMs: number;
  /** Time, for tests. @default realClock */
  clock?: Clock;
  /** Milliseconds between two looks; doubles up to 1 s. @default 200 */
  intervalMs?: number;
  /** Stops the wait early (it then fails as a timeout would). */
  signal?: AbortSignal;
}

/** Whether nothing of the job is left. */
function gone(status: JobStatus | undefined): status is EndedStatus {
  return status?.phase === "ended" && status.settled;
}

/**
 * Cancels a job (again and again while the scheduler cannot be reached) and waits until it
 * is gone.
 *
 * @param system the scheduler
 * @param job the job
 * @param options how long to wait
 * @returns its final status
 * @throws {JobNotGoneError} when it is still there (or unknown) after `timeoutMs`
 */
export async function cancelAndWait(
  system: BatchSystem,
  job: JobRef,
  options: WaitOptions,
): Promise<EndedStatus> {
  const clock = options.clock ?? realClock;
  const deadline = clock.now() + options.timeoutMs;
  let interval = options.intervalMs ?? 200;
  let cancelled = false;
  let last: JobStatus | undefined;
  while (true) {
    try {
      if (!cancelled) await system.cancel([job]);
      cancelled = true;
      last = (await system.query([job])).get(job.id);
      if (gone(last)) return last;
    } catch (err) {
      if (!(err instanceof BatchSystemUnavailableError)) throw err;
    }
    if (clock.now() >= deadline || options.signal?.aborted) throw new JobNotGoneError(job, last);
    await clock.sleep(Math.min(interval, Math.max(0, deadline - clock.now())), options.signal);
    interval = Math.min(interval * 2, 1000);
  }
}
