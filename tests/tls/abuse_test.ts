import assert from "node:assert/strict";
import tls from "node:tls";
import { within } from "../integration/harness.ts";
import { until } from "../integration/procfs.ts";
import { Needs } from "../e2e/tools.ts";
import { OPENSSL, PKI_NEEDS, TestPki } from "./pki.ts";
import {
  clientHello,
  closeEcho,
  echo,
  FrontDoorRig,
  openEcho,
  openFds,
  peerCertificate,
  rawHttps,
  resetAfter,
} from "./support.ts";

const encode = (text: string) => new TextEncoder().encode(text);

/** Reads until the server closes, or fails; resolves either way. */
async function drain(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(4096);
  try {
    while ((await conn.read(buffer)) !== null) { /* read on */ }
  } catch {
    // reset by the server: closed too
  }
}

/** Every kind of misbehaving client, once. */
function abuses(port: number, ca: string, hello: Uint8Array): Promise<unknown>[] {
  const upgrade = "GET /ws HTTP/1.1\r\nhost: localhost\r\nupgrade: websocket\r\n" +
    "connection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
    "sec-websocket-version: 13\r\n\r\n";
  return [
    (async () => { // plain HTTP on the TLS port
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(encode("GET / HTTP/1.1\r\nhost: x\r\n\r\n"));
      await drain(conn);
      conn.close();
    })(),
    (async () => { // hang up before any byte
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    })(),
    (async () => { // hang up halfway through the ClientHello
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(hello.subarray(0, hello.length >> 1));
      conn.close();
    })(),
    resetAfter(port, hello.subarray(0, 100)), // RST halfway through the ClientHello
    new Promise((resolve) => { // a client that does not trust the certificate
      const socket = tls.connect({ host: "127.0.0.1", port, servername: "localhost" });
      socket.once("error", resolve);
      socket.once("secureConnect", () => resolve(new Error("trusted an unknown CA")));
    }),
    (async () => { // handshake, half a request, hang up
      const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
      const conn = await Deno.startTls(tcp, { hostname: "localhost", caCerts: [ca] });
      await conn.write(encode("POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\nabc"));
      conn.close();
    })(),
    (async () => { // a whole request, then closes its sending side (half-closed)
      const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
      const conn = await Deno.startTls(tcp, { hostname: "localhost", caCerts: [ca] });
      await conn.write(encode("GET /x HTTP/1.1\r\nhost: x\r\n\r\n"));
      await conn.closeWrite();
      await drain(conn);
      conn.close();
    })(),
    (async () => { // a WebSocket that vanishes without a close frame
      const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
      const conn = await Deno.startTls(tcp, { hostname: "localhost", caCerts: [ca] });
      await conn.write(encode(upgrade));
      const buffer = new Uint8Array(1024);
      await conn.read(buffer); // the 101
      conn.close();
    })(),
    rawHttps(port, ca, "GET /ok HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"), // a good one
  ];
}

Deno.test({
  name: "abusive clients leave no descriptor, connection or vouched-for address behind",
  ignore: PKI_NEEDS.ignore,
  async fn() {
    PKI_NEEDS.check();
    const pki = await TestPki.create();
    const rig = await FrontDoorRig.start(await pki.leaf());
    try {
      const hello = await clientHello();
      const client = Deno.createHttpClient({ caCerts: [pki.ca] });
      // Warm up every kind of client once: the first use of some opens descriptors for good.
      await Promise.all(abuses(rig.port, pki.ca, hello));
      const ws = await openEcho(`wss://localhost:${rig.port}/ws`, client);
      assert.equal(await echo(ws, "warm"), "warm");
      await closeEcho(ws);
      await within(10_000, "the warm-up to end", rig.terminator.idle());
      const before = openFds();
      const failuresBefore = rig.terminator.counts.handshakeFailures;

      for (let round = 0; round < 20; round++) {
        await Promise.all(abuses(rig.port, pki.ca, hello));
      }
      const sockets = await Promise.all(
        Array.from({ length: 20 }, () => openEcho(`wss://localhost:${rig.port}/ws`, client)),
      );
      await Promise.all(sockets.map((s) => closeEcho(s)));

      await within(10_000, "every connection to end", rig.terminator.idle());
      const counts = rig.terminator.counts;
      assert.equal(counts.open, 0);
      assert.equal(counts.forwarding, 0);
      // 5 of the 9 kinds fail their handshake, 20 times each.
      assert.equal(counts.handshakeFailures - failuresBefore, 100);
      await until(() => openFds() <= before, 10_000, () => `${openFds()} fds, ${before} before`);
      // And it still serves.
      assert.equal((await peerCertificate(rig.port, pki.ca)).authorized, true);
      client.close();
    } finally {
      await rig.stop();
      await pki.remove();
    }
  },
});

Deno.test({
  name:
    "a client that sends nothing, or drips its ClientHello, is cut off at the handshake timeout",
  ignore: PKI_NEEDS.ignore,
  async fn() {
    PKI_NEEDS.check();
    const pki = await TestPki.create();
    const rig = await FrontDoorRig.start(await pki.leaf(), { handshakeTimeoutMs: 300 });
    const hello = await clientHello();
    const silent = await Deno.connect({ hostname: "127.0.0.1", port: rig.port });
    const dripping = await Deno.connect({ hostname: "127.0.0.1", port: rig.port });
    try {
      await within(5000, "the silent client to be cut off", drain(silent));
      // One byte every 20 ms would take seconds: the deadline counts from the connection, not
      // from the last byte.
      let sent = 0;
      let closed = false;
      const cut = drain(dripping).then(() => closed = true);
      while (!closed && sent < hello.length) {
        await dripping.write(hello.subarray(sent, sent + 1)).catch(() => closed = true);
        sent++;
        await new Promise((resolve) => setTimeout(resolve, 20)); // the attacker's pace
      }
      await within(5000, "the dripping client to be cut off", cut);
      assert.ok(sent < hello.length, `cut off after ${sent} of ${hello.length} bytes`);
      assert.equal(rig.terminator.counts.handshakeFailures, 2);
      await within(5000, "both to be closed", rig.terminator.idle());
    } finally {
      silent.close();
      dripping.close();
      await rig.stop();
      await pki.remove();
    }
  },
});

Deno.test({
  name:
    "a client that stops reading is cut off once the internal side closed and it made no progress",
  ignore: PKI_NEEDS.ignore,
  async fn() {
    PKI_NEEDS.check();
    const pki = await TestPki.create();
    const rig = await FrontDoorRig.start(await pki.leaf(), { lingerMs: 300 });
    rig.bigSize = 1 << 20;
    const tcp = await Deno.connect({ hostname: "127.0.0.1", port: rig.port });
    const conn = await Deno.startTls(tcp, { hostname: "localhost", caCerts: [pki.ca] });
    try {
      await conn.write(encode("GET /big HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"));
      // The client holds its connection open and reads nothing: the front door lets go.
      await within(10_000, "the front door to let go", rig.terminator.idle());
    } finally {
      conn.close();
      await rig.stop();
      await pki.remove();
    }
  },
});

/** util-linux's prlimit: runs the front door with few descriptors. */
const PRLIMIT = "/usr/bin/prlimit";
const EMFILE_NEEDS = new Needs("TLS descriptor exhaustion test (openssl, prlimit)", [
  OPENSSL,
  PRLIMIT,
]);

Deno.test({
  name: "the front door accepts again once descriptors are free after running out (EMFILE)",
  ignore: EMFILE_NEEDS.ignore,
  async fn() {
    EMFILE_NEEDS.check();
    const pki = await TestPki.create();
    const leaf = await pki.leaf();
    const limit = 64;
    const child = new Deno.Command(PRLIMIT, {
      args: [
        `--nofile=${limit}:${limit}`,
        Deno.execPath(),
        "run",
        "--allow-all",
        new URL("./front_door_child.ts", import.meta.url).pathname,
        leaf.certFile,
        leaf.keyFile,
      ],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const input = child.stdin.getWriter();
    const next = async () => JSON.parse((await lines.read()).value!);
    const stats = async () => {
      await input.write(encode("stats\n"));
      return await next();
    };
    const held: Deno.Conn[] = [];
    const client = Deno.createHttpClient({ caCerts: [pki.ca] });
    try {
      const { port } = await within(20_000, "the child to listen", next());
      // More connections than it has descriptors for: it accepts until accept(2) fails.
      for (let i = 0; i < 2 * limit; i++) {
        held.push(await Deno.connect({ hostname: "127.0.0.1", port }));
      }
      let seen = await stats();
      for (let i = 0; i < 500 && seen.fds < limit - 2; i++) seen = await stats();
      assert.ok(seen.fds >= limit - 2, `the child holds only ${seen.fds} descriptors`);
      for (const conn of held.splice(0)) conn.close();
      // Deno's listener would now wait for ever; the front door re-arms it.
      const res = await within(
        10_000,
        "an answer after EMFILE",
        fetch(`https://localhost:${port}/after`, { client }),
      );
      assert.equal(res.status, 200);
      assert.equal((await res.json()).path, "/after");
    } finally {
      for (const conn of held) conn.close();
      client.close();
      await input.close();
      await child.status;
      await lines.cancel();
      await pki.remove();
    }
  },
});
