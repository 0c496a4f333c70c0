import assert from "node:assert/strict";
import { MissingVariableError } from "../../lib/config/mod.ts";
import { DashboardForbiddenError } from "../../lib/dashboard/mod.ts";
import {
  BadRequestError,
  errorResponse,
  HttpError,
  LaunchError,
  publicMessage,
  UnauthorizedError,
} from "../../lib/errors/errors.ts";
import {
  ForbiddenOriginError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
  RequestTimeoutError,
} from "../../lib/http/mod.ts";
import {
  NoCapacityError,
  ShuttingDownError,
  StopIncompleteError,
  UnknownApplicationError,
  UnknownSessionError,
} from "../../lib/sessions/mod.ts";

const JSON_TYPE = "application/json; charset=utf-8";

Deno.test("errorResponse() answers every named error with its status, headers and message", async (t) => {
  const cases: [Error, number, Record<string, string>][] = [
    [new BadRequestError("bad"), 400, {}],
    [new UnknownApplicationError("nope", ["viz"]), 400, {}],
    [new UnknownApplicationError(undefined, ["viz"]), 400, {}],
    [new MissingVariableError("node", 'application "viz"'), 400, {}],
    [new UnauthorizedError("pvw-launcher", "missing", "send a token"), 401, {
      "www-authenticate": 'Bearer realm="pvw-launcher"',
    }],
    [new UnauthorizedError("pvw-launcher", "invalid", "wrong token"), 401, {
      "www-authenticate": 'Bearer realm="pvw-launcher", error="invalid_token"',
    }],
    [new UnauthorizedError("pvw-launcher dashboard", "invalid", "wrong token"), 401, {
      "www-authenticate": 'Bearer realm="pvw-launcher dashboard", error="invalid_token"',
    }],
    [new ForbiddenOriginError("https://evil.example"), 403, {}],
    [new DashboardForbiddenError(), 403, {}],
    [new UnknownSessionError("abc"), 404, {}],
    [new NotFoundError("/nowhere"), 404, {}],
    [new MethodNotAllowedError("PUT", ["GET", "DELETE"]), 405, { allow: "GET, DELETE" }],
    [new RequestTimeoutError(10), 408, { connection: "close" }],
    [new PayloadTooLargeError(1024), 413, {}],
    [new RateLimitedError(7), 429, { "retry-after": "7" }],
    [new StopIncompleteError("abc", "session abc was stopped, but ..."), 500, {}],
    [new NoCapacityError("all ports taken"), 503, { "retry-after": "5" }],
    [new NoCapacityError("all ports taken", 30), 503, { "retry-after": "30" }],
    [new LaunchError("it exited", "exited", 3), 503, {}],
    [new ShuttingDownError(), 503, {}],
  ];
  for (const [err, status, headers] of cases) {
    await t.step(`${err.name}: ${status}`, async () => {
      assert.ok(err instanceof HttpError);
      const answer = errorResponse(err);
      assert.equal(answer.status, status);
      assert.deepEqual(Object.fromEntries(answer.headers), {
        "content-type": JSON_TYPE,
        ...headers,
      });
      assert.deepEqual(await answer.json(), { error: err.message });
      assert.equal(publicMessage(err), err.message);
    });
  }
});

Deno.test("errorResponse() answers anything else as a 500 that hides its message", async (t) => {
  for (const thrown of [new Error("/etc/secret: no such file"), new TypeError("x"), "text", 42]) {
    await t.step(String(thrown), async () => {
      const answer = errorResponse(thrown);
      assert.equal(answer.status, 500);
      assert.deepEqual(await answer.json(), { error: "internal error" });
      assert.equal(publicMessage(thrown), "internal error");
    });
  }
});

Deno.test("a named error keeps its class name and its fields", () => {
  const err = new LaunchError("it was killed", "exited", null, "SIGKILL");
  assert.deepEqual([err.name, err.reason, err.exitCode, err.signal], [
    "LaunchError",
    "exited",
    null,
    "SIGKILL",
  ]);
  const unauthorized = new UnauthorizedError("pvw-launcher dashboard", "missing", "log in");
  assert.deepEqual([unauthorized.name, unauthorized.realm, unauthorized.reason], [
    "UnauthorizedError",
    "pvw-launcher dashboard",
    "missing",
  ]);
  assert.match(String(new NoCapacityError("full")), /^NoCapacityError: full$/);
});
