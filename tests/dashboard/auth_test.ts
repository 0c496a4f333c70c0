import assert from "node:assert/strict";
import {
  COOKIE_NAME,
  CSRF_HEADER,
  DashboardAuth,
  DashboardForbiddenError,
  readCookie,
  readCookies,
} from "../../lib/dashboard/auth.ts";
import { UnauthorizedError } from "../../lib/errors/mod.ts";

const TOKEN = "admin-token-0123456789abcdef";

function cookieOf(setCookie: string): string {
  return setCookie.split(";")[0];
}

Deno.test("readCookie() finds one cookie among several", () => {
  assert.equal(readCookie("a=1; pvw_dashboard=x.y; b=2", COOKIE_NAME), "x.y");
  assert.equal(readCookie("xpvw_dashboard=1", COOKIE_NAME), undefined);
  assert.equal(readCookie(null, COOKIE_NAME), undefined);
});

Deno.test("readCookies() finds every cookie of a name, in order", () => {
  assert.deepEqual(readCookies("pvw_dashboard=a; b=2; pvw_dashboard=c", COOKIE_NAME), ["a", "c"]);
  assert.deepEqual(readCookies("b=2", COOKIE_NAME), []);
});

Deno.test("DashboardAuth cookies expire, and do not open a launcher with another token", () => {
  let now = 1_000_000;
  const auth = new DashboardAuth({ token: TOKEN, path: "/_dashboard", now: () => now });
  const req = (cookie: string) =>
    new Request("http://launcher/_dashboard/api/state", { headers: { cookie } });
  const cookie = cookieOf(auth.loginCookie(new Request("http://launcher/_dashboard/login")));
  assert.equal(auth.check(req(cookie)), "cookie");

  const other = new DashboardAuth({
    token: `${TOKEN}-rotated`,
    path: "/_dashboard",
    now: () => now,
  });
  assert.throws(() => other.check(req(cookie)), UnauthorizedError);

  const [expires, mac] = cookie.split("=")[1].split(".");
  const later = `${COOKIE_NAME}=${Number(expires) + 3600}.${mac}`;
  assert.throws(() => auth.check(req(later)), UnauthorizedError, "tampered");

  now += 12 * 3600 * 1000;
  assert.throws(() => auth.check(req(cookie)), UnauthorizedError, "expired");
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

Deno.test("DashboardAuth marks the cookie Secure over the launcher's own TLS, whose URL says http:", () => {
  const auth = new DashboardAuth({ token: TOKEN, path: "/ops" });
  const req = new Request("http://launcher/ops/login");
  assert.match(auth.loginCookie(req, true), /; SameSite=Strict; Secure$/);
  assert.match(auth.logoutCookie(req, true), /; Max-Age=0; HttpOnly; SameSite=Strict; Secure$/);
});

Deno.test("DashboardAuth.checkSameSite() refuses what another site may have sent", async (t) => {
  const auth = new DashboardAuth({ token: TOKEN, path: "/_dashboard" });
  const url = "http://127.0.0.1:8080/_dashboard/api/sessions/x/stop";
  const cases: [string, Record<string, string>, boolean][] = [
    ["the page's own fetch", { origin: "http://127.0.0.1:8080", [CSRF_HEADER]: "1" }, true],
    ["no header", { origin: "http://127.0.0.1:8080" }, false],
    ["another origin", { origin: "http://evil.example", [CSRF_HEADER]: "1" }, false],
    ["another site", { "sec-fetch-site": "cross-site", [CSRF_HEADER]: "1" }, false],
    ["a sibling site", { "sec-fetch-site": "same-site", [CSRF_HEADER]: "1" }, false],
    ["origin null", { origin: "null", [CSRF_HEADER]: "1" }, false],
    [
      "a page of another port of the host (a session's, beside a dashboard_listen)",
      { origin: "http://127.0.0.1:9000", "sec-fetch-site": "same-site", [CSRF_HEADER]: "1" },
      false,
    ],
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
      if (allowed) auth.checkSameSite(req, "cookie", true);
      else assert.throws(() => auth.checkSameSite(req, "cookie", true), DashboardForbiddenError);
    });
  }
  await t.step("over the launcher's own TLS, its https page is its own, its http one not", () => {
    const from = (origin: string) =>
      new Request(url, { method: "POST", headers: { origin, [CSRF_HEADER]: "1" } });
    auth.checkSameSite(from("https://127.0.0.1:8080"), "cookie", true, true);
    assert.throws(
      () => auth.checkSameSite(from("http://127.0.0.1:8080"), "cookie", true, true),
      DashboardForbiddenError,
    );
    assert.throws(
      () => auth.checkSameSite(from("https://127.0.0.1:8080"), "cookie", true),
      DashboardForbiddenError,
    );
  });
  await t.step("a bearer request needs no header: no browser adds one by itself", () => {
    auth.checkSameSite(new Request(url, { method: "POST" }), "bearer", true);
  });
});

Deno.test("DashboardAuth takes no address for a credential: loopback without a token gets 401", async (t) => {
  const auth = new DashboardAuth({ token: TOKEN, path: "/_dashboard" });
  const cases: [string, string, Record<string, string>][] = [
    ["127.0.0.1", "http://127.0.0.1:8080/_dashboard/api/state", {}],
    ["localhost", "http://localhost:8080/_dashboard/api/state", {}],
    ["::1", "http://[::1]:8080/_dashboard/api/state", {}],
    ["through a relay", "http://127.0.0.1:8080/_dashboard/api/state", {
      "x-forwarded-for": "1.2.3.4",
    }],
  ];
  for (const [name, url, headers] of cases) {
    await t.step(name, () => {
      assert.throws(
        () => auth.check(new Request(url, { headers })),
        (err) => err instanceof UnauthorizedError && err.reason === "missing",
      );
    });
  }
});

Deno.test("DashboardAuth: a cookie of the same name beside the valid one does not log the admin out", () => {
  const auth = new DashboardAuth({ token: TOKEN, path: "/_dashboard" });
  const valid = cookieOf(auth.loginCookie(new Request("http://launcher/_dashboard/login")));
  const req = (cookie: string) =>
    new Request("http://launcher/_dashboard/api/state", { headers: { cookie } });
  for (const jar of [`${COOKIE_NAME}=1.x; ${valid}`, `${valid}; ${COOKIE_NAME}=`, valid]) {
    assert.equal(auth.check(req(jar)), "cookie", jar);
  }
  assert.throws(
    () => auth.check(req(`${COOKIE_NAME}=1.x; ${COOKIE_NAME}=2.y`)),
    UnauthorizedError,
  );
});
