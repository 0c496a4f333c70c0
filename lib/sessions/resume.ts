/**
 * Taking over, at start, the sessions the previous launcher left running: its state file is
 * read (a damaged one set aside and said loudly), the sessions it names adopted, and what was
 * found logged.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { MapFile } from "../os/mod.ts";
import type { SessionManager } from "./manager.ts";
import { readState, type SavedSession } from "./state_file.ts";
import { stopStraySessions, type StrayDeps } from "./strays.ts";

const logger = () => getLogger(["pvw-launcher"]);

/**
 * Takes over the sessions the previous launcher left running, as its state file names them,
 * and says what it found; without a ready one, empties the map file the previous launcher left. Then
 * stops, and waits for, every session the state file did not name whose processes still
 * write to its log: no client knows them.
 *
 * @param sessions the new launcher's sessions
 * @param files the state file's path, and the map file
 * @param strays finds and stops the sessions no state entry names @default none looked for
 * @returns false when the state file cannot be read (the launcher must not start: a process
 *   it names could be left running unmanaged)
 */
export async function resumeSessions(
  sessions: Pick<SessionManager, "adopt" | "list" | "warmProcesses">,
  files: { stateFile: string; map?: Pick<MapFile, "clear"> },
  strays?: StrayDeps,
): Promise<boolean> {
  const log = logger();
  let saved: SavedSession[];
  try {
    saved = await previousSessions(files.stateFile);
  } catch (err) {
    log.error("cannot read the state file {file}: {error}", {
      file: files.stateFile,
      error: String(err),
    });
    return false;
  }
  const { adopted, stopped: unfinished, dropped } = await sessions.adopt(saved);
  if (saved.length) log.info("adopted {adopted} sessions, dropped {dropped}", { adopted, dropped });
  if (unfinished) {
    log.warn("stopping {unfinished} sessions that were still starting", { unfinished });
  }
  // Without a ready session adopted, nothing rewrote the map the previous launcher left (a
  // Slurm job still queued has no line): empty it. A failure is logged and retried by the
  // map file itself; /healthz says so meanwhile.
  if (!sessions.list().some((s) => s.state === "ready")) await files.map?.clear().catch(() => {});
  if (strays) {
    const all = [...sessions.list(), ...sessions.warmProcesses()];
    const pgids = all.flatMap((s) => s.pid === undefined ? [] : [s.pid]);
    await stopStraySessions({ pgids, ids: new Set(all.map((s) => s.id)) }, strays);
  }
  return true;
}

/** Reads the previous launcher's state file; a damaged one is set aside and said loudly. */
async function previousSessions(stateFile: string): Promise<SavedSession[]> {
  const { sessions, skipped, damage } = await readState(stateFile);
  if (skipped) {
    logger().warn("{skipped} malformed entries of the state file were left out", { skipped });
  }
  if (damage) {
    logger().error(
      "the state file {file} is damaged ({reason}): it was set aside as {setAside} and kept. " +
        "{recovered} sessions were read from it; {lost} could not be (a session still running " +
        "that no entry names is found by its log, and stopped)",
      {
        file: stateFile,
        ...damage,
        recovered: sessions.length,
        lost: damage.unreadable === 1 ? "1 entry" : `${damage.unreadable} entries`,
      },
    );
  }
  return sessions;
}
