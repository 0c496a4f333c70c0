/**
 * What the launcher's TLS front door must not hide: the real client behind it (for the rate
 * limit and the forwarded headers, while the front door itself reaches the internal listener
 * from loopback, a trusted proxy by default), and what it must not open: the internal
 * listener to anyone who dials it directly. Its connections are under the connection guard
 * (header and keep-alive timeouts, shedding when descriptors run short), and it accepts again
 * after running out of descriptors.
 */

import assert from "node:assert/strict";
import { ECHO_APP, type Launcher, portOf, servingAgain, within } from "./harness.ts";
import { RawConnection } from "./raw_http.ts";
import { httpsFrom, startTlsLauncher, stopTlsLauncher } from "./tls_harness.ts";
import { PKI_NEEDS, TestPki } from "../tls/pki.ts";
import { closeEcho, echo, openEcho } from "../tls/support.ts";

/** The address the attacker sends from: loopback, but not the one trusted as a proxy. */
const ATTACKER = "127.0.0.2";

/** The internal listener's port, from the debug log. */
async function internalPort(launcher: Launcher): Promise<number> {
  const m = await launcher.waitForLog(/the launcher behind TLS: internal listener on [^:]+:(\d+)/);
  return Number(m[1]);
}

Deno.test({
  name:
    "behind its TLS front door the launcher sees the real client: forged forwarded headers do not pass",
  ignore: PKI_NEEDS.ignore,
  async fn(t) {
    PKI_NEEDS.check();
    const pki = await TestPki.create();
    // Only 127.0.0.1 is a trusted proxy: the front door's own connections come from it.
    const launcher = await startTlsLauncher(pki, await pki.leaf(), { echo: { cmd: ECHO_APP } }, {
      trusted_proxies: ["127.0.0.1"],
      rate_limit: { per_minute: 1, burst: 2 },
      header_timeout: 2,
    }, ["--log-level", "debug"]);
    const port = portOf(launcher);
    try {
      const post = await launcher.post({ application: "echo" });
      assert.equal(post.status, 200, JSON.stringify(post.json));
      const id = post.json.id;

      await t.step(
        "the rate limit counts the client, whatever X-Forwarded-For it sends",
        async () => {
          const statuses = [];
          for (let i = 0; i < 4; i++) {
            const answer = await httpsFrom(ATTACKER, port, pki.ca, {
              method: "POST",
              path: "/paraview",
              headers: { "x-forwarded-for": `198.51.100.${i}` },
              body: JSON.stringify({ application: "nosuchapp" }),
            });
            statuses.push(answer.status);
          }
          assert.deepEqual(statuses, [400, 400, 429, 429]);
        },
      );

      await t.step("the session's app hears of the client, not of its forged headers", async () => {
        const answer = await httpsFrom(ATTACKER, port, pki.ca, {
          method: "GET",
          path: `/proxy/${id}/who`,
          headers: {
            "x-forwarded-for": "6.6.6.6",
            "x-forwarded-proto": "http",
            "x-real-ip": "6.6.6.6",
          },
        });
        assert.equal(answer.status, 200, answer.body);
        const seen = JSON.parse(answer.body).headers;
        assert.equal(seen["x-forwarded-for"], ATTACKER);
        assert.equal(seen["x-real-ip"], ATTACKER);
        assert.equal(seen["x-forwarded-proto"], "https");
      });

      await t.step("a trusted proxy's forwarded headers still count", async () => {
        const res = await fetch(`${launcher.base}/proxy/${id}/who`, {
          headers: { "x-forwarded-for": "203.0.113.5" },
          client: launcher.client,
        });
        const seen = (await res.json()).headers;
        assert.equal(seen["x-forwarded-for"], "203.0.113.5, 127.0.0.1");
        assert.equal(seen["x-real-ip"], "203.0.113.5");
      });

      await t.step(
        "the internal listener refuses whoever dials it directly, then hangs up",
        async () => {
          const inner = await internalPort(launcher);
          const conn = await RawConnection.open(inner);
          try {
            const body = JSON.stringify({ application: "echo" });
            await conn.write(
              "POST /paraview HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                `Content-Length: ${body.length}\r\n\r\n${body}`,
            );
            const answer = await within(10_000, "the answer", conn.answer());
            assert.equal(answer.status, 403);
            assert.match(
              JSON.parse(new TextDecoder().decode(answer.body)).error,
              /connect over HTTPS/,
            );
            // A second request is refused too; the guard closes the connection at the header
            // timeout however many requests it sends.
            assert.equal((await conn.get("/healthz")).status, 403);
            await within(10_000, "the internal listener to hang up", conn.ended());
          } finally {
            conn.close();
          }
          const sessions = await launcher.request("GET", `${launcher.base}/healthz`);
          assert.equal(sessions.json.sessions, 1, "no session was started by it");
        },
      );
    } finally {
      await stopTlsLauncher(launcher);
      await pki.remove();
    }
  },
});

Deno.test({
  name:
    "the TLS front door's connections are under the guard: silent, slow and idle ones are closed, WebSockets are not",
  ignore: PKI_NEEDS.ignore,
  async fn(t) {
    PKI_NEEDS.check();
    const pki = await TestPki.create();
    const launcher = await startTlsLauncher(pki, await pki.leaf(), { echo: { cmd: ECHO_APP } }, {
      header_timeout: 1,
      keepalive_timeout: 1,
    });
    const port = portOf(launcher);
    const probe = async (what: string, conn: RawConnection, setup: () => Promise<unknown>) => {
      try {
        await setup();
        await within(10_000, what, conn.ended());
      } finally {
        conn.close();
      }
    };
    try {
      await t.step("no handshake at all", async () => {
        const conn = await RawConnection.open(port);
        await probe("a silent TCP connection to be closed", conn, () => Promise.resolve());
      });
      await t.step("a handshake, then nothing", async () => {
        const conn = await RawConnection.openTls(port, pki.ca);
        await probe("a silent TLS connection to be closed", conn, () => Promise.resolve());
      });
      await t.step("a handshake, then headers a byte at a time", async () => {
        const conn = await RawConnection.openTls(port, pki.ca);
        let timer: ReturnType<typeof setInterval> | undefined;
        try {
          await probe("a slow-header TLS connection to be closed", conn, async () => {
            await conn.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n");
            timer = setInterval(() => conn.write("X"), 100);
          });
        } finally {
          clearInterval(timer);
        }
      });
      await t.step("a kept-alive connection that idles after its answer", async () => {
        const conn = await RawConnection.openTls(port, pki.ca);
        await probe("an idle kept-alive TLS connection to be closed", conn, async () => {
          assert.equal((await conn.get("/healthz")).status, 200);
        });
      });
      await t.step(
        "a proxied WebSocket that idles longer than both timeouts stays open",
        async () => {
          const post = await launcher.post({ application: "echo" });
          const ws = await openEcho(
            `wss://localhost:${port}/proxy/${post.json.id}`,
            launcher.client!,
          );
          try {
            const idle = await RawConnection.openTls(port, pki.ca);
            await probe(
              "an idle TLS connection beside it to be closed",
              idle,
              () => Promise.resolve(),
            );
            assert.equal(await echo(ws, "still here"), "still here");
          } finally {
            await closeEcho(ws);
          }
          await launcher.request("DELETE", `${launcher.endpoint}/${post.json.id}`);
        },
      );
    } finally {
      await stopTlsLauncher(launcher);
      await pki.remove();
    }
  },
});

Deno.test({
  name:
    "1,100 connections that never handshake under a 1024-descriptor limit: the TLS launcher sheds them and serves again",
  ignore: PKI_NEEDS.ignore,
  async fn() {
    PKI_NEEDS.check();
    const pki = await TestPki.create();
    // Timeouts far longer than the test: only running out of descriptors is at play.
    const launcher = await startTlsLauncher(
      pki,
      await pki.leaf(),
      {
        viz: { cmd: ["sh", "-c", "echo Starting factory; exec sleep 600"] },
      },
      { header_timeout: 600, keepalive_timeout: 600 },
      [],
      {
        wrap: ["prlimit", "--nofile=1024:1024", "--"],
      },
    );
    const port = portOf(launcher);
    const attack: RawConnection[] = [];
    try {
      for (let i = 0; i < 1100; i++) {
        try {
          attack.push(await RawConnection.open(port));
        } catch {
          // refused
        }
      }
      await servingAgain(launcher, 30_000, pki.ca);
      const health = await launcher.request("GET", `${launcher.base}/healthz`);
      assert.equal(health.json.status, "ok");
      let ended = 0;
      const enough = Promise.withResolvers<void>();
      for (const c of attack) {
        c.ended().then(() => {
          if (++ended >= 100) enough.resolve();
        });
      }
      await within(10_000, "100 of the silent connections to be closed", enough.promise);
      const post = await launcher.post({ application: "viz" });
      assert.equal(post.status, 200, JSON.stringify(post.json));
      await launcher.request("DELETE", `${launcher.endpoint}/${post.json.id}`);
      assert.doesNotMatch(launcher.log, /unexpected error/);
    } finally {
      for (const c of attack) c.close();
      await stopTlsLauncher(launcher);
      await pki.remove();
    }
  },
});
