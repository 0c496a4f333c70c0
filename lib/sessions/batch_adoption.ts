/**
 * Taking over the sessions a previous launcher ran as batch jobs: each saved job is checked
 * with the scheduler (one call for all), and a job that is queued or running gets its
 * session back: ready if it was, else starting, to be followed until its ready line. A job
 * that ended is dropped. Only the jobs the state file names, under the name the launcher
 * gives its jobs, are ever touched: the scheduler's other jobs are not the launcher's.
 *
 * As for local sessions, an entry is trusted no further than it can be checked: an id that
 * could not be a session's, a log that is not `<id>.log` in today's log folder, a job name
 * that is not this launcher's, or a port outside today's cluster range is not adopted, and
 * its job is left alone.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { join } from "node:path";
import {
  type BatchSystem,
  BatchSystemUnavailableError,
  type ClusterSettings,
  type JobRef,
  type JobStatus,
} from "../cluster/mod.ts";
import { jobInfo } from "./batch_launch.ts";
import { looksLikeSessionId } from "./ids.ts";
import type { SlotPool } from "./placement.ts";
import { adoptedRecord, type SessionRecord } from "./record.ts";
import type { SavedJobSession } from "./state_file.ts";

/** What adopting jobs works with. */
export interface JobAdoptionDeps {
  /** The scheduler. */
  system: BatchSystem;
  /** The cluster's settings. */
  settings: ClusterSettings;
  /** The cluster's ports. */
  pool: SlotPool;
  /** Today's log folder. */
  logDir: string;
  /** Today's idle and lifetime limits, by application (the config's when it has none). */
  limits: (application: string) => { idleTimeoutMs?: number; maxLifetimeMs?: number };
  /** The wall clock, ms since the epoch. */
  now: () => number;
  /** A monotonic clock in ms. */
  monotonic: () => number;
}

/** An adopted session, and what its saved entry holds. */
export interface AdoptedJob {
  /** Its record: ready, or starting (to be followed until ready). */
  rec: SessionRecord;
  /** Its job. */
  job: JobRef;
  /** Its entry in the state file. */
  saved: SavedJobSession;
}

const logger = () => getLogger(["pvw-launcher", "sessions"]);

/** Why an entry cannot be one of today's batch sessions, or undefined when it can. */
function refusal(s: SavedJobSession, deps: JobAdoptionDeps): string | undefined {
  if (!looksLikeSessionId(s.id)) return "its id is not a session id";
  if (s.job.name !== `${deps.settings.jobPrefix}${s.id}`) {
    return `its job name is not ${deps.settings.jobPrefix}${s.id}`;
  }
  if (!/^\d+$/.test(s.job.id)) return "its job id is not a Slurm job id";
  if (s.logFile !== join(deps.logDir, `${s.id}.log`)) return "its log is not in the log folder";
  const range = deps.settings.portRange;
  if (!range || s.port < range.first || s.port > range.last) {
    return `port ${s.port} is outside the cluster's port_range`;
  }
  return undefined;
}

/**
 * Rebuilds the records of the saved batch sessions whose job is still queued or running.
 *
 * @param saved the state file's batch sessions
 * @param deps the scheduler, settings, pool, folder and clocks
 * @returns the adopted sessions (the caller follows the starting ones until ready)
 */
export async function adoptJobs(
  saved: SavedJobSession[],
  deps: JobAdoptionDeps,
): Promise<AdoptedJob[]> {
  const accepted = saved.filter((s) => {
    const why = refusal(s, deps);
    if (why) {
      logger().error("state entry {id} is not adopted: {why}; job {job} is left alone", {
        id: s.id,
        why,
        job: s.job.id,
      });
    }
    return !why;
  });
  if (accepted.length === 0) return [];
  const jobs = accepted.map((s) => ({ id: s.job.id, name: s.job.name }));
  let statuses: Map<string, JobStatus> | undefined;
  try {
    statuses = await deps.system.query(jobs);
  } catch (err) {
    if (!(err instanceof BatchSystemUnavailableError)) throw err;
    // Unknown is not gone: the sessions are taken as saved, and the poller will tell.
    logger().warn("Slurm cannot be reached: {count} saved jobs are adopted as they were saved", {
      count: accepted.length,
    });
  }
  const adopted: AdoptedJob[] = [];
  for (const [i, s] of accepted.entries()) {
    const status = statuses?.get(jobs[i].id);
    if (status?.phase === "ended") {
      dropEnded(s, status, deps.system);
      continue;
    }
    adopted.push({ rec: adoptOne(s, jobs[i], status, deps), job: jobs[i], saved: s });
  }
  return adopted;
}

/** A job that ended while no launcher ran: dropped; one that can never start is cancelled. */
function dropEnded(
  s: SavedJobSession,
  status: JobStatus & { phase: "ended" },
  system: BatchSystem,
) {
  logger().info("session {id}: its job {job} ended while no launcher ran ({reason}); dropped", {
    id: s.id,
    job: s.job.id,
    reason: status.reason,
  });
  if (!status.settled) system.cancel([status.job]).catch(() => {});
}

function adoptOne(
  s: SavedJobSession,
  job: JobRef,
  status: JobStatus | undefined,
  deps: JobAdoptionDeps,
): SessionRecord {
  const ready = s.state === "ready" && status?.phase !== "queued";
  const pooled = deps.pool.reserve("", s.port);
  const facts = { id: s.id, job: job.id, application: s.application, port: s.port };
  if (!pooled) logger().warn("session {id}: another entry already holds port {port}", facts);
  logger().info(
    ready
      ? "session {id} adopted: {application}, job {job}"
      : "session {id} adopted: {application}, job {job}, still starting",
    facts,
  );
  const before = { ...s.job, phase: s.job.node ? "running" as const : "queued" as const };
  return {
    ...adoptedRecord({
      saved: s,
      host: ready ? s.host : "",
      state: ready ? "ready" : "starting",
      answer: ready ? s.answer ?? {} : { secret: s.secret ?? "" },
      readyMs: ready ? s.readyMs : undefined,
      limits: deps.limits(s.application),
      slot: { host: "", port: s.port, pooled },
    }, deps),
    batch: true,
    job: status ? jobInfo(job, status, before) : before,
    submitted: Promise.resolve(job),
    announced: s.announced === true,
  };
}
