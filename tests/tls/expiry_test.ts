import assert from "node:assert/strict";
import { EXPIRY_WARNING_DAYS, expiryOf } from "../../lib/tls/mod.ts";

const DAY = 86_400_000;
const NOW = new Date("2026-11-29T12:00:00Z");

Deno.test("expiryOf() counts the days left and warns from 14 days before the end", async (t) => {
  assert.equal(EXPIRY_WARNING_DAYS, 14);
  const cases = [
    {
      left: 90 * DAY,
      days: 90,
      warn: false,
      expired: false,
      says: /valid until 2027-02-27T12:00:00\.000Z \(90 days left\)/,
    },
    {
      left: 14 * DAY,
      days: 14,
      warn: false,
      expired: false,
      says: /valid until .* \(14 days left\)/,
    },
    {
      left: 14 * DAY - 1,
      days: 13,
      warn: true,
      expired: false,
      says: /expires in 13 days .*renew it, then send SIGHUP/,
    },
    { left: DAY + 1, days: 1, warn: true, expired: false, says: /expires in 1 day / },
    { left: 3600_000, days: 0, warn: true, expired: false, says: /expires in less than a day/ },
    { left: 0, days: 0, warn: true, expired: true, says: /expired on 2026-11-29T12:00:00\.000Z/ },
    { left: -2.5 * DAY, days: -3, warn: true, expired: true, says: /expired on/ },
  ]; // deno-fmt-ignore
  for (const c of cases) {
    await t.step(`${c.left / DAY} days left`, () => {
      const notAfter = new Date(NOW.getTime() + c.left);
      const e = expiryOf({ notAfter, names: ["viz.example.org"] }, NOW);
      assert.equal(e.daysLeft, c.days);
      assert.equal(e.warn, c.warn);
      assert.equal(e.expired, c.expired);
      assert.equal(e.expiresAtSeconds, Math.floor(notAfter.getTime() / 1000));
      assert.equal(e.notAfter, notAfter);
      assert.match(e.message, /^the TLS certificate for viz\.example\.org /);
      assert.match(e.message, c.says);
    });
  }
});

Deno.test("expiryOf() takes another warning period", () => {
  const notAfter = new Date(NOW.getTime() + 20 * DAY);
  assert.equal(expiryOf({ notAfter }, NOW).warn, false);
  assert.equal(expiryOf({ notAfter }, NOW, 30).warn, true);
  assert.match(expiryOf({ notAfter }, NOW, 30).message, /^the TLS certificate expires in 20 days/);
});
