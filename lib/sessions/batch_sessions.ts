/**
 * The sessions that run as batch jobs, as the session manager sees them: what their jobs are
 * submitted with (the session's command, its `slurm` settings rendered and held within the
 * admin's limits), what each status of a job means for its session (progress, the state
 * file, the end of a ready session whose job ended), and how one is stopped (the job
 * cancelled, and waited for until the scheduler says nothing of it is left).
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import {
  cancelAndWait,
  type ClusterSettings,
  type EndedStatus,
  JobNotGoneError,
  type JobRef,
  type JobResources,
  JobSettingsError,
  type JobStatus,
  resolveJobResources,
} from "../cluster/mod.ts";
import type { AppConfig } from "../config/mod.ts";
import { LaunchError } from "../errors/mod.ts";
import type { LogFollower } from "../os/mod.ts";
import {
  awaitJobReady,
  type BatchParts,
  jobInfo,
  type JobLaunch,
  runJob,
  settled,
} from "./batch_launch.ts";
import { JobLimitError } from "./errors.ts";
import type { Assigned, CheckedRequest, LaunchTemplates } from "./launch_templates.ts";
import type { SlotPool } from "./placement.ts";
import type { SessionRecord } from "./record.ts";
import type { StopReason } from "./stop_reasons.ts";

/** The cluster, as the session manager is given it. */
export interface ClusterParts extends BatchParts {
  /** The ports of the sessions that run as jobs (the cluster's `port_range`). */
  pool: SlotPool;
  /** The cluster's settings. */
  settings: ClusterSettings;
}

/** What the batch sessions need from the session manager. */
export interface BatchHooks {
  /** Whether the launcher is shutting down. */
  closing(): boolean;
  /** Saves the table (the state file); never rejects. */
  save(): Promise<void>;
  /** Ends a session. */
  end(rec: SessionRecord, reason: StopReason): Promise<void>;
}

/** How the batch sessions are made. */
export interface BatchSessionsOptions {
  /** The launch templates, for a session's command, answer and `slurm` values. */
  templates: LaunchTemplates;
  /** Follows session logs for the ready line. */
  follower: LogFollower;
  /** The environment a local session starts from. */
  baseEnv: Record<string, string>;
  /** The manager's side. */
  hooks: BatchHooks;
}

const logger = () => getLogger(["pvw-launcher", "sessions"]);

/** Starts, follows and stops the sessions that run as batch jobs. */
export class BatchSessions {
  readonly #parts: ClusterParts;
  readonly #options: BatchSessionsOptions;
  readonly #ending = new WeakSet<SessionRecord>();

  /**
   * Makes the batch side of a session manager.
   *
   * @param parts the cluster
   * @param options the templates, the log follower, the environment and the manager's side
   */
  constructor(parts: ClusterParts, options: BatchSessionsOptions) {
    this.#parts = parts;
    this.#options = options;
  }

  /** The cluster's scheduler, ports and settings. */
  get parts(): ClusterParts {
    return this.#parts;
  }

  /** The ports of the sessions that run as jobs. */
  get pool(): SlotPool {
    return this.#parts.pool;
  }

  /**
   * The name of a session's job.
   *
   * @param id the session id
   * @returns the job prefix and the id
   */
  jobName(id: string): string {
    return `${this.#parts.settings.jobPrefix}${id}`;
  }

  /** What a session's templates are given: the node is not known before the job runs. */
  #assigned(rec: SessionRecord): Assigned {
    // The app listens on all of the interfaces of whichever node it lands on.
    return { id: rec.id, host: "0.0.0.0", port: rec.port, secret: String(rec.answer.secret) };
  }

  /**
   * Submits a new session's job and waits until it is ready.
   *
   * @param rec the session, registered, with its port and secret
   * @param request its checked request
   * @throws {JobLimitError} when its rendered `slurm` values are malformed or beyond limits
   * @throws {LaunchError} when its job cannot start or be ready (see {@linkcode runJob})
   */
  async start(rec: SessionRecord, request: CheckedRequest): Promise<void> {
    const app = request.templates.app;
    const { templates, baseEnv } = this.#options;
    const assigned = this.#assigned(rec);
    const { argv } = templates.render(request, assigned);
    const resources = this.#resources(app, templates.renderer(request, assigned));
    const submission = { argv, resources, name: this.jobName(rec.id), baseEnv };
    await runJob(this.#launch(rec, request, assigned), submission, this.#parts);
  }

  /**
   * Follows the job of a session a previous launcher submitted until it is ready.
   *
   * @param rec the adopted session, with its job
   * @param request its request, checked again against today's config
   * @param job its job
   * @throws {LaunchError} when its job cannot be ready
   */
  async resume(rec: SessionRecord, request: CheckedRequest, job: JobRef): Promise<void> {
    const assigned = this.#assigned(rec);
    await awaitJobReady(this.#launch(rec, request, assigned), this.#parts, job);
  }

  #launch(rec: SessionRecord, request: CheckedRequest, assigned: Assigned): JobLaunch {
    const app = request.templates.app;
    return {
      rec,
      app,
      follower: this.#options.follower,
      queueTimeoutMs: app.queueTimeoutMs ?? this.#parts.settings.queueTimeoutMs,
      closing: () => this.#options.hooks.closing(),
      onStatus: (status) => this.status(rec, status),
      answer: (host) => this.#options.templates.render(request, { ...assigned, host }).answer,
    };
  }

  /** The job's resources, rendered and checked; a client beyond the limits gets a 400. */
  #resources(app: AppConfig, render: (text: string) => string): JobResources {
    try {
      return resolveJobResources(app.slurm!, render);
    } catch (err) {
      if (err instanceof JobSettingsError) throw new JobLimitError(app.name, err.key, err.detail);
      throw err;
    }
  }

  /**
   * Follows a ready session's job (an adopted one): its end ends the session.
   *
   * @param rec the session
   * @param job its job
   */
  watch(rec: SessionRecord, job: JobRef): void {
    rec.unwatch = this.#parts.poller.watch(job, (status) => this.status(rec, status));
  }

  /**
   * What a status of a session's job means for the session: its job information and
   * progress, the state file when the job's phase or node changed, and the end of a ready
   * session whose job ended.
   *
   * @param rec the session
   * @param status the job's status, or `submitted` right after its submission
   */
  status(rec: SessionRecord, status: JobStatus | "submitted"): void {
    const before = rec.job;
    if (status !== "submitted") rec.job = jobInfo(status.job, status, before);
    const job = rec.job!;
    if (status === "submitted" || job.phase !== before?.phase || job.node !== before?.node) {
      void this.#options.hooks.save();
    }
    if (job.phase === "queued") {
      rec.progress.emit({
        type: "queued",
        data: {
          id: rec.id,
          job: job.id,
          reason: job.reason ?? "",
          ...(job.position === undefined ? {} : { position: job.position }),
          ...(job.partition === undefined ? {} : { partition: job.partition }),
        },
      });
    } else if (job.phase === "running" && rec.host !== "") {
      const { id, host, port } = rec;
      rec.progress.emit({ type: "starting", data: { id, node: job.node, host, port } });
    } else if (status !== "submitted" && status.phase === "ended" && rec.state === "ready") {
      void this.#ended(rec, status);
    }
  }

  /**
   * A ready session's job ended: the session ends, saying how. Slurm shows COMPLETING while
   * it kills the job's processes, and only then how the job ended: that is waited for.
   */
  async #ended(rec: SessionRecord, status: EndedStatus): Promise<void> {
    if (this.#ending.has(rec)) return;
    this.#ending.add(rec);
    const final = await settled(this.#parts, status, this.#parts.settings.cancelTimeoutMs);
    rec.job = jobInfo(final.job, final, rec.job);
    const { id, node = "?", reason = "" } = rec.job;
    logger().warn("session {id}: its job {job} on {node} ended: {reason}", {
      id: rec.id,
      job: id,
      node,
      reason,
    });
    await this.#options.hooks.end(rec, "job_ended");
  }

  /**
   * Throws when a session's job ended while the session was being published.
   *
   * @param rec the session, published
   * @throws {LaunchError} when its job ended
   */
  checkRunning(rec: SessionRecord): void {
    if (rec.job?.phase !== "ended") return;
    throw new LaunchError(
      `application "${rec.application}": its job ${rec.job.id} ended right after it was ready: ` +
        `${rec.job.reason}`,
      "job_ended",
    );
  }

  /**
   * Stops a session's job: cancels it and waits until the scheduler says nothing of it is
   * left (or `cancel_timeout` passed).
   *
   * @param rec the session
   * @returns what could not be done, for the client; undefined when the job is gone
   */
  async cancel(rec: SessionRecord): Promise<string | undefined> {
    const job = await rec.submitted;
    if (!job) return undefined;
    const timeoutMs = this.#parts.settings.cancelTimeoutMs;
    try {
      const final = await cancelAndWait(this.#parts.system, job, { timeoutMs });
      rec.job = jobInfo(job, final, rec.job);
      return undefined;
    } catch (err) {
      const still = err instanceof JobNotGoneError ? err.message : String(err);
      logger().error("session {id}: its job {job} could not be stopped: {error}", {
        id: rec.id,
        job: job.id,
        error: still,
      });
      return `could not be stopped: its job ${job.id} is still there after ` +
        `${timeoutMs / 1000} s (${still}); it was taken out of the table`;
    } finally {
      rec.unwatch?.();
    }
  }

  /** Stops polling the scheduler. */
  async close(): Promise<void> {
    await this.#parts.poller.close();
  }
}
