/**
 * What a client is answered about its session. The spec format answers the POSTed config
 * plus `id`, `sessionURL` and `secret`; the wslink format answers what the wslink launcher
 * does: `id`, `sessionURL`, `sessionManagerURL` when sent, the keys named in `fields` (client
 * keys as sent, or as a sanitize rule replaced them; `host`, `port`, the `sessionData`), and
 * `secret` only when the app's cmd uses it or `fields` names it: a wslink client sends the
 * answered secret, and an app started without `--authKey` expects wslink's default one. No
 * answer ever holds the command line, the properties or another session's data. A GET adds
 * what the proxy saw of the session and when it will be stopped.
 *
 * @module
 */

import type { LauncherConfig } from "../config/mod.ts";
import type { Deadlines } from "./lifetime.ts";
import { type SessionInfo, stageOf } from "./record.ts";
import type { TrafficSnapshot } from "./traffic.ts";

/** The parts of a session an answer is made of. */
export interface SessionFacts {
  /** The session id. */
  id: string;
  /** The URL the client connects to. */
  sessionUrl: string;
  /** The secret the session's process expects. */
  secret: string;
  /** The client's POSTed body. */
  body: Record<string, unknown>;
  /** Client values a sanitize rule replaced, by key. */
  replaced: Record<string, string>;
  /** Whether the app's cmd uses `secret` (the wslink format answers it only then). */
  usesSecret: boolean;
  /** Host of the session's process. */
  host: string;
  /** Port of the session's process. */
  port: number;
  /** Rendered wslink session data. */
  sessionData: Record<string, string>;
}

/**
 * Builds the JSON object answered for a session.
 *
 * @param config the launcher config (its format and `fields`)
 * @param facts the session
 * @returns the answer body
 */
export function sessionAnswer(
  config: LauncherConfig,
  facts: SessionFacts,
): Record<string, unknown> {
  const { id, sessionUrl: sessionURL, secret } = facts;
  if (config.format === "spec") return { ...facts.body, id, sessionURL, secret };
  // What the wslink launcher keeps of a session, in its order of precedence.
  const known: Record<string, unknown> = {
    ...scalars(facts.body),
    ...facts.replaced,
    host: facts.host,
    port: facts.port,
    ...facts.sessionData,
  };
  const answer: Record<string, unknown> = {};
  for (const field of config.fields) {
    if (Object.hasOwn(known, field) && field !== "cmd") answer[field] = known[field];
  }
  if (typeof facts.body.sessionManagerURL === "string") {
    answer.sessionManagerURL = facts.body.sessionManagerURL;
  }
  if (facts.usesSecret || config.fields.includes("secret")) answer.secret = secret;
  return { ...answer, id, sessionURL };
}

/** The string, number and boolean values of the client's body: those templates can use. */
function scalars(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
      out[key] = value;
    }
  }
  return out;
}

/** What a GET answers: the session's answer, its proxy counters and its deadlines. */
export type SessionDescription = Record<string, unknown> & {
  /** What the proxy saw of the session. */
  proxy: TrafficSnapshot;
  /** When it will be stopped, as ISO dates, or null. */
  stops: { idleAt: string | null; lifetimeAt: string | null };
};

/**
 * What a GET answers about a ready session: its answer, what the proxy saw of it, and when it
 * will be stopped.
 *
 * @param session the session
 * @param deadlines when it will be stopped for idleness or age
 * @returns the answer plus `proxy` (connections, bytes each way, last activity) and `stops`
 */
export function describeSession(session: SessionInfo, deadlines: Deadlines): SessionDescription {
  const iso = (t: number | null) => t === null ? null : new Date(t).toISOString();
  return {
    ...session.answer,
    proxy: session.traffic.snapshot(),
    stops: { idleAt: iso(deadlines.idleStopAt), lifetimeAt: iso(deadlines.lifetimeEndsAt) },
    ...(session.job ? { state: "ready", job: { ...session.job } } : {}),
  };
}

/** What a GET answers about a session that is not ready yet. */
export interface PendingDescription {
  /** The session id. */
  id: string;
  /** Its application. */
  application: string;
  /** `queued` (a batch job waiting) or `starting`. */
  state: string;
  /** Its batch job (id, phase, queue reason and position, node), if it runs as one. */
  job?: Record<string, unknown>;
}

/**
 * What a GET answers about a session whose id was given out before it was ready: where it
 * is in its start, never its answer (which it does not have yet).
 *
 * @param session the session
 * @returns its id, application, state and job
 */
export function describePending(session: SessionInfo): PendingDescription {
  return {
    id: session.id,
    application: session.application,
    state: stageOf(session),
    ...(session.job ? { job: { ...session.job } } : {}),
  };
}
