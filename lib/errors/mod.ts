/**
 * The launcher's named errors and the one place that turns any of them into an HTTP answer,
 * JSON `{"error": "..."}`. Every other folder may import this one; it imports none.
 *
 * @module
 */

export {
  BadRequestError,
  errorResponse,
  HttpError,
  jsonResponse,
  LaunchError,
  type LaunchFailure,
  publicMessage,
  UnauthorizedError,
} from "./errors.ts";
