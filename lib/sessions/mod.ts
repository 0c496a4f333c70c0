/**
 * The session table and everything a session's life needs: launching (values, templates,
 * the ready line), the port pool, ids and secrets, adoption after a restart, the state file,
 * the answer a client gets, traffic counters, idle and lifetime limits, and the session logs'
 * size cap.
 *
 * @module
 */

export { randomToken } from "./ids.ts";
export { LineMatcher } from "./line_matcher.ts";
export { LogCap } from "./log_cap.ts";
export { type EndedListener, SessionManager } from "./manager.ts";
export { PortPool } from "./port_pool.ts";
export { type ProxyLookup, type ProxyTarget, type SessionInfo } from "./record.ts";
export { type StopReason } from "./stop_reasons.ts";
export { SessionTable } from "./table.ts";
export { resumeSessions } from "./resume.ts";
export { type StrayDeps } from "./strays.ts";
export { readState, type SavedSession, StateFile } from "./state_file.ts";
export { Traffic } from "./traffic.ts";
export {
  NoCapacityError,
  ShuttingDownError,
  StopIncompleteError,
  UnknownApplicationError,
  UnknownSessionError,
} from "./errors.ts";
