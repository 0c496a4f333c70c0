/**
 * Who may reach the dashboard of a real launcher: never anyone without a token, however local
 * the connection looks; and a session's pages can neither set its cookie nor, on a listener
 * of its own, make an admin's browser act on it.
 */

import assert from "node:assert/strict";
import { ECHO_APP, type Launcher, specConfig, startLauncher } from "./harness.ts";

const READY = ["sh", "-c", "echo Starting factory; exec sleep 600"];
const TOKEN = "admin-token-0123456789abcdef";

/**
 * A TCP relay on this machine, as `socat TCP-LISTEN:... TCP:launcher` or `ssh -L` would be: to
 * the launcher, every request through it comes from 127.0.0.1 and carries no forwarded header.
 */
function relay(port: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const pipes: Promise<unknown>[] = [];
  const conns: Deno.Conn[] = [];
  const loop = (async () => {
    for await (const client of listener) {
      const upstream = await Deno.connect({ hostname: "127.0.0.1", port });
      conns.push(client, upstream);
      pipes.push(
        client.readable.pipeTo(upstream.writable).catch(() => {}),
        upstream.readable.pipeTo(client.writable).catch(() => {}),
      );
    }
  })();
  return {
    base: `http://127.0.0.1:${listener.addr.port}`,
    async close() {
      listener.close();
      await loop.catch(() => {});
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // closed by its pipe
        }
      }
      await Promise.all(pipes);
    },
  };
}

async function call(url: string, init: RequestInit = {}) {
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  try {
    const res = await fetch(url, { redirect: "manual", client, ...init });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text };
  } finally {
    client.close();
  }
}

async function cleanup(launcher: Launcher): Promise<void> {
  await launcher.stop();
  await Deno.remove(launcher.dir, { recursive: true });
}

Deno.test("without admin_token the dashboard answers no one without the token it made, even through a local relay", async (t) => {
  const launcher = await startLauncher((dir) => specConfig(dir, { viz: { cmd: READY } }));
  const local = relay(Number(new URL(launcher.base).port));
  try {
    const paths = [
      "/_dashboard/api/state",
      "/_dashboard/api/events",
      "/_dashboard/api/sessions/x/log",
    ];
    await t.step("directly from 127.0.0.1, and through the relay: 401", async () => {
      for (const base of [launcher.base, local.base]) {
        for (const path of paths) {
          const res = await call(base + path);
          assert.equal(res.status, 401, `${base}${path}: ${res.text}`);
          assert.match(JSON.parse(res.text).error, /needs the admin token/);
        }
        const page = await call(`${base}/_dashboard/`);
        assert.equal(page.status, 303);
        assert.equal(page.headers.get("location"), "/_dashboard/login");
        const stop = await call(`${base}/_dashboard/api/sessions/x/stop`, {
          method: "POST",
          headers: { "x-pvw-dashboard": "1" },
        });
        assert.equal(stop.status, 401);
      }
    });
    await t.step(
      "the log gives a login URL with a token made at start, which logs in",
      async () => {
        const m = await launcher.waitForLog(
          /dashboard: log in at (http:\/\/\S+\/_dashboard\/login\?token=([A-Za-z0-9_-]{32,}))/,
        );
        const [, url, token] = m;
        assert.equal(new URL(url).port, new URL(launcher.base).port);
        const login = await call(url.replace(/^http:\/\/[^/]+/, launcher.base));
        assert.equal(login.status, 303);
        assert.equal(login.headers.get("location"), "/_dashboard/");
        assert.equal(login.headers.get("referrer-policy"), "no-referrer");
        const cookie = login.headers.get("set-cookie")!.split(";")[0];
        assert.match(cookie, /^pvw_dashboard=\d+\./);
        assert(!cookie.includes(token), "the cookie never holds the token");
        for (const base of [launcher.base, local.base]) {
          const state = await call(`${base}/_dashboard/api/state`, { headers: { cookie } });
          assert.equal(state.status, 200);
          assert.deepEqual(JSON.parse(state.text).sessions, []);
        }
        const bearer = await call(`${launcher.base}/_dashboard/api/state`, {
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(bearer.status, 200);
      },
    );
    await t.step("a wrong token in the login URL logs no one in", async () => {
      const res = await call(`${launcher.base}/_dashboard/login?token=${"A".repeat(43)}`);
      assert.equal(res.status, 303);
      assert.equal(res.headers.get("location"), "/_dashboard/login?failed");
      assert.equal(res.headers.get("set-cookie"), null);
    });
  } finally {
    await local.close();
    await cleanup(launcher);
  }
});

Deno.test("a session's pages cannot set the dashboard's cookie nor log the admin out by shadowing it", async (t) => {
  const launcher = await startLauncher((dir) =>
    specConfig(dir, { echo: { cmd: ECHO_APP } }, { admin_token: TOKEN })
  );
  try {
    const post = await launcher.post({ application: "echo" });
    assert.equal(post.status, 200);
    await t.step(
      "Set-Cookie of the dashboard's cookie is dropped from proxied answers",
      async () => {
        const cookies = [
          "pvw_dashboard=1.forged; Path=/_dashboard",
          "pvw_dashboard=; Path=/_dashboard; Max-Age=0",
          "pvw_dashboard=x; Path=/; HttpOnly",
          " pvw_dashboard =x; Path=/_dashboard/api",
          // Nameless: browsers send these back as "pvw_dashboard=evil" and "pvw_dashboard".
          "=pvw_dashboard=evil; Path=/_dashboard",
          " = pvw_dashboard=evil",
          "pvw_dashboard; Path=/_dashboard",
          "app_session=kept; Path=/proxy",
        ];
        const query = cookies.map((c) => `c=${encodeURIComponent(c)}`).join("&");
        const res = await fetch(`${launcher.base}/proxy/${post.json.id}/cookies?${query}`);
        await res.body?.cancel();
        assert.equal(res.status, 200);
        assert.deepEqual(res.headers.getSetCookie(), ["app_session=kept; Path=/proxy"]);
      },
    );
    await t.step(
      "a cookie of the same name set by a page's script does not shadow the admin's",
      async () => {
        const login = await call(`${launcher.base}/_dashboard/login?token=${TOKEN}`);
        const cookie = login.headers.get("set-cookie")!.split(";")[0];
        for (const jar of [`pvw_dashboard=1.forged; ${cookie}`, `${cookie}; pvw_dashboard=`]) {
          const res = await call(`${launcher.base}/_dashboard/api/state`, {
            headers: { cookie: jar },
          });
          assert.equal(res.status, 200, jar);
        }
        const forged = await call(`${launcher.base}/_dashboard/api/state`, {
          headers: {
            cookie: "pvw_dashboard=99999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
          },
        });
        assert.equal(forged.status, 401);
      },
    );
  } finally {
    await cleanup(launcher);
  }
});

Deno.test("dashboard_listen serves the dashboard on a port of its own, where a session's page is another origin", async (t) => {
  const launcher = await startLauncher((dir) =>
    specConfig(dir, { viz: { cmd: READY } }, {
      admin_token: TOKEN,
      dashboard_listen: "127.0.0.1:0",
    })
  );
  try {
    const m = await launcher.waitForLog(
      /dashboard listening on (http:\/\/127\.0\.0\.1:(\d+))\/_dashboard\//,
    );
    const dashboard = m[1];
    assert.notEqual(m[2], new URL(launcher.base).port);
    const bearer = { authorization: `Bearer ${TOKEN}` };
    await t.step(
      "the dashboard and the health check answer there, the REST API does not",
      async () => {
        assert.equal(
          (await call(`${dashboard}/_dashboard/api/state`, { headers: bearer })).status,
          200,
        );
        assert.equal((await call(`${dashboard}/healthz`)).status, 200);
        assert.equal((await call(`${dashboard}/metrics`)).status, 200);
        assert.equal(
          (await call(`${dashboard}/paraview`, { method: "POST", body: "{}" })).status,
          404,
        );
        assert.equal((await call(`${dashboard}/proxy/x/`)).status, 404);
      },
    );
    await t.step("the launcher's own port no longer serves the dashboard", async () => {
      for (const path of ["/_dashboard/", "/_dashboard/api/state", "/_dashboard/login"]) {
        assert.equal((await call(launcher.base + path, { headers: bearer })).status, 404, path);
      }
      assert.equal((await call(`${launcher.base}/healthz`)).status, 200);
    });
    await t.step(
      "a page of the launcher's port (a session's) cannot stop a session with the admin's cookie",
      async () => {
        const post = await launcher.post({ application: "viz" });
        const login = await call(`${dashboard}/_dashboard/login?token=${TOKEN}`);
        const cookie = login.headers.get("set-cookie")!.split(";")[0];
        // What a browser sends for a fetch from a page of the launcher's port: the same site,
        // another origin. (The custom header would need a CORS preflight, which is refused.)
        const res = await call(`${dashboard}/_dashboard/api/sessions/${post.json.id}/stop`, {
          method: "POST",
          headers: {
            cookie,
            origin: launcher.base,
            "sec-fetch-site": "same-site",
            "x-pvw-dashboard": "1",
          },
        });
        assert.equal(res.status, 403);
        const preflight = await call(`${dashboard}/_dashboard/api/sessions/${post.json.id}/stop`, {
          method: "OPTIONS",
          headers: { origin: launcher.base, "access-control-request-method": "POST" },
        });
        assert.equal(preflight.headers.get("access-control-allow-origin"), null);
        assert.equal(
          (await launcher.request("GET", `${launcher.endpoint}/${post.json.id}`)).status,
          200,
        );
      },
    );
  } finally {
    await cleanup(launcher);
  }
});
