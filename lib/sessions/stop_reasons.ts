/**
 * Why a session ended, and how each reason reads in the log. Metrics count ends by these
 * names, and the dashboard stops sessions under its own.
 *
 * @module
 */

/** Why a session ended. */
export type StopReason =
  | "deleted"
  | "exited"
  | "launch_failed"
  | "idle"
  | "lifetime"
  | "shutdown"
  | "dashboard"
  | "interrupted"
  | "job_ended"
  | "evicted"
  | "surplus";

/** How each stop reason reads in the log. */
export const STOP_REASONS: Record<StopReason, string> = {
  deleted: "stopped by request",
  exited: "its process ended",
  launch_failed: "its launch failed",
  idle: "idle for longer than its idle_timeout",
  lifetime: "reached its max_lifetime",
  shutdown: "the launcher shut down",
  dashboard: "stopped from the dashboard",
  interrupted: "its launch was cut short by the launcher's end",
  job_ended: "its batch job ended",
  evicted: "a waiting warm process gave its place to a session",
  surplus: "a warm process no longer wanted (its application keeps fewer waiting)",
};
