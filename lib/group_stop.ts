/**
 * Stopping a session's whole process tree: SIGTERM to its process group, a grace period,
 * SIGKILL, then waiting until no process of the group is left.
 *
 * @module
 */

import type { ProcessHandle, Spawner } from "./process.ts";
import { timer } from "./session_record.ts";

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
  spawner.signalGroup(proc.pid, "SIGTERM");
  if (await waitGone(spawner, proc, times.graceMs)) return "terminated";
  spawner.signalGroup(proc.pid, "SIGKILL");
  return await waitGone(spawner, proc, times.killWaitMs) ? "killed" : "survived";
}

/**
 * Waits until no process of the group runs, or `ms` have passed. The leader's exit event
 * comes at once for a child of this launcher; an adopted leader, and grandchildren, send
 * none, so the group is also looked at again, backing off up to 50 ms.
 */
async function waitGone(spawner: Spawner, proc: ProcessHandle, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  for (let pause = 1;; pause = Math.min(pause * 2, 50)) {
    if (!spawner.groupAlive(proc.pid)) return true;
    const left = deadline - performance.now();
    if (left <= 0) return false;
    const wait = timer(Math.min(pause, left));
    await Promise.race([wait.promise, proc.exited]);
    wait.cancel();
  }
}
