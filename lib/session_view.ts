/**
 * What a client is answered about its session. The spec format answers the POSTed config
 * plus `id`, `sessionURL` and `secret`; the wslink format answers what the wslink launcher
 * does (`id`, `sessionURL`, `secret`, `sessionManagerURL` when sent, the `fields` and the
 * `sessionData`). No answer ever holds the command line, the properties or another
 * session's data.
 *
 * @module
 */

import type { LauncherConfig } from "./config_types.ts";

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
  /** The client's values after sanitizing. */
  client: Record<string, string>;
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
  const own = { id: facts.id, sessionURL: facts.sessionUrl, secret: facts.secret };
  if (config.format === "spec") return { ...facts.body, ...own };
  const known: Record<string, unknown> = {
    ...facts.client,
    host: facts.host,
    port: facts.port,
    ...facts.sessionData,
  };
  const answer: Record<string, unknown> = { ...own };
  if (typeof facts.body.sessionManagerURL === "string") {
    answer.sessionManagerURL = facts.body.sessionManagerURL;
  }
  for (const field of config.fields) {
    if (Object.hasOwn(known, field) && !(field in own)) answer[field] = known[field];
  }
  return { ...answer, ...facts.sessionData, ...own };
}
