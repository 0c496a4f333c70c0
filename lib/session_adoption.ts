/**
 * Taking over the sessions a previous launcher left running: each saved session whose process
 * still runs (same pid and start time) gets its port back and a record in the new table, even
 * when today's config no longer has its application or port range.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { LauncherConfig } from "./config_types.ts";
import type { PortPool } from "./port_pool.ts";
import type { ProcessHandle, Spawner } from "./process.ts";
import type { SessionRecord } from "./session_record.ts";
import type { SavedSession } from "./session_state.ts";
import { Traffic } from "./traffic.ts";

/** What adoption works with. */
export interface AdoptionDeps {
  /** Watches the processes. */
  spawner: Spawner;
  /** Today's port pool; adopted ports are reserved in it. */
  pool: PortPool;
  /** Today's config. */
  config: LauncherConfig;
  /** The wall clock, ms since the epoch. */
  now: () => number;
}

const logger = () => getLogger(["pvw-launcher", "sessions"]);

/**
 * Rebuilds the records of the saved sessions that still run; the others are dropped.
 *
 * @param saved the previous launcher's state file
 * @param deps the spawner, pool, config and clock
 * @returns ready records, one per session still running, each with its `proc`
 */
export function adoptRecords(saved: SavedSession[], deps: AdoptionDeps): SessionRecord[] {
  const records: SessionRecord[] = [];
  for (const s of saved) {
    const proc = deps.spawner.adopt(s.pid, s.identity);
    if (!proc) {
      logger().info("session {id} ended while no launcher ran; dropped", { id: s.id });
      continue;
    }
    records.push(adoptOne(s, proc, deps));
  }
  return records;
}

function adoptOne(s: SavedSession, proc: ProcessHandle, deps: AdoptionDeps): SessionRecord {
  // Never the saved answer: it holds the client's values under names no filter can vet.
  const facts = { id: s.id, application: s.application, host: s.host, port: s.port, pid: s.pid };
  const app = Object.hasOwn(deps.config.apps, s.application)
    ? deps.config.apps[s.application]
    : undefined;
  const pooled = deps.pool.reserve(s.host, s.port);
  if (!app) {
    logger().warn(
      "session {id}: application {application} is no longer configured; it runs on until it ends",
      facts,
    );
  }
  if (!pooled) {
    logger().warn(
      "session {id}: port {host}:{port} is outside today's resources; it runs on until it ends",
      facts,
    );
  }
  logger().info("session {id} adopted: {application} on {host}:{port}, pid {pid}", facts);
  return {
    id: s.id,
    application: s.application,
    host: s.host,
    port: s.port,
    pid: proc.pid,
    identity: s.identity,
    logFile: s.logFile,
    startedAt: s.startedAt,
    startedMono: performance.now(),
    readyMs: s.readyMs,
    state: "ready",
    answer: s.answer,
    traffic: new Traffic(deps.now),
    adopted: true,
    idleTimeoutMs: app ? app.idleTimeoutMs : deps.config.idleTimeoutMs,
    maxLifetimeMs: app ? app.maxLifetimeMs : deps.config.maxLifetimeMs,
    slot: { host: s.host, port: s.port, pooled },
    proc,
    spawned: Promise.resolve(proc),
  };
}
