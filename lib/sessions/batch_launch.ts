/**
 * Starting a session as a batch job: submit it, wait in the queue (at most `queue_timeout`),
 * learn the node once it runs, and wait for its ready line in its log (at most `timeout`
 * from then), whichever of the job's end, the ready line or a timeout comes first.
 *
 * The log is followed from the submission on: the ready line is proof that the job runs,
 * so it is never held back by the poller's interval (the node is then asked for at once).
 *
 * @module
 */

import {
  type BatchSystem,
  BatchSystemUnavailableError,
  cancelAndWait,
  type EndedStatus,
  type JobPoller,
  type JobRef,
  type JobResources,
  JobSettingsError,
  type JobStatus,
  JobSubmitError,
  type NodeHosts,
  type RunningStatus,
} from "../cluster/mod.ts";
import type { AppConfig } from "../config/mod.ts";
import { LaunchError } from "../errors/mod.ts";
import { type LogFollower, timer, whenAborted } from "../os/mod.ts";
import { followReadyLine, readyLinesText, stoppedError } from "./launch.ts";
import type { JobInfo, SessionRecord } from "./record.ts";

/** What starting a job needs from the cluster. */
export interface BatchParts {
  /** The scheduler. */
  system: BatchSystem;
  /** Watches every job with one scheduler call per interval. */
  poller: JobPoller;
  /** Where the proxy reaches a node. */
  hosts: NodeHosts;
  /**
   * Makes a job's output file, empty and private, before the job is submitted: its follower
   * then reads and watches it from the start, rather than finding it at its next poll once
   * the job has made it (Slurm appends to it, `--open-mode=append`). @default none made
   */
  prepareLog?: (path: string) => void;
}

/** What a new session's job is submitted with. */
export interface JobSubmission {
  /** The session's rendered command. */
  argv: string[];
  /** What its job asks for, checked. */
  resources: JobResources;
  /** The job's name. */
  name: string;
  /** The environment a local session would start from. */
  baseEnv: Record<string, string>;
}

/** A session whose job is started, or followed until it is ready. */
export interface JobLaunch {
  /** The session, in state `starting`. */
  rec: SessionRecord;
  /** Its application. */
  app: AppConfig;
  /** Follows its log for the ready line. */
  follower: LogFollower;
  /** How long it may wait in the queue, in ms. */
  queueTimeoutMs: number;
  /** Whether the launcher is shutting down. */
  closing: () => boolean;
  /** Told once the job is submitted (to save it) and of each status of it from then on. */
  onStatus: (status: JobStatus | "submitted") => void;
  /** The client's answer, once the host is known. */
  answer: (host: string) => Record<string, unknown>;
}

/** Seconds a client is asked to wait before it tries again after a queue timeout. */
const RETRY_AFTER_QUEUE = 30;

/**
 * What the session shows of its job's status.
 *
 * @param job the job
 * @param status what the scheduler says of it, or undefined before its first answer
 * @param before what was known before (its partition and node stay known)
 * @returns the job's information
 */
export function jobInfo(job: JobRef, status?: JobStatus, before?: JobInfo): JobInfo {
  const base = { id: job.id, name: job.name };
  const partition = status?.partition ?? before?.partition;
  const where = partition === undefined ? {} : { partition };
  if (!status) return { ...base, phase: "queued", reason: "submitted", ...where };
  if (status.phase === "queued") {
    const position = status.position === undefined ? {} : { position: status.position };
    return { ...base, phase: "queued", reason: status.reason, ...position, ...where };
  }
  const node = status.phase === "running" ? status.node : status.node ?? before?.node;
  const at = node === undefined ? {} : { node };
  if (status.phase === "running") return { ...base, phase: "running", ...at, ...where };
  return { ...base, phase: "ended", reason: status.reason, ...at, ...where };
}

/** The latest status of a job, and a promise of the next one. */
class StatusFeed {
  latest: JobStatus | undefined;
  #next = Promise.withResolvers<void>();

  push(status: JobStatus): void {
    this.latest = status;
    this.#next.resolve();
    this.#next = Promise.withResolvers();
  }

  get next(): Promise<"status"> {
    return this.#next.promise.then(() => "status" as const);
  }
}

/**
 * Submits a session's job and waits until its application printed a ready line. Fills in
 * the record's `job`, `submitted`, `unwatch` (the poller keeps watching the job for the
 * session's whole life), `host` and `answer`.
 *
 * @param launch the session
 * @param submission what its job is submitted with
 * @param parts the cluster
 * @throws {LaunchError} when the job is refused, waits too long, ends first or prints no
 *   ready line in time, or when the session is stopped meanwhile
 */
export async function runJob(
  launch: JobLaunch,
  submission: JobSubmission,
  parts: BatchParts,
): Promise<void> {
  const job = await submit(launch, submission, parts);
  if (launch.rec.halt.signal.aborted) throw stopped(launch);
  await awaitJobReady(launch, parts, job);
}

/**
 * Waits until a submitted job's application printed a ready line: for a new session, and for
 * one a previous launcher submitted. Watches the job for the session's whole life (`unwatch`
 * stops it) and fills in the record's `host` and `answer`.
 *
 * @param launch the job
 * @param parts the cluster
 * @param job the job, submitted
 * @throws {LaunchError} when the job waits too long, ends first or prints no ready line in
 *   time, or when the session is stopped meanwhile
 */
export async function awaitJobReady(
  launch: JobLaunch,
  parts: BatchParts,
  job: JobRef,
): Promise<void> {
  const { rec, app } = launch;
  const { ready: readyLine, follow } = followReadyLine(launch.follower, rec.logFile, app);
  const halted = whenAborted(rec.halt.signal);
  try {
    const feed = new StatusFeed();
    rec.unwatch = parts.poller.watch(job, (status) => {
      launch.onStatus(status);
      feed.push(status);
    });
    follow.drain().catch(() => {});
    const running = await untilRunning(launch, parts, job, feed, readyLine, halted);
    rec.host = await parts.hosts.host(running.node);
    launch.onStatus(running);
    const wait = timer(app.timeoutMs);
    let outcome: "ready" | "status" | "timeout" | "halted";
    do {
      outcome = await Promise.race([readyLine, feed.next, wait.promise, halted]);
      if (feed.latest?.phase === "ended" && outcome !== "ready") outcome = "status";
    } while (outcome === "status" && feed.latest?.phase !== "ended");
    wait.cancel();
    // A stop wins over what came with it (the cancelled job's end, or its ready line).
    if (outcome === "halted" || rec.halt.signal.aborted) throw stopped(launch);
    if (outcome === "timeout") throw noReadyLine(launch, running.node);
    if (outcome === "status") {
      throw endedFirst(launch.app, job, await settled(parts, feed.latest as EndedStatus));
    }
    rec.answer = launch.answer(rec.host);
  } finally {
    follow.close();
  }
}

/** Submits the job; the scheduler's refusal or absence is the launch's failure. */
async function submit(
  launch: JobLaunch,
  submission: JobSubmission,
  parts: BatchParts,
): Promise<JobRef> {
  const { rec, app } = launch;
  try {
    parts.prepareLog?.(rec.logFile);
  } catch (err) {
    throw new LaunchError(
      `the log of application "${app.name}" cannot be made: ${(err as Error).message}`,
      "spawn_error",
    );
  }
  const submitting = parts.system.submit({
    name: submission.name,
    argv: submission.argv,
    ...(app.dir === undefined ? {} : { cwd: app.dir }),
    outputFile: rec.logFile,
    env: app.env,
    baseEnv: submission.baseEnv,
    resources: submission.resources,
  });
  rec.submitted = submitting.catch(() => undefined);
  let job: JobRef;
  try {
    job = await submitting;
  } catch (err) {
    const what = `the job of application "${app.name}"`;
    if (err instanceof JobSubmitError) {
      throw new LaunchError(`Slurm refused ${what}: ${err.message}`, "spawn_error");
    }
    if (err instanceof BatchSystemUnavailableError) {
      throw new LaunchError(`Slurm cannot be reached to submit ${what}`, "spawn_error");
    }
    if (err instanceof JobSettingsError) {
      throw new LaunchError(`${what} cannot be submitted: ${err.message}`, "spawn_error");
    }
    throw err;
  }
  rec.job = jobInfo(job);
  launch.onStatus("submitted");
  return job;
}

/** Waits until the job runs: the poller says so, or the ready line shows it does. */
async function untilRunning(
  launch: JobLaunch,
  parts: BatchParts,
  job: JobRef,
  feed: StatusFeed,
  readyLine: Promise<"ready">,
  halted: Promise<"halted">,
): Promise<RunningStatus> {
  const wait = timer(launch.queueTimeoutMs);
  // The ready line shows the job runs: ask for its node once rather than wait for the poller.
  let shortcuts: Promise<"ready" | "halted">[] = [readyLine, halted];
  try {
    while (true) {
      if (launch.rec.halt.signal.aborted) throw stopped(launch);
      const status = feed.latest;
      if (status?.phase === "running") return status;
      if (status?.phase === "ended") {
        throw endedFirst(launch.app, job, await settled(parts, status));
      }
      const outcome = await Promise.race([feed.next, wait.promise, ...shortcuts]);
      if (outcome === "halted") throw stopped(launch);
      if (outcome === "timeout") throw queueTimeout(launch);
      // One poll for every job whose ready line came at about the same time.
      if (outcome === "ready") {
        shortcuts = [halted];
        await parts.poller.pollSoon();
      }
    }
  } finally {
    wait.cancel();
  }
}

/**
 * How a job that is ending ended: Slurm shows COMPLETING while it kills the job's processes,
 * and only then whether its command failed and with which code.
 *
 * @param parts the cluster
 * @param status what the scheduler said of the job last
 * @param timeoutMs how long to wait for the job to be gone
 * @returns its final status (the same one if it was final, or if waiting failed)
 */
export async function settled(
  parts: BatchParts,
  status: EndedStatus,
  timeoutMs = 10_000,
): Promise<EndedStatus> {
  if (status.outcome !== "ending") return status;
  return await cancelAndWait(parts.system, status.job, { timeoutMs }).catch(() => status);
}

function stopped(launch: JobLaunch): LaunchError {
  return stoppedError(launch.rec, launch.closing());
}

function queueTimeout(launch: JobLaunch): LaunchError {
  const { app, rec } = launch;
  const why = rec.job?.reason ? ` (${rec.job.reason})` : "";
  return new LaunchError(
    `application "${app.name}" waited ${launch.queueTimeoutMs / 1000} s in the Slurm queue ` +
      `without starting${why}; its job was cancelled`,
    "queue_timeout",
    null,
    null,
    { "retry-after": String(RETRY_AFTER_QUEUE) },
  );
}

function noReadyLine(launch: JobLaunch, node: string): LaunchError {
  const { app } = launch;
  const lines = readyLinesText(app);
  return new LaunchError(
    `application "${app.name}" printed no ready line (${lines}) within ${app.timeoutMs / 1000} s ` +
      `of starting on ${node} and was stopped`,
    "timeout",
  );
}

function endedFirst(app: AppConfig, job: JobRef, status: EndedStatus): LaunchError {
  const on = status.node ? ` on ${status.node}` : "";
  const message = `application "${app.name}": its job ${job.id}${on} ended before ` +
    `it was ready: ${status.reason}`;
  return status.outcome === "completed" || status.outcome === "failed"
    ? new LaunchError(message, "exited", status.exitCode ?? null)
    : new LaunchError(message, "job_ended");
}
