/**
 * Taking over, at start, the sessions of the previous launcher's state file: local sessions
 * and warm processes by their processes (see `adoption.ts`), batch sessions by their jobs,
 * checked with the scheduler (see `batch_adoption.ts`). Adopted ready sessions get their map
 * lines back and are watched again; a warm process waits again, if its pool wants it; a local session that was still starting has no client and is stopped; a
 * batch session still queued or starting is followed until ready, as its client (told its id
 * with a 202) may follow its progress.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { JobRef } from "../cluster/mod.ts";
import type { LauncherConfig } from "../config/mod.ts";
import type { ExitStatus, SessionMap, Spawner } from "../os/mod.ts";
import { adoptRecords } from "./adoption.ts";
import { adoptJobs } from "./batch_adoption.ts";
import type { BatchSessions } from "./batch_sessions.ts";
import type { SlotPool } from "./placement.ts";
import type { SessionRecord } from "./record.ts";
import {
  isJobEntry,
  type SavedJobSession,
  type SavedProcessSession,
  type SavedSession,
} from "./state_file.ts";
import type { StopReason } from "./stop_reasons.ts";
import type { SessionTable } from "./table.ts";

/** What taking over works with: the session manager's parts and its hooks. */
export interface TakeoverContext {
  /** The table the adopted sessions join. */
  table: SessionTable;
  /** The local ports. */
  pool: SlotPool;
  /** Watches local processes. */
  spawner: Spawner;
  /** Today's config. */
  config: LauncherConfig;
  /** The map file, if the config names one. */
  map: SessionMap | undefined;
  /** The batch side, when the config has a cluster. */
  batch: BatchSessions | undefined;
  /** The wall clock, ms since the epoch. */
  now: () => number;
  /** A monotonic clock in ms. */
  monotonic: () => number;
  /** Takes an adopted warm process into its application's pool; false when it wants none. */
  adoptWaiting(rec: SessionRecord): boolean;
  /** Watches a ready session's idle and lifetime limits. */
  watchReady(rec: SessionRecord): void;
  /** Told when a local session's process exits. */
  onExit(rec: SessionRecord, status: ExitStatus): void;
  /** Follows a batch session that was not ready until it is. */
  resume(rec: SessionRecord, job: JobRef, saved: SavedJobSession): void;
  /** Ends a session. */
  end(rec: SessionRecord, reason: StopReason): Promise<void>;
  /** Saves the table; never rejects. */
  save(durable: boolean): Promise<void>;
}

const logger = () => getLogger(["pvw-launcher", "sessions"]);

/**
 * Takes over the saved sessions that still run.
 *
 * @param saved the state file's sessions not in the table yet
 * @param ctx the manager's parts and hooks
 * @returns how many were adopted (batch sessions still starting included), are being
 *   stopped (local sessions still starting), and were dropped
 */
export async function takeOver(
  saved: SavedSession[],
  ctx: TakeoverContext,
): Promise<{ adopted: number; stopped: number; dropped: number }> {
  const processes = saved.filter((s): s is SavedProcessSession => !isJobEntry(s));
  const records = adoptRecords(processes, ctx);
  const jobs = await adoptSavedJobs(saved.filter(isJobEntry), ctx);
  const ready = records.filter((r) => r.state === "ready");
  for (const rec of [...records, ...jobs.map((j) => j.rec)]) ctx.table.add(rec);
  for (const rec of ready) rec.proc!.exited.then((status) => ctx.onExit(rec, status));
  for (const rec of records.filter((r) => r.state === "waiting")) {
    if (!ctx.adoptWaiting(rec)) ctx.end(rec, "surplus");
    else rec.proc!.exited.then((status) => ctx.onExit(rec, status));
  }
  for (const { rec, job, saved: entry } of jobs) {
    if (rec.state === "ready") {
      ready.push(rec);
      ctx.batch!.watch(rec, job);
    } else ctx.resume(rec, job, entry);
  }
  for (const rec of ready) {
    rec.mapped = ctx.map !== undefined;
    ctx.watchReady(rec);
  }
  const interrupted = records.filter((r) => r.state === "starting");
  for (const rec of interrupted) ctx.end(rec, "interrupted");
  await Promise.all([
    ...ready.map((r) =>
      ctx.map?.set(r.id, `${r.host}:${r.port}`).catch((err) => {
        logger().error("cannot write the map file: {error}", { error: String(err) });
      })
    ),
    ctx.save(true),
  ]);
  const local = records.filter((r) => r.state === "ready").length;
  return {
    adopted: local + jobs.length,
    stopped: interrupted.length,
    dropped: saved.length - records.length - jobs.length,
  };
}

/** Checks the saved batch sessions with the scheduler; none without a cluster. */
async function adoptSavedJobs(saved: SavedJobSession[], ctx: TakeoverContext) {
  if (saved.length === 0) return [];
  if (!ctx.batch) {
    logger().error(
      "{count} saved sessions run as batch jobs, but the config has no cluster: they are " +
        "not adopted, and their jobs are left alone",
      { count: saved.length },
    );
    return [];
  }
  const { config } = ctx;
  return await adoptJobs(saved, {
    ...ctx.batch.parts,
    logDir: config.logDir,
    limits: (name) => Object.hasOwn(config.apps, name) ? config.apps[name] : config,
    now: ctx.now,
    monotonic: ctx.monotonic,
  });
}
