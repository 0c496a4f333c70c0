/**
 * Stopping, at start, the sessions that no state file names: a launcher killed in the middle
 * of a burst of launches leaves processes it spawned but had not recorded yet, and a damaged
 * state file loses entries. A session's processes write to `<log folder>/<id>.log`, so the
 * processes that do are found in `/proc` ({@linkcode findLogWriterGroups}); the groups of
 * those that were not adopted belong to no client, and are stopped as any session is.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { LogWriterGroup, Spawner, StopTimes } from "../os/mod.ts";
import { stopGroup } from "../os/mod.ts";
import { looksLikeSessionId } from "./ids.ts";

/** What finding and stopping stray sessions works with. */
export interface StrayDeps {
  /** The process groups writing to files of the log folder, but for the excluded ones. */
  find: (exclude: ReadonlySet<number>) => LogWriterGroup[];
  /** Signals and watches process groups. */
  spawner: Spawner;
  /** The grace period between SIGTERM and SIGKILL, and how long to wait after SIGKILL. */
  times: StopTimes;
}

const logger = () => getLogger(["pvw-launcher", "sessions"]);

/** The sessions a launcher has at start: none of their processes is a stray's. */
export interface KnownSessions {
  /** The process groups of its local sessions and warm processes. */
  pgids: Iterable<number>;
  /** Their ids, and those of its Slurm sessions (whose processes it did not spawn). */
  ids: ReadonlySet<string>;
}

/**
 * Stops the process group of every session whose log is written to but which is not one of
 * the sessions known, and waits until they are gone. A group that runs in a Slurm job is the
 * job's: it is left alone (a job no state entry names is never touched).
 *
 * @param known the sessions the launcher has (adopted or stopping)
 * @param deps how to find and stop them
 * @returns how many groups were stopped, and how many outlived SIGKILL
 */
export async function stopStraySessions(
  known: KnownSessions,
  deps: StrayDeps,
): Promise<{ stopped: number; survived: number }> {
  const strays = deps.find(new Set(known.pgids)).filter((g) => {
    const id = g.name.endsWith(".log") ? g.name.slice(0, -4) : "";
    if (!looksLikeSessionId(id) || known.ids.has(id)) return false;
    if (g.job === undefined) return true;
    logger().info(
      "the log {name} is written by Slurm job {job}, which no session names: left alone",
      {
        name: g.name,
        job: g.job,
      },
    );
    return false;
  });
  if (strays.length === 0) return { stopped: 0, survived: 0 };
  logger().warn(
    "stopping {count} sessions that no state entry names (the previous launcher ended in the " +
      "middle of their launch, or its state file lost them)",
    { count: strays.length },
  );
  const outcomes = await Promise.all(strays.map((g) => stopStray(g, deps)));
  return {
    stopped: strays.length,
    survived: outcomes.filter((o) => o === "survived").length,
  };
}

async function stopStray(group: LogWriterGroup, deps: StrayDeps): Promise<string> {
  const facts = { id: group.name.slice(0, -4), pgid: group.pgid, count: group.pids.length };
  logger().warn("session {id}: stopping process group {pgid} ({count} writing its log)", facts);
  // Not this launcher's children: no exit event comes, the group is watched until it is gone.
  const handle = {
    pid: group.pgid,
    identity: group.identity,
    exited: Promise.resolve({ code: null, signal: null }),
  };
  let outcome;
  try {
    outcome = await stopGroup(deps.spawner, handle, deps.times);
  } catch (err) {
    logger().error("session {id}: cannot signal process group {pgid}: {error}", {
      ...facts,
      error: String(err),
    });
    return "survived";
  }
  if (outcome === "survived") {
    logger().error("process group {pgid} of session {id} survived SIGKILL", facts);
  }
  return outcome;
}
