/**
 * Descriptor exhaustion and idle connections, as an attacker makes them: the launcher runs
 * under `prlimit --nofile=1024:1024` (the usual limit outside systemd) and one client opens
 * ~1,100 TCP connections and sends nothing, or half a request.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  ECHO_APP,
  type Launcher,
  portOf,
  servingAgain,
  specConfig,
  startLauncher,
  within,
} from "./harness.ts";
import { RawConnection } from "./raw_http.ts";

const READY = ["sh", "-c", "echo Starting factory; exec sleep 600"];
const LIMITED = ["prlimit", "--nofile=1024:1024", "--"];
const ATTACK = 1100;

/**
 * Opens `count` connections one after the other, as fast as the launcher takes them, each
 * sending `first`; those refused (the launcher not listening for a moment) are not counted.
 */
async function flood(port: number, count: number, first = ""): Promise<RawConnection[]> {
  const conns: RawConnection[] = [];
  for (let i = 0; i < count; i++) {
    try {
      const conn = await RawConnection.open(port);
      if (first) await conn.write(first);
      conns.push(conn);
    } catch {
      // refused
    }
  }
  return conns;
}

async function cleanup(launcher: Launcher, conns: RawConnection[] = []): Promise<void> {
  for (const c of conns) c.close();
  await launcher.stop();
  await Deno.remove(launcher.dir, { recursive: true });
}

Deno.test("1,100 idle connections under a 1024-descriptor limit: the launcher refuses for a while, says so, then serves again by itself", async () => {
  // Timeouts far longer than the test: only running out of descriptors is at play.
  const launcher = await startLauncher(
    (dir) =>
      specConfig(dir, { viz: { cmd: READY } }, { header_timeout: 600, keepalive_timeout: 600 }),
    [],
    { wrap: LIMITED },
  );
  let attack: RawConnection[] = [];
  try {
    attack = await flood(portOf(launcher), ATTACK);
    await launcher.waitForLog(/not accepting connections.*[Tt]oo many open files/, 20_000);
    for (const c of attack) c.close();
    await servingAgain(launcher, 20_000);
    await launcher.waitForLog(/accepting connections again/, 5_000);
    const post = await launcher.post({ application: "viz" });
    assert.equal(post.status, 200, JSON.stringify(post.json));
    assert.equal(
      (await launcher.request("DELETE", `${launcher.endpoint}/${post.json.id}`)).status,
      200,
    );
    assert.doesNotMatch(launcher.log, /unexpected error/);
  } finally {
    await cleanup(launcher, attack);
  }
});

Deno.test("an attacker who keeps 1,100 idle connections open does not keep the launcher down: it closes them and serves again", async () => {
  const launcher = await startLauncher(
    (dir) =>
      specConfig(dir, { viz: { cmd: READY } }, { header_timeout: 600, keepalive_timeout: 600 }),
    [],
    { wrap: LIMITED },
  );
  let attack: RawConnection[] = [];
  try {
    attack = await flood(portOf(launcher), ATTACK);
    await launcher.waitForLog(/not accepting connections/, 20_000);
    await servingAgain(launcher, 20_000);
    // Connections that had sent nothing were closed to make room, while the attacker held on
    // to every one.
    const health = await (await fetch(`${launcher.base}/healthz`)).json();
    assert.equal(health.status, "ok");
    assert(health.descriptors.open < 1024, JSON.stringify(health));
    let ended = 0;
    const enough = Promise.withResolvers<void>();
    for (const c of attack) {
      c.ended().then(() => {
        if (++ended >= 100) enough.resolve();
      });
    }
    await within(10_000, "100 of the idle connections to be closed", enough.promise);
  } finally {
    await cleanup(launcher, attack);
  }
});

Deno.test("while it cannot accept, /healthz answers 503 on a connection already open; it serves again once the half-sent requests go", async () => {
  const launcher = await startLauncher(
    (dir) =>
      specConfig(dir, { viz: { cmd: READY } }, { header_timeout: 600, keepalive_timeout: 600 }),
    [],
    { wrap: LIMITED },
  );
  const monitor = await RawConnection.open(portOf(launcher));
  const attack: RawConnection[] = [];
  try {
    const before = await monitor.get("/healthz");
    assert.equal(before.status, 200);
    assert.equal(JSON.parse(new TextDecoder().decode(before.body)).status, "ok");
    // Requests whose body never comes: the launcher waits for it, holding the connection (and
    // may not shed it, as it sheds connections that sent nothing). More of them, until it
    // cannot accept.
    const half = "POST /paraview HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{";
    const deadline = performance.now() + 30_000;
    let health;
    for (;;) {
      attack.push(...await flood(portOf(launcher), 200, half));
      const during = await monitor.get("/healthz");
      health = JSON.parse(new TextDecoder().decode(during.body));
      if (during.status === 503) break;
      assert.equal(health.status, "ok");
      assert(performance.now() < deadline, `still accepting with ${attack.length} connections`);
    }
    assert.equal(health.status, "failing");
    assert.deepEqual(health.problems, ["the listener refuses connections"]);
    assert.match(health.refusing.error, /[Tt]oo many open files/);
    assert(health.descriptors.open > 500, JSON.stringify(health));
    assert.equal(health.descriptors.limit, 1024);
    await launcher.waitForLog(/the launcher is not accepting connections on 127\.0\.0\.1:\d+/);
    for (const c of attack) c.close();
    await servingAgain(launcher, 20_000);
    const after = await monitor.get("/healthz");
    assert.equal(after.status, 200);
    assert.equal(JSON.parse(new TextDecoder().decode(after.body)).status, "ok");
  } finally {
    monitor.close();
    await cleanup(launcher, attack);
  }
});

Deno.test("connections must send their headers in time and may idle only so long; busy requests and proxied WebSockets are never cut", async (t) => {
  const launcher = await startLauncher(
    (dir) =>
      specConfig(dir, {
        viz: { cmd: READY },
        echo: { cmd: ECHO_APP },
        // Ready only once the test creates the file `go`: a request that stays busy.
        slow: {
          cmd: [
            "sh",
            "-c",
            `while [ ! -e '${
              join(dir, "go")
            }' ]; do sleep 0.05; done; echo Starting factory; exec sleep 600`,
          ],
        },
      }, { header_timeout: 1, keepalive_timeout: 1 }),
    [],
    { wrap: ["prlimit", "--nofile=512:4096", "--"] },
  );
  const port = portOf(launcher);
  const probe = async (what: string, setup: (c: RawConnection) => Promise<void>) => {
    const c = await RawConnection.open(port);
    try {
      await setup(c);
      await within(10_000, what, c.ended());
    } finally {
      c.close();
    }
  };
  try {
    await t.step("the soft descriptor limit was raised to the hard one", async () => {
      const limits = await Deno.readTextFile(`/proc/${launcher.process.pid}/limits`);
      assert.match(limits, /Max open files\s+4096\s+4096/);
    });
    await t.step(
      "a connection that sends nothing is closed",
      () => probe("an idle connection to be closed", () => Promise.resolve()),
    );
    await t.step("a connection that sends its headers a byte at a time is closed", async () => {
      let timer: ReturnType<typeof setInterval> | undefined;
      try {
        await probe("a slow-header connection to be closed", async (c) => {
          await c.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n");
          timer = setInterval(() => c.write("X"), 100);
        });
      } finally {
        clearInterval(timer);
      }
    });
    await t.step(
      "a kept-alive connection that idles after its answer is closed",
      () =>
        probe("an idle kept-alive connection to be closed", async (c) => {
          assert.equal((await c.get("/healthz")).status, 200);
        }),
    );
    await t.step("a body that does not come is answered 408", async () => {
      const c = await RawConnection.open(port);
      try {
        await c.write("POST /paraview HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 50\r\n\r\n{");
        const answer = await within(10_000, "an answer", c.answer());
        assert.equal(answer.status, 408);
        assert.match(JSON.parse(new TextDecoder().decode(answer.body)).error, /did not arrive/);
      } finally {
        c.close();
      }
    });
    await t.step("a request that takes longer than both timeouts is not cut", async () => {
      const pending = launcher.post({ application: "slow" });
      await probe("an idle connection to be closed", () => Promise.resolve());
      await probe("a kept-alive connection to be closed", async (c) => {
        assert.equal((await c.get("/healthz")).status, 200);
      });
      await Deno.writeTextFile(join(launcher.dir, "go"), "");
      const post = await within(10_000, "the slow launch", pending);
      assert.equal(post.status, 200, JSON.stringify(post.json));
      await launcher.request("DELETE", `${launcher.endpoint}/${post.json.id}`);
    });
    await t.step(
      "a proxied WebSocket that idles longer than both timeouts stays open",
      async () => {
        const post = await launcher.post({ application: "echo" });
        assert.equal(post.status, 200);
        const ws = new WebSocket(`ws://127.0.0.1:${port}/proxy/${post.json.id}/ws`);
        let closed = false;
        const onClose = new Promise((r) => ws.onclose = () => r(closed = true));
        await within(5000, "the WebSocket to open", new Promise((r) => ws.onopen = r));
        await probe("an idle connection to be closed", () => Promise.resolve());
        await probe("a kept-alive connection to be closed", async (c) => {
          assert.equal((await c.get("/healthz")).status, 200);
        });
        const echoed = new Promise((r) => ws.onmessage = (e) => r(e.data));
        ws.send("still here");
        assert.equal(await within(5000, "the echo", echoed), "still here");
        assert.equal(closed, false);
        ws.close();
        await onClose;
        await launcher.request("DELETE", `${launcher.endpoint}/${post.json.id}`);
      },
    );
  } finally {
    await cleanup(launcher);
  }
});
