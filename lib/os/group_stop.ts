/**
 * Stopping a session's whole process tree: SIGTERM to its process group, a grace period,
 * SIGKILL, then waiting until no process of the group is left.
 *
 * @module
 */

import type { ProcessHandle, Spawner } from "./process.ts";
import { timer } from "./timer.ts";

/** How long each phase may take. */
export interface StopTimes {
  /** Between SIGTERM and SIGKILL, in ms. */
  graceMs: number;
  /** After SIGKILL, before giving up, in ms. */
  killWaitMs: number;
}

/** How the group went. */
export type StopOutcome = "gone" | "terminated" | "killed" | "survived";

/**
 * Stops a process group and waits for it to be gone.
 *
 * @param spawner signals and looks at process groups
 * @param proc the group's leader
 * @param times grace period and how long to wait after SIGKILL
 * @returns `gone` (nothing was left to stop), `terminated` (SIGTERM sufficed), `killed`
 *   (SIGKILL was needed) or `survived` (something outlived SIGKILL)
 */
export async function stopGroup(
  spawner: Spawner,
  proc: ProcessHandle,
  times: StopTimes,
): Promise<StopOutcome> {
  const exited = await Promise.race([proc.exited.then(() => true), Promise.resolve(false)]);
  if (exited && !spawner.groupAlive(proc.pid)) return "gone";
  spawner.signalGroup(proc.pid, "SIGTERM", proc.identity);
  if (await waitGone(spawner, proc, times.graceMs)) return "terminated";
  spawner.signalGroup(proc.pid, "SIGKILL", proc.identity);
  return await waitGone(spawner, proc, times.killWaitMs) ? "killed" : "survived";
}

/**
 * Waits for the leader's exit event, then until no process of its group is left, or `ms`
 * have passed. Grandchildren send no event when they go, so the group is looked at again,
 * backing off up to 50 ms; in the common case (no grandchild) the first look finds nothing.
 */
async function waitGone(spawner: Spawner, proc: ProcessHandle, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  const wait = timer(ms);
  const outcome = await Promise.race([proc.exited, wait.promise]);
  wait.cancel();
  if (outcome === "timeout") return false;
  for (let pause = 1; spawner.groupAlive(proc.pid); pause = Math.min(pause * 2, 50)) {
    const left = deadline - performance.now();
    if (left <= 0) return false;
    await timer(Math.min(pause, left)).promise;
  }
  return true;
}
