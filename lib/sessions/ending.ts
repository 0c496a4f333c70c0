/**
 * How a session ends, whatever ends it (a DELETE, its process exiting, a limit, the
 * launcher's shutdown): its map line is removed at once, so that Apache stops routing it;
 * its whole process group is stopped; it leaves the table; its port is freed once no map
 * line can route to it any more; the state file forgets it. What could not be done is kept
 * on the record, for the client that asked for the stop.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { type SessionMap, type Spawner, stopGroup, type StopTimes } from "../os/mod.ts";
import type { SlotPool } from "./placement.ts";
import type { SessionInfo, SessionRecord } from "./record.ts";
import { STOP_REASONS, type StopReason } from "./stop_reasons.ts";
import type { SessionTable } from "./table.ts";

/** What ending a session works with. */
export interface EndingDeps {
  /** The table it leaves. */
  table: SessionTable;
  /** The port pool its port goes back to. */
  pool: SlotPool;
  /** The pool of the ports of sessions that run as batch jobs. */
  jobPool?: SlotPool;
  /** Cancels a batch session's job and waits until it is gone; says what could not be done. */
  cancelJob?: (rec: SessionRecord) => Promise<string | undefined>;
  /** Signals its process group. */
  spawner: Spawner;
  /** The map file, if the config names one. */
  map: SessionMap | undefined;
  /** The grace period between SIGTERM and SIGKILL, and how long to wait after SIGKILL. */
  times: StopTimes;
  /** Saves the table (the state file); never rejects. */
  save: () => Promise<void>;
  /** Told once the session has ended and its port is free (or held for the map file). */
  ended: (session: SessionInfo, reason: StopReason) => void;
}

const logger = () => getLogger(["pvw-launcher", "sessions"]);

/**
 * Ends a session; a session that is ending already is not ended twice.
 *
 * @param rec the session
 * @param reason why
 * @param deps what ending works with
 * @returns settles once it has ended (never rejects: what failed is `rec.stopProblem`)
 */
export function endSession(
  rec: SessionRecord,
  reason: StopReason,
  deps: EndingDeps,
): Promise<void> {
  rec.ending ??= (async () => {
    const wasReady = rec.state === "ready";
    rec.state = "stopping";
    rec.halt.abort();
    // Asked at once, so that Apache stops routing the session while it is being stopped.
    const unmapped = rec.mapped ? unmap(rec, deps.map) : undefined;
    const unsignalled = await terminate(rec, deps);
    deps.table.remove(rec);
    const unmapProblem = await unmapped;
    releasePort(rec, deps, unmapProblem !== undefined);
    rec.stopProblem = unsignalled ?? unmapProblem;
    // Recorded since its spawn (or its job's submission): the state file must forget it now.
    if (rec.pid !== undefined || rec.batch) await deps.save();
    // A launch that failed says so itself; any other end of a session is worth a line.
    if (wasReady || rec.adopted || reason !== "launch_failed") {
      logger().info("session {id} ended: {reason}", { id: rec.id, reason: STOP_REASONS[reason] });
    }
    deps.ended(rec, reason);
  })();
  return rec.ending;
}

/** Removes a session's map line; says what went wrong when it could not. */
async function unmap(rec: SessionRecord, map: SessionMap | undefined): Promise<string | undefined> {
  try {
    await map?.delete(rec.id);
    return undefined;
  } catch (err) {
    logger().error(
      "session {id}: cannot remove its map line: {error}; its port is held until the map " +
        "file can be written",
      { id: rec.id, error: String(err) },
    );
    return `was stopped, but the map file could not be updated (${brief(err)}); the ` +
      "launcher retries until it can, and holds the session's port meanwhile";
  }
}

/** Frees the session's port, once no map line Apache reads can route to it any more. */
function releasePort(rec: SessionRecord, deps: EndingDeps, routed: boolean): void {
  if (!rec.slot.pooled) return;
  const pool = rec.batch && deps.jobPool ? deps.jobPool : deps.pool;
  if (!routed || !deps.map) {
    pool.release(rec.slot);
    return;
  }
  // A new session on this port would get the old session's users.
  deps.map.settled?.().then(() => pool.release(rec.slot));
}

/** Stops the session's process group; says what went wrong when it could not. */
async function terminate(rec: SessionRecord, deps: EndingDeps): Promise<string | undefined> {
  if (rec.batch) return await deps.cancelJob?.(rec);
  const proc = await rec.spawned;
  if (!proc) return undefined;
  let outcome;
  try {
    outcome = await stopGroup(deps.spawner, proc, deps.times);
  } catch (err) {
    // Left "stopping" it would hold its port for ever; its processes may run on.
    logger().error(
      "session {id}: cannot signal process group {pid}: {error}; it is taken out of the " +
        "table, and its processes may still run",
      { id: rec.id, pid: proc.pid, error: String(err) },
    );
    return `could not be stopped: its processes could not be signalled (${brief(err)}); ` +
      "it was taken out of the table";
  }
  if (outcome === "killed") {
    logger().warn("session {id} did not stop within its grace period; it was killed", {
      id: rec.id,
    });
  } else if (outcome === "survived") {
    logger().error("process group {pid} of session {id} survived SIGKILL", {
      pid: proc.pid,
      id: rec.id,
    });
  }
  return undefined;
}

/** An error's gist for a client: its first clause, without the paths system errors name. */
function brief(err: unknown): string {
  return String((err as Error)?.message ?? err).split(":")[0];
}
