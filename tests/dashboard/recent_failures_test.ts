import assert from "node:assert/strict";
import { BadRequestError, LaunchError } from "../../lib/errors/mod.ts";
import { NoCapacityError } from "../../lib/sessions/mod.ts";
import { RecentFailures } from "../../lib/dashboard/recent_failures.ts";

Deno.test("RecentFailures keeps the newest failures first, up to its capacity", () => {
  let now = 1000;
  const failures = new RecentFailures({ capacity: 3, now: () => now++ });
  for (let i = 0; i < 5; i++) {
    failures.launched(`app${i}`, "timeout", undefined, new LaunchError(`late ${i}`, "timeout"));
  }
  assert.deepEqual(failures.list(), [
    { at: 1004, application: "app4", outcome: "timeout", error: "late 4" },
    { at: 1003, application: "app3", outcome: "timeout", error: "late 3" },
    { at: 1002, application: "app2", outcome: "timeout", error: "late 2" },
  ]);
  assert.equal(failures.version, 5);
});

Deno.test("RecentFailures ignores launches that became ready and bad requests", () => {
  const failures = new RecentFailures();
  failures.launched("viz", "ready", 0.5);
  failures.launched("", "bad_request", undefined, new BadRequestError("body is not JSON"));
  assert.deepEqual(failures.list(), []);
  assert.equal(failures.version, 0);
});

Deno.test("RecentFailures records what the client was told, never an unexpected error's text", () => {
  const failures = new RecentFailures({ maxMessageLength: 20 });
  failures.launched("viz", "no_capacity", undefined, new NoCapacityError("all 2 taken"));
  failures.launched("viz", "error", undefined, new Error("EACCES /srv/secret/path --authKey x"));
  failures.launched("viz", "exited", undefined, new LaunchError("x".repeat(50), "exited"));
  failures.launched("viz", "stopped");
  assert.deepEqual(failures.list().map((f) => f.error), [
    "stopped",
    `${"x".repeat(19)}…`,
    "internal error",
    "all 2 taken",
  ]);
});

Deno.test("RecentFailures refuses a capacity below 1", () => {
  assert.throws(() => new RecentFailures({ capacity: 0 }), RangeError);
  assert.throws(() => new RecentFailures({ capacity: 1.5 }), RangeError);
});

Deno.test("RecentFailures.jobEnded() records a session whose batch job ended, with how", () => {
  const failures = new RecentFailures({ now: () => 42, maxMessageLength: 40 });
  failures.jobEnded("viz", "job 41 on n1 was killed at its time limit (1:00)");
  assert.deepEqual(failures.list(), [{
    at: 42,
    application: "viz",
    outcome: "job_ended",
    error: "job 41 on n1 was killed at its time lim…",
  }]);
});
