import assert from "node:assert/strict";
import { redact } from "../../lib/ops/redact.ts";

Deno.test("redact() masks the values of secret-like keys", async (t) => {
  const keys = [
    "secret",
    "clientSecret",
    "SECRET_KEY",
    "password",
    "dbPassword",
    "passwd",
    "token",
    "apiToken",
    "access_token",
    "authKey",
    "authkey",
    "AUTHKEY",
    "credentials",
    "awsCredential",
  ];
  for (const key of keys) {
    await t.step(key, () => {
      assert.deepEqual(redact({ [key]: "s3cr3t", id: "abc" }), { [key]: "***", id: "abc" });
    });
  }
  await t.step("whatever the value is", () => {
    const masked = redact({ secret: { nested: "s3cr3t" }, token: ["a", "b"], password: 42 });
    assert.deepEqual(masked, { secret: "***", token: "***", password: "***" });
  });
});

Deno.test("redact() masks secret-like keys at any depth, in objects and arrays", () => {
  const record = {
    session: { id: "abc", answer: { sessionURL: "ws://h/proxy/abc", secret: "s3cr3t" } },
    sessions: [{ id: "a", authKey: "k1" }, { id: "b", deep: [[{ token: "t" }]] }],
  };
  assert.deepEqual(redact(record), {
    session: { id: "abc", answer: { sessionURL: "ws://h/proxy/abc", secret: "***" } },
    sessions: [{ id: "a", authKey: "***" }, { id: "b", deep: [[{ token: "***" }]] }],
  });
});

Deno.test("redact() leaves everything else as it was, and its input untouched", async (t) => {
  const cases: [name: string, value: unknown][] = [
    ["a string", "secret"],
    ["a number", 42],
    ["null", null],
    ["undefined", undefined],
    ["a boolean", true],
    ["an array of secret-looking strings", ["secret", "token"]],
    ["ordinary keys", { id: "abc", port: 9001, host: "localhost", url: "/proxy/abc" }],
    ["keys near a sensitive word", { tok: "x", pass: "y", key: "z", auth: "w", pwd: "v" }],
    ["an empty object", {}],
  ];
  for (const [name, value] of cases) {
    await t.step(name, () => assert.deepEqual(redact(value), value));
  }
  await t.step(
    "a key merely containing a sensitive word is masked: it errs on the safe side",
    () => {
      assert.deepEqual(redact({ secretary: "x", tokens: 3 }), { secretary: "***", tokens: "***" });
    },
  );
  await t.step("the input is not modified", () => {
    const input = { a: { secret: "s3cr3t" } };
    redact(input);
    assert.deepEqual(input, { a: { secret: "s3cr3t" } });
  });
});
