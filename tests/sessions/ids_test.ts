import assert from "node:assert/strict";
import { randomId, randomToken, SESSION_ID_LENGTH } from "../../lib/sessions/ids.ts";

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

Deno.test("randomId() survives lower-casing: lower-case base32 of at least 128 bits", () => {
  assert.ok(SESSION_ID_LENGTH * 5 >= 128);
  const seen = new Set<string>();
  const counts = new Map<string, number>();
  const n = 4000;
  for (let i = 0; i < n; i++) {
    const id = randomId();
    assert.match(id, /^[a-z2-7]{26}$/);
    assert.equal(id.toLowerCase(), id);
    assert.equal(encodeURIComponent(id), id, "URL-safe as is");
    seen.add(id);
    for (const c of id) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  assert.equal(seen.size, n, "no repeats");
  // Every one of the 32 symbols turns up about equally often (each 1/32 of 104,000 draws).
  assert.equal(counts.size, 32);
  const expected = (n * SESSION_ID_LENGTH) / 32;
  for (const [c, k] of counts) {
    assert.ok(Math.abs(k - expected) < expected * 0.15, `${c} drawn ${k} times`);
  }
});
