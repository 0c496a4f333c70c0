/**
 * The launcher's named errors and the one place that turns any of them into an HTTP answer,
 * JSON `{"error": "..."}`. Every other folder may import this one; it imports none.
 *
 * @module
 */

export {
  BadRequestError,
  ConfigError,
  type ConfigProblem,
  DashboardForbiddenError,
  DashboardUnauthorizedError,
  errorResponse,
  ForbiddenOriginError,
  formatProblem,
  jsonResponse,
  LaunchError,
  MethodNotAllowedError,
  MissingVariableError,
  NoCapacityError,
  NotFoundError,
  PayloadTooLargeError,
  publicMessage,
  RateLimitedError,
  RequestTimeoutError,
  ShuttingDownError,
  StopIncompleteError,
  UnauthorizedError,
  UnknownApplicationError,
  UnknownSessionError,
} from "./errors.ts";
