/**
 * The HTTP layer's own errors: a request too large, too slow, for no route or the wrong
 * method, from a foreign origin, or over the rate limit; each answered with its own status
 * and headers (see {@linkcode HttpError}).
 *
 * @module
 */

import { HttpError } from "../errors/mod.ts";

/** The request body is larger than allowed (HTTP 413). */
export class PayloadTooLargeError extends HttpError {
  /** The largest accepted body, in bytes. */
  readonly limit: number;
  /**
   * Makes the error.
   *
   * @param limit the largest accepted body, in bytes
   */
  constructor(limit: number) {
    super(413, `request body is larger than ${limit} bytes`);
    this.name = "PayloadTooLargeError";
    this.limit = limit;
  }
}

/** The request body did not arrive in time (HTTP 408; the connection is closed). */
export class RequestTimeoutError extends HttpError {
  /**
   * Makes the error.
   *
   * @param seconds how long the body was waited for
   */
  constructor(seconds: number) {
    super(408, `the request body did not arrive within ${seconds} s`, { connection: "close" });
    this.name = "RequestTimeoutError";
  }
}

/** No route matches the path (HTTP 404). */
export class NotFoundError extends HttpError {
  /** The request path. */
  readonly path: string;
  /**
   * Makes the error.
   *
   * @param path the request path
   */
  constructor(path: string) {
    super(404, `nothing at ${path}`);
    this.name = "NotFoundError";
    this.path = path;
  }
}

/** A route matches the path but not the method (HTTP 405, with `Allow`). */
export class MethodNotAllowedError extends HttpError {
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
    super(405, `method ${method} is not allowed here; use ${allow.join(", ")}`, {
      allow: allow.join(", "),
    });
    this.name = "MethodNotAllowedError";
    this.method = method;
    this.allow = allow;
  }
}

/** A web page from an origin that may not use the REST API sent the request (HTTP 403). */
export class ForbiddenOriginError extends HttpError {
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
      403,
      `pages from origin ${JSON.stringify(shown)} may not use this launcher; ` +
        "its admin can list the origin in allowed_origins",
    );
    this.name = "ForbiddenOriginError";
    this.origin = origin;
  }
}

/** The client sent more launch requests than `rate_limit` allows (HTTP 429). */
export class RateLimitedError extends HttpError {
  /** Whole seconds, at least 1, until the client may try again. */
  readonly retryAfterSeconds: number;
  /**
   * Makes the error.
   *
   * @param retryAfterSeconds whole seconds, at least 1, until the client may try again
   */
  constructor(retryAfterSeconds: number) {
    super(
      429,
      `too many launch requests from this client; try again in ${retryAfterSeconds} s`,
      { "retry-after": String(retryAfterSeconds) },
    );
    this.name = "RateLimitedError";
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
