import assert from "node:assert/strict";
import { randomToken } from "../lib/ids.ts";

Deno.test("randomToken() is URL-safe base64 of the bytes asked for, and never starts with '-'", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 4000; i++) {
    const token = randomToken(16);
    assert.match(token, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    seen.add(token);
  }
  assert.equal(seen.size, 4000, "no repeats");
  assert.equal(randomToken(24).length, 32, "192 bits for secrets");
});
