import assert from "node:assert/strict";
import {
  COOKIE_NAME,
  CSRF_HEADER,
  DashboardAuth,
  isLoopbackAddress,
  readCookie,
} from "../lib/dashboard_auth.ts";
import { DashboardForbiddenError, DashboardUnauthorizedError } from "../lib/errors.ts";

const TOKEN = "admin-token-0123456789abcdef";
const LOCAL: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 50000 };

function cookieOf(setCookie: string): string {
  return setCookie.split(";")[0];
}

Deno.test("isLoopbackAddress() knows 127.0.0.0/8, ::1 and IPv4-mapped loopback only", () => {
  const cases: [string, boolean][] = [
    ["127.0.0.1", true],
    ["127.10.20.30", true],
    ["::1", true],
    ["::ffff:127.0.0.1", true],
    ["128.0.0.1", false],
    ["10.0.0.1", false],
    ["::", false],
    ["::ffff:10.0.0.1", false],
    ["127.0.0.1.evil", false],
    ["0.0.0.0", false],
  ];
  for (const [address, expected] of cases) {
    assert.equal(isLoopbackAddress(address), expected, address);
  }
});

Deno.test("readCookie() finds one cookie among several", () => {
  assert.equal(readCookie("a=1; pvw_dashboard=x.y; b=2", COOKIE_NAME), "x.y");
  assert.equal(readCookie("xpvw_dashboard=1", COOKIE_NAME), undefined);
  assert.equal(readCookie(null, COOKIE_NAME), undefined);
});

Deno.test("DashboardAuth cookies expire, and do not open a launcher with another token", () => {
  let now = 1_000_000;
  const auth = new DashboardAuth({ token: TOKEN, path: "/_dashboard", now: () => now });
  const req = (cookie: string) =>
    new Request("http://launcher/_dashboard/api/state", { headers: { cookie } });
  const cookie = cookieOf(auth.loginCookie(new Request("http://launcher/_dashboard/login")));
  assert.equal(auth.check(req(cookie), undefined), "cookie");

  const other = new DashboardAuth({
    token: `${TOKEN}-rotated`,
    path: "/_dashboard",
    now: () => now,
  });
  assert.throws(() => other.check(req(cookie), undefined), DashboardUnauthorizedError);

  const [expires, mac] = cookie.split("=")[1].split(".");
  const later = `${COOKIE_NAME}=${Number(expires) + 3600}.${mac}`;
  assert.throws(() => auth.check(req(later), undefined), DashboardUnauthorizedError, "tampered");

  now += 12 * 3600 * 1000;
  assert.throws(() => auth.check(req(cookie), undefined), DashboardUnauthorizedError, "expired");
});

Deno.test("DashboardAuth marks the cookie Secure behind an HTTPS proxy", () => {
  const auth = new DashboardAuth({ token: TOKEN, path: "/ops" });
  const plain = auth.loginCookie(new Request("http://launcher/ops/login"));
  const proxied = auth.loginCookie(
    new Request("http://launcher/ops/login", { headers: { "x-forwarded-proto": "https" } }),
  );
  assert.match(plain, /; Path=\/ops; Max-Age=43200; HttpOnly; SameSite=Strict$/);
  assert.match(proxied, /; SameSite=Strict; Secure$/);
});

Deno.test("DashboardAuth.checkSameSite() refuses what another site may have sent", async (t) => {
  const auth = new DashboardAuth({ path: "/_dashboard" });
  const url = "http://127.0.0.1:8080/_dashboard/api/sessions/x/stop";
  const cases: [string, Record<string, string>, boolean][] = [
    ["the page's own fetch", { origin: "http://127.0.0.1:8080", [CSRF_HEADER]: "1" }, true],
    ["no header", { origin: "http://127.0.0.1:8080" }, false],
    ["another origin", { origin: "http://evil.example", [CSRF_HEADER]: "1" }, false],
    ["another site", { "sec-fetch-site": "cross-site", [CSRF_HEADER]: "1" }, false],
    ["a sibling site", { "sec-fetch-site": "same-site", [CSRF_HEADER]: "1" }, false],
    ["origin null", { origin: "null", [CSRF_HEADER]: "1" }, false],
    [
      "the page behind a reverse proxy",
      {
        origin: "https://viz.example.org",
        "x-forwarded-host": "viz.example.org",
        "x-forwarded-proto": "https",
        [CSRF_HEADER]: "1",
      },
      true,
    ],
  ];
  for (const [name, headers, allowed] of cases) {
    await t.step(name, () => {
      const req = new Request(url, { method: "POST", headers });
      if (allowed) auth.checkSameSite(req, "loopback", true);
      else assert.throws(() => auth.checkSameSite(req, "loopback", true), DashboardForbiddenError);
    });
  }
  await t.step("a bearer request needs no header: no browser adds one by itself", () => {
    auth.checkSameSite(new Request(url, { method: "POST" }), "bearer", true);
  });
});

Deno.test("DashboardAuth without a token serves loopback clients that name a loopback host", async (t) => {
  const auth = new DashboardAuth({ path: "/_dashboard" });
  const cases: [string, string, Deno.NetAddr | undefined, Record<string, string>, boolean][] = [
    ["127.0.0.1", "http://127.0.0.1:8080/", LOCAL, {}, true],
    ["localhost", "http://localhost:8080/", LOCAL, {}, true],
    ["::1", "http://[::1]:8080/", { ...LOCAL, hostname: "::1" }, {}, true],
    ["a remote client", "http://10.0.0.2:8080/", { ...LOCAL, hostname: "10.0.0.9" }, {}, false],
    ["no address", "http://127.0.0.1:8080/", undefined, {}, false],
    [
      "relayed by a proxy",
      "http://127.0.0.1:8080/",
      LOCAL,
      { "x-forwarded-for": "1.2.3.4" },
      false,
    ],
    ["relayed (Forwarded)", "http://127.0.0.1:8080/", LOCAL, { forwarded: "for=1.2.3.4" }, false],
    ["DNS rebinding", "http://evil.example:8080/", LOCAL, {}, false],
  ];
  for (const [name, url, remote, headers, allowed] of cases) {
    await t.step(name, () => {
      const req = new Request(url, { headers });
      if (allowed) assert.equal(auth.check(req, remote), "loopback");
      else assert.throws(() => auth.check(req, remote), DashboardForbiddenError);
    });
  }
});
