/**
 * The session table's errors, each answered with its own status (see
 * {@linkcode HttpError}).
 *
 * @module
 */

import { BadRequestError, HttpError } from "../errors/mod.ts";

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
    const listed = known.length > 0
      ? `known applications: ${known.join(", ")}`
      : "this launcher has no applications configured";
    super(
      application === undefined
        ? `the request names no "application"; ${listed}`
        : `unknown application "${application}"; ${listed}`,
    );
    this.name = "UnknownApplicationError";
    this.application = application;
    this.known = known;
  }
}

/** No session can start now: no free port or `max_session` reached (HTTP 503, retry later). */
export class NoCapacityError extends HttpError {
  /** Seconds a client should wait before it tries again. */
  readonly retryAfterSeconds: number;
  /**
   * Makes the error.
   *
   * @param message which limit was reached
   * @param retryAfterSeconds the `Retry-After` answered
   */
  constructor(message: string, retryAfterSeconds = 5) {
    super(503, message, { "retry-after": String(retryAfterSeconds) });
    this.name = "NoCapacityError";
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The launcher is shutting down and takes no new sessions (HTTP 503). */
export class ShuttingDownError extends HttpError {
  /** Makes the error. */
  constructor() {
    super(503, "the launcher is shutting down");
    this.name = "ShuttingDownError";
  }
}

/** No session has that id (HTTP 404). */
export class UnknownSessionError extends HttpError {
  /** The id that was asked for. */
  readonly id: string;
  /**
   * Makes the error.
   *
   * @param id the id that was asked for
   */
  constructor(id: string) {
    super(404, `no session with id "${id}"`);
    this.name = "UnknownSessionError";
    this.id = id;
  }
}

/**
 * A session was stopped, or taken out of the table, but not everything its stop promises
 * happened: its map line could not be removed yet, or its processes could not be signalled
 * (HTTP 500, with what did happen).
 */
export class StopIncompleteError extends HttpError {
  /** The session's id. */
  readonly id: string;
  /**
   * Makes the error.
   *
   * @param id the session's id
   * @param message what happened and what did not, for the client
   */
  constructor(id: string, message: string) {
    super(500, message);
    this.name = "StopIncompleteError";
    this.id = id;
  }
}

/**
 * A job's settings, rendered with the client's values, are malformed or beyond what the
 * admin allows (`slurm.max`, `slurm.choices`): HTTP 400, naming the key and the limit.
 */
export class JobLimitError extends BadRequestError {
  /** The `slurm` key at fault (`time`, `gpus`, `sbatch_args[1]`). */
  readonly key: string;
  /**
   * Makes the error.
   *
   * @param application the application asked for
   * @param key the `slurm` key at fault
   * @param detail what is wrong with it
   */
  constructor(application: string, key: string, detail: string) {
    super(`application "${application}": slurm.${key}: ${detail}`);
    this.name = "JobLimitError";
    this.key = key;
  }
}
