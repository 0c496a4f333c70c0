/**
 * The launcher's named errors and the one place that turns any of them into an HTTP answer.
 * Each error that reaches a client extends {@linkcode HttpError}, which carries its status and
 * headers, so the status of an error sits beside its class. Every error answer is JSON
 * `{"error": "..."}`: the real JavaScript clients fall back silently to a direct connection on
 * anything else.
 *
 * @module
 */

/**
 * An error answered over HTTP with its own status and headers, its message as the answer's
 * `error`: a client is told what is wrong.
 *
 * @example
 * ```ts
 * import { errorResponse, HttpError } from "./errors.ts";
 * const answer = errorResponse(new HttpError(418, "no coffee here"));
 * answer.status; // 418, body {"error":"no coffee here"}
 * ```
 */
export class HttpError extends Error {
  /** The answer's status. */
  readonly status: number;
  /** Headers the answer carries besides its content type. */
  readonly headers: Readonly<Record<string, string>>;

  /**
   * Makes the error.
   *
   * @param status the answer's status
   * @param message what is wrong, for the client
   * @param headers headers the answer carries
   */
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.headers = headers;
  }
}

/** The request cannot be served as sent (HTTP 400). */
export class BadRequestError extends HttpError {
  /**
   * Makes the error.
   *
   * @param message what is wrong with the request
   */
  constructor(message: string) {
    super(400, message);
    this.name = "BadRequestError";
  }
}

/** Why a launch failed. */
export type LaunchFailure =
  | "spawn_error"
  | "exited"
  | "timeout"
  | "stopped"
  | "map_error"
  | "state_error"
  | "queue_timeout"
  | "job_ended";

/**
 * The session's process could not start, exited before it was ready, or timed out; its batch
 * job waited too long in the queue or ended before it was ready (HTTP 503).
 */
export class LaunchError extends HttpError {
  /** Machine-readable outcome. */
  readonly reason: LaunchFailure;
  /** The process's exit code, when it exited. */
  readonly exitCode: number | null;
  /** The signal that ended the process, when one did. */
  readonly signal: string | null;
  /**
   * Makes the error.
   *
   * @param message what happened, for the client
   * @param reason machine-readable outcome
   * @param exitCode the process's exit code, when it exited
   * @param signal the signal that ended the process, when one did
   * @param headers headers the answer carries (`Retry-After`)
   */
  constructor(
    message: string,
    reason: LaunchFailure,
    exitCode: number | null = null,
    signal: string | null = null,
    headers: Record<string, string> = {},
  ) {
    super(503, message, headers);
    this.name = "LaunchError";
    this.reason = reason;
    this.exitCode = exitCode;
    this.signal = signal;
  }
}

/**
 * A token is needed, and the request has none or a wrong one (HTTP 401, with a
 * `WWW-Authenticate: Bearer` challenge for the realm).
 */
export class UnauthorizedError extends HttpError {
  /** The protection space: `pvw-launcher` (the REST API), `pvw-launcher dashboard`. */
  readonly realm: string;
  /** Whether the request sent no credentials or wrong ones. */
  readonly reason: "missing" | "invalid";
  /**
   * Makes the error.
   *
   * @param realm the protection space, in the challenge
   * @param reason whether the request sent no credentials or wrong ones
   * @param message what the client must send
   */
  constructor(realm: string, reason: "missing" | "invalid", message: string) {
    const invalid = reason === "invalid" ? ', error="invalid_token"' : "";
    super(401, message, { "www-authenticate": `Bearer realm="${realm}"${invalid}` });
    this.name = "UnauthorizedError";
    this.realm = realm;
    this.reason = reason;
  }
}

/**
 * Builds a JSON response.
 *
 * @param body what to answer, as JSON
 * @param status the answer's status
 * @param headers headers besides the content type
 * @returns the response
 */
export function jsonResponse(
  body: unknown,
  status = 200,
  headers: Readonly<Record<string, string>> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/**
 * Turns any thrown value into the JSON error answer: an {@linkcode HttpError} with its status,
 * headers and message; anything else as a 500 "internal error" (its message may hold paths
 * or worse).
 *
 * @param err what was thrown
 * @returns a `{"error": "..."}` response
 */
export function errorResponse(err: unknown): Response {
  if (err instanceof HttpError) {
    return jsonResponse({ error: err.message }, err.status, err.headers);
  }
  return jsonResponse({ error: "internal error" }, 500);
}

/**
 * What a client is told about an error: the message of an {@linkcode HttpError}, "internal
 * error" for anything else.
 *
 * @param err what was thrown
 * @returns the `error` text of the JSON answer {@linkcode errorResponse} gives
 */
export function publicMessage(err: unknown): string {
  return err instanceof HttpError ? err.message : "internal error";
}
