/**
 * Named error classes of the launcher and the single place that turns any of them into an
 * HTTP answer. Every error answer is JSON `{"error": "..."}`: the real JavaScript clients
 * fall back silently to a direct connection on anything else.
 *
 * @module
 */

/** A location in a config file, 1-based. */
export interface SourceLocation {
  /** Path of the config file. */
  file: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
}

/** One problem found in a config file. */
export interface ConfigProblem extends SourceLocation {
  /** `error` stops the launcher from starting; `warning` is only reported. */
  severity: "error" | "warning";
  /** Key path of the offending value, such as `applications.loader.cmd[2]`; empty for the root. */
  path: string;
  /** What is wrong and, where it helps, what to write instead. */
  message: string;
}

/** Formats a problem as `file:line:column: severity: path: message`. */
export function formatProblem(p: ConfigProblem): string {
  const where = p.path ? `${p.path}: ` : "";
  return `${p.file}:${p.line}:${p.column}: ${p.severity}: ${where}${p.message}`;
}

/** The config file cannot be used; {@linkcode ConfigError.problems} lists every problem found. */
export class ConfigError extends Error {
  /** Every problem, errors and warnings, in file order. */
  readonly problems: ConfigProblem[];
  /** Path of the config file. */
  readonly file: string;
  /** Line of the first error. */
  readonly line: number;
  /** Column of the first error. */
  readonly column: number;

  /**
   * Makes the error.
   *
   * @param problems every problem found; at least one has severity `error`
   */
  constructor(problems: ConfigProblem[]) {
    const errors = problems.filter((p) => p.severity === "error");
    const first = errors[0] ?? problems[0];
    super(
      errors.length === 1
        ? formatProblem(first)
        : `${errors.length} errors in ${first?.file}:\n${errors.map(formatProblem).join("\n")}`,
    );
    this.name = "ConfigError";
    this.problems = problems;
    this.file = first?.file ?? "";
    this.line = first?.line ?? 0;
    this.column = first?.column ?? 0;
  }
}

/** The request cannot be served as sent (HTTP 400). */
export class BadRequestError extends Error {
  /**
   * Makes the error.
   *
   * @param message what is wrong with the request
   */
  constructor(message: string) {
    super(message);
    this.name = "BadRequestError";
  }
}

/** The request body is larger than allowed (HTTP 413). */
export class PayloadTooLargeError extends Error {
  /** The largest accepted body, in bytes. */
  readonly limit: number;
  /**
   * Makes the error.
   *
   * @param limit the largest accepted body, in bytes
   */
  constructor(limit: number) {
    super(`request body is larger than ${limit} bytes`);
    this.limit = limit;
    this.name = "PayloadTooLargeError";
  }
}

/** The request body did not arrive in time (HTTP 408). */
export class RequestTimeoutError extends Error {
  /**
   * Makes the error.
   *
   * @param seconds how long the body was waited for
   */
  constructor(seconds: number) {
    super(`the request body did not arrive within ${seconds} s`);
    this.name = "RequestTimeoutError";
  }
}

/** The POSTed `application` is missing or not configured (HTTP 400). */
export class UnknownApplicationError extends BadRequestError {
  /** What the client asked for, or undefined when it named none. */
  readonly application: string | undefined;
  /** The configured application names. */
  readonly known: string[];
  /**
   * Makes the error.
   *
   * @param application what the client asked for, or undefined when it named none
   * @param known the configured application names
   */
  constructor(application: string | undefined, known: string[]) {
    super(
      application === undefined
        ? `the request names no "application"; known applications: ${known.join(", ")}`
        : `unknown application "${application}"; known applications: ${known.join(", ")}`,
    );
    this.name = "UnknownApplicationError";
    this.application = application;
    this.known = known;
  }
}

/** A template names a variable that has no value (HTTP 400). */
export class MissingVariableError extends BadRequestError {
  /** The variable without a value. */
  readonly variable: string;
  /** What was being rendered. */
  readonly where: string;
  /**
   * Makes the error.
   *
   * @param variable the variable without a value
   * @param where what was being rendered, such as `application "loader"`
   */
  constructor(variable: string, where: string) {
    super(`${where} needs a value for "${variable}", and the request gave none`);
    this.name = "MissingVariableError";
    this.variable = variable;
    this.where = where;
  }
}

/** No session can start now: no free port or `max_session` reached (HTTP 503, retry later). */
export class NoCapacityError extends Error {
  /** Seconds a client should wait before it tries again. */
  readonly retryAfterSeconds: number;
  /**
   * Makes the error.
   *
   * @param message which limit was reached
   * @param retryAfterSeconds the `Retry-After` answered
   */
  constructor(message: string, retryAfterSeconds = 5) {
    super(message);
    this.name = "NoCapacityError";
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Why a launch failed. */
export type LaunchFailure =
  | "spawn_error"
  | "exited"
  | "timeout"
  | "stopped"
  | "map_error"
  | "state_error";

/** The session's process could not start, exited before it was ready, or timed out (HTTP 503). */
export class LaunchError extends Error {
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
   */
  constructor(
    message: string,
    reason: LaunchFailure,
    exitCode: number | null = null,
    signal: string | null = null,
  ) {
    super(message);
    this.name = "LaunchError";
    this.reason = reason;
    this.exitCode = exitCode;
    this.signal = signal;
  }
}

/** No session has that id (HTTP 404). */
export class UnknownSessionError extends Error {
  /** The id that was asked for. */
  readonly id: string;
  /**
   * Makes the error.
   *
   * @param id the id that was asked for
   */
  constructor(id: string) {
    super(`no session with id "${id}"`);
    this.name = "UnknownSessionError";
    this.id = id;
  }
}

/**
 * A session was stopped, or taken out of the table, but not everything its stop promises
 * happened: its map line could not be removed yet, or its processes could not be signalled
 * (HTTP 500, with what did happen).
 */
export class StopIncompleteError extends Error {
  /** The session's id. */
  readonly id: string;
  /**
   * Makes the error.
   *
   * @param id the session's id
   * @param message what happened and what did not, for the client
   */
  constructor(id: string, message: string) {
    super(message);
    this.name = "StopIncompleteError";
    this.id = id;
  }
}

/** No route matches the path (HTTP 404). */
export class NotFoundError extends Error {
  /** The request path. */
  readonly path: string;
  /**
   * Makes the error.
   *
   * @param path the request path
   */
  constructor(path: string) {
    super(`nothing at ${path}`);
    this.name = "NotFoundError";
    this.path = path;
  }
}

/** A route matches the path but not the method (HTTP 405). */
export class MethodNotAllowedError extends Error {
  /** The request method. */
  readonly method: string;
  /** The methods the path accepts. */
  readonly allow: string[];
  /**
   * Makes the error.
   *
   * @param method the request method
   * @param allow the methods the path accepts
   */
  constructor(method: string, allow: string[]) {
    super(`method ${method} is not allowed here; use ${allow.join(", ")}`);
    this.name = "MethodNotAllowedError";
    this.method = method;
    this.allow = allow;
  }
}

/** The launcher is shutting down and takes no new sessions (HTTP 503). */
export class ShuttingDownError extends Error {
  /** Makes the error. */
  constructor() {
    super("the launcher is shutting down");
    this.name = "ShuttingDownError";
  }
}

/** A web page from an origin that may not use the REST API sent the request (HTTP 403). */
export class ForbiddenOriginError extends Error {
  /** The request's `Origin` header, as sent. */
  readonly origin: string;
  /**
   * Makes the error.
   *
   * @param origin the request's `Origin` header, as sent
   */
  constructor(origin: string) {
    const shown = origin.length > 200 ? `${origin.slice(0, 200)}...` : origin;
    super(
      `pages from origin ${JSON.stringify(shown)} may not use this launcher; ` +
        "its admin can list the origin in allowed_origins",
    );
    this.name = "ForbiddenOriginError";
    this.origin = origin;
  }
}

/** The REST API needs the `api_token`, and the request has none or a wrong one (HTTP 401). */
export class UnauthorizedError extends Error {
  /** Whether the request sent no bearer token or a wrong one. */
  readonly reason: "missing" | "invalid";
  /**
   * Makes the error.
   *
   * @param reason whether the request sent no bearer token or a wrong one
   */
  constructor(reason: "missing" | "invalid") {
    super(
      reason === "missing"
        ? "this launcher needs an Authorization: Bearer <token> header"
        : "the bearer token is not valid",
    );
    this.name = "UnauthorizedError";
    this.reason = reason;
  }
}

/** The client sent more launch requests than `rate_limit` allows (HTTP 429). */
export class RateLimitedError extends Error {
  /** Whole seconds, at least 1, until the client may try again. */
  readonly retryAfterSeconds: number;
  /**
   * Makes the error.
   *
   * @param retryAfterSeconds whole seconds, at least 1, until the client may try again
   */
  constructor(retryAfterSeconds: number) {
    super(`too many launch requests from this client; try again in ${retryAfterSeconds} s`);
    this.name = "RateLimitedError";
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The dashboard needs `admin_token`, and the request has none or a wrong one (HTTP 401). */
export class DashboardUnauthorizedError extends Error {
  /** Whether the request sent no credentials or wrong ones. */
  readonly reason: "missing" | "invalid";
  /**
   * Makes the error.
   *
   * @param reason whether the request sent no credentials or wrong ones
   */
  constructor(reason: "missing" | "invalid") {
    super(
      reason === "missing"
        ? "the dashboard needs the admin token: log in, or send Authorization: Bearer <admin_token>"
        : "the admin token is not valid",
    );
    this.name = "DashboardUnauthorizedError";
    this.reason = reason;
  }
}

/** The dashboard refuses the request whatever its credentials (HTTP 403). */
export class DashboardForbiddenError extends Error {
  /** Why: a request that another site (or another origin) may have made the browser send. */
  readonly reason: "cross_site";
  /**
   * Makes the error.
   *
   * @param reason a cross-site (or cross-origin) request
   */
  constructor(reason: "cross_site") {
    super("the dashboard refuses requests made by other sites");
    this.name = "DashboardForbiddenError";
    this.reason = reason;
  }
}

/** Builds a JSON response. */
export function jsonResponse(
  body: unknown,
  status = 200,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/**
 * Maps any thrown value to the JSON error answer: the one place where errors meet HTTP.
 *
 * @param err what was thrown
 * @returns a `{"error": "..."}` response with the status that fits the error
 */
export function errorResponse(err: unknown): Response {
  if (err instanceof PayloadTooLargeError) return jsonResponse({ error: err.message }, 413);
  if (err instanceof BadRequestError) return jsonResponse({ error: err.message }, 400);
  if (err instanceof RequestTimeoutError) {
    return jsonResponse({ error: err.message }, 408, { connection: "close" });
  }
  if (err instanceof UnknownSessionError || err instanceof NotFoundError) {
    return jsonResponse({ error: err.message }, 404);
  }
  if (err instanceof MethodNotAllowedError) {
    return jsonResponse({ error: err.message }, 405, { allow: err.allow.join(", ") });
  }
  if (err instanceof NoCapacityError) {
    return jsonResponse({ error: err.message }, 503, {
      "retry-after": String(err.retryAfterSeconds),
    });
  }
  if (err instanceof ForbiddenOriginError) return jsonResponse({ error: err.message }, 403);
  if (err instanceof UnauthorizedError) {
    const challenge = err.reason === "invalid"
      ? 'Bearer realm="pvw-launcher", error="invalid_token"'
      : 'Bearer realm="pvw-launcher"';
    return jsonResponse({ error: err.message }, 401, { "www-authenticate": challenge });
  }
  if (err instanceof RateLimitedError) {
    return jsonResponse({ error: err.message }, 429, {
      "retry-after": String(err.retryAfterSeconds),
    });
  }
  if (err instanceof DashboardUnauthorizedError) {
    return jsonResponse({ error: err.message }, 401, {
      "www-authenticate": err.reason === "invalid"
        ? 'Bearer realm="pvw-launcher dashboard", error="invalid_token"'
        : 'Bearer realm="pvw-launcher dashboard"',
    });
  }
  if (err instanceof DashboardForbiddenError) return jsonResponse({ error: err.message }, 403);
  if (err instanceof LaunchError || err instanceof ShuttingDownError) {
    return jsonResponse({ error: err.message }, 503);
  }
  if (err instanceof StopIncompleteError) return jsonResponse({ error: err.message }, 500);
  return jsonResponse({ error: "internal error" }, 500);
}

/**
 * What a client is told about an error: its message when it is one of the launcher's named
 * errors, "internal error" for anything else (whose message may hold paths or worse).
 *
 * @param err what was thrown
 * @returns the `error` text of the JSON answer {@linkcode errorResponse} gives
 */
export function publicMessage(err: unknown): string {
  const named = err instanceof StopIncompleteError ||
    (err instanceof Error && errorResponse(err).status !== 500);
  return named ? (err as Error).message : "internal error";
}
