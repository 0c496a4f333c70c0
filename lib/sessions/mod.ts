/**
 * The session table and everything a session's life needs: launching (values, templates,
 * the ready line), the port pool, ids and secrets, adoption after a restart, the state file,
 * the answer a client gets, traffic counters, idle and lifetime limits, the session logs'
 * size cap, the placement of sessions on hosts, sessions that run as batch jobs (queued,
 * then starting on a node), and the progress of a start for clients that do not wait.
 *
 * @module
 */

export { randomToken } from "./ids.ts";
export { LineMatcher } from "./line_matcher.ts";
export { LogCap } from "./log_cap.ts";
export { type EndedListener, type LaunchOptions, SessionManager } from "./manager.ts";
export { PortPool } from "./port_pool.ts";
export { createPool, type SlotPool, SpreadPool } from "./placement.ts";
export { type ClusterParts } from "./batch_sessions.ts";
export type { PendingDescription, SessionDescription } from "./answer.ts";
export {
  type FailedEvent,
  Progress,
  type ProgressEvent,
  type ProgressListener,
  type QueuedEvent,
  type ReadyEvent,
  type StartingEvent,
} from "./progress.ts";
export {
  type JobInfo,
  type ProxyLookup,
  type ProxyTarget,
  type SessionInfo,
  type SessionStage,
  stageOf,
} from "./record.ts";
export { type StopReason } from "./stop_reasons.ts";
export { SessionTable } from "./table.ts";
export { resumeSessions } from "./resume.ts";
export { type KnownSessions, stopStraySessions, type StrayDeps } from "./strays.ts";
export { readState, type SavedSession, StateFile } from "./state_file.ts";
export { Traffic } from "./traffic.ts";
export { type WarmCounts, type WarmPoolOptions } from "./warm_pool.ts";
export {
  JobLimitError,
  NoCapacityError,
  ShuttingDownError,
  StopIncompleteError,
  UnknownApplicationError,
  UnknownSessionError,
} from "./errors.ts";
