/**
 * Taking over the sessions a previous launcher left running: each saved session whose process
 * still runs (same pid and start time, leading its own process group) gets its port back and
 * a record in the new table, even when today's config no longer has its application.
 *
 * A state file is trusted no further than it can be checked: an entry whose id could not be
 * a session's, whose log is not `<id>.log` in today's log folder or whose host:port is
 * outside today's resources is neither adopted nor signalled, since the proxy would connect
 * where the config never allowed, the dashboard would read another file, and a stop would
 * signal a group that is not a session's.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { join } from "node:path";
import type { LauncherConfig } from "../config/mod.ts";
import { looksLikeSessionId } from "./ids.ts";
import type { SlotPool } from "./placement.ts";
import type { ProcessHandle, Spawner } from "../os/mod.ts";
import { adoptedRecord, type SessionRecord } from "./record.ts";
import type { SavedProcessSession } from "./state_file.ts";

/** What adoption works with. */
export interface AdoptionDeps {
  /** Watches the processes. */
  spawner: Spawner;
  /** Today's port pool; adopted ports are reserved in it. */
  pool: SlotPool;
  /** Today's config. */
  config: LauncherConfig;
  /** The wall clock, ms since the epoch. */
  now: () => number;
  /** A monotonic clock in ms. */
  monotonic: () => number;
}

const logger = () => getLogger(["pvw-launcher", "sessions"]);

/**
 * Rebuilds the records of the saved sessions that still run; the others are dropped.
 *
 * @param saved the previous launcher's state file
 * @param deps the spawner, pool, config and clock
 * @returns a record per session still running, each with its `proc`: ready, or starting
 *   for one whose launch the previous launcher did not finish (the caller stops those)
 */
export function adoptRecords(saved: SavedProcessSession[], deps: AdoptionDeps): SessionRecord[] {
  const records: SessionRecord[] = [];
  for (const s of saved) {
    const refused = refusal(s, deps.config);
    if (refused) {
      logger().error(
        "state entry {id} is not adopted: {reason}; pid {pid} is not signalled for it (a " +
          "session of this log folder that runs is found by its log and stopped)",
        { id: shown(s.id), reason: refused, pid: s.pid },
      );
      continue;
    }
    const proc = deps.spawner.adopt(s.pid, s.identity);
    if (!proc) {
      logger().info(
        "session {id} ended while no launcher ran, or pid {pid} is another process now; dropped",
        { id: s.id, pid: s.pid },
      );
      continue;
    }
    records.push(adoptOne(s, proc, deps));
  }
  return records;
}

/** A value read from the state file, fit for a log line whatever it holds. */
function shown(text: string): string {
  return /^[\w./:-]{1,200}$/.test(text) ? text : JSON.stringify(text.slice(0, 200));
}

/** Why an entry cannot be one of today's sessions, or undefined when it can. */
function refusal(s: SavedProcessSession, config: LauncherConfig): string | undefined {
  if (!looksLikeSessionId(s.id)) return "its id is not a session id";
  if (!Number.isSafeInteger(s.pid) || s.pid <= 1) return `pid ${s.pid} is no session's`;
  if (s.logFile !== join(config.logDir, `${s.id}.log`)) {
    return `its log ${shown(s.logFile)} is not ${s.id}.log in the log folder`;
  }
  const inRange = config.resources.some((r) =>
    r.host === s.host && s.port >= r.first && s.port <= r.last
  );
  if (!inRange) return `${shown(s.host)}:${s.port} is outside the configured resources`;
  return undefined;
}

function adoptOne(s: SavedProcessSession, proc: ProcessHandle, deps: AdoptionDeps): SessionRecord {
  // Never the saved answer: it holds the client's values under names no filter can vet.
  const facts = { id: s.id, application: s.application, host: s.host, port: s.port, pid: s.pid };
  const app = Object.hasOwn(deps.config.apps, s.application)
    ? deps.config.apps[s.application]
    : undefined;
  const pooled = deps.pool.reserve(s.host, s.port);
  if (!pooled) {
    logger().warn("session {id}: another entry already holds {host}:{port}", facts);
  }
  if (s.state === "starting") {
    logger().warn(
      "session {id} of {application} was still starting when the previous launcher ended; " +
        "no client knows it: stopping pid {pid}",
      facts,
    );
  } else if (!app) {
    logger().warn(
      "session {id}: application {application} is no longer configured; it runs on until it ends",
      facts,
    );
  }
  if (s.state === "waiting") {
    logger().info("warm process {id} adopted: {application} on {host}:{port}, pid {pid}", facts);
  } else if (s.state !== "starting") {
    logger().info("session {id} adopted: {application} on {host}:{port}, pid {pid}", facts);
  }
  const state = s.state ?? "ready";
  return {
    ...adoptedRecord({
      saved: s,
      host: s.host,
      state,
      answer: s.state === "starting" ? {} : s.state === "waiting" ? { secret: s.secret } : s.answer,
      readyMs: s.state === "starting" ? undefined : s.readyMs,
      limits: app ?? deps.config,
      slot: { host: s.host, port: s.port, pooled },
    }, deps),
    ...(state === "waiting" ? { warm: true } : {}),
    pid: proc.pid,
    identity: s.identity,
    proc,
    spawned: Promise.resolve(proc),
  };
}
