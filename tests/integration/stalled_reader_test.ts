/**
 * Clients that ask for a large answer and never read it, as an attacker would to hold the
 * launcher's descriptors: 600 GETs of a 20 MB static file under `prlimit --nofile=1024:1024`.
 * Once an answer's reader has taken nothing for `keepalive_timeout` it is abandoned.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { specConfig, startLauncher, within } from "./harness.ts";
import { tcpConnectionsOf, until } from "./procfs.ts";
import { RawConnection } from "./raw_http.ts";

const READY = ["sh", "-c", "echo Starting factory; exec sleep 600"];
const CLIENTS = 600;

Deno.test(`${CLIENTS} clients that never read a 20 MB file are cut off after keepalive_timeout; the launcher serves on`, async () => {
  const launcher = await startLauncher(
    (dir) => {
      const www = join(dir, "www");
      Deno.mkdirSync(www);
      Deno.writeFileSync(join(www, "big.bin"), new Uint8Array(20 * 1024 * 1024).fill(7));
      return specConfig(dir, { viz: { cmd: READY } }, {
        content: www,
        header_timeout: 2,
        keepalive_timeout: 2,
      });
    },
    [],
    { wrap: ["prlimit", "--nofile=1024:1024", "--"] },
  );
  const port = Number(new URL(launcher.base).port);
  const clients: RawConnection[] = [];
  try {
    for (let i = 0; i < CLIENTS; i++) {
      const c = await RawConnection.open(port);
      await c.write("GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      clients.push(c);
    }
    const pid = launcher.process.pid;
    const held = tcpConnectionsOf(pid).length;
    console.log(`${held} connections held once every request was sent`);
    await until(
      () => tcpConnectionsOf(pid).length < 10,
      30_000,
      () => `${tcpConnectionsOf(pid).length} connections still held`,
    );
    // Each client finds its answer cut short: what its socket buffers held, then the end.
    for (const c of clients.slice(0, 20)) await within(10_000, "the end", c.ended());
    // Said in one line a second at most: it may come after the connections are gone.
    await launcher.waitForLog(/abandoned \d+ answers whose clients took nothing for 2 s/);
    const health = await fetch(`${launcher.base}/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    // A client that reads gets the whole file.
    const whole = await fetch(`${launcher.base}/big.bin`);
    assert.equal((await whole.arrayBuffer()).byteLength, 20 * 1024 * 1024);
  } finally {
    for (const c of clients) c.close();
    await launcher.stop();
    await Deno.remove(launcher.dir, { recursive: true });
  }
});
