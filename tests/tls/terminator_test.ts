import assert from "node:assert/strict";
import net from "node:net";
import {
  CertificateExpiredError,
  CertificateFormatError,
  KeyMismatchError,
  TlsTerminator,
} from "../../lib/tls/mod.ts";
import { within } from "../integration/harness.ts";
import { until } from "../integration/procfs.ts";
import { PKI_NEEDS, type TestPair, TestPki } from "./pki.ts";
import {
  closeEcho,
  echo,
  type EchoAnswer,
  FrontDoorRig,
  openEcho,
  peerCertificate,
  rawHttps,
  thrown,
} from "./support.ts";

const DAY = 86_400_000;

/** Runs `fn` with a CA, a leaf and the front door serving it, and stops them after. */
function frontDoorTest(
  name: string,
  fn: (ctx: { pki: TestPki; leaf: TestPair; rig: FrontDoorRig }) => Promise<void>,
): void {
  Deno.test({
    name,
    ignore: PKI_NEEDS.ignore,
    async fn() {
      PKI_NEEDS.check();
      const pki = await TestPki.create();
      try {
        const leaf = await pki.leaf({ keyType: "rsa" });
        const rig = await FrontDoorRig.start(leaf);
        try {
          await fn({ pki, leaf, rig });
        } finally {
          await rig.stop();
        }
      } finally {
        await pki.remove();
      }
    },
  });
}

/** The JSON body of a raw HTTP/1.1 answer. */
function bodyOf(text: string): EchoAnswer {
  assert.match(text, /^HTTP\/1\.1 200 /);
  return JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4));
}

frontDoorTest(
  "the internal server learns the real client of each connection, and that it came over TLS",
  async ({ pki, rig }) => {
    const request = "GET /hello?x=1 HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n";
    const first = await rawHttps(rig.port, pki.ca, request);
    const second = await rawHttps(rig.port, pki.ca, request);
    for (const { localPort, text } of [first, second]) {
      const answer = bodyOf(text);
      assert.equal(answer.path, "/hello");
      assert.deepEqual(answer.client, {
        remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: localPort },
        tls: true,
        servername: "localhost",
      });
      // The internal server itself saw the front door's connection, not the client.
      assert.notEqual(answer.inner.port, localPort);
    }
    await within(5000, "the connections to close", rig.terminator.idle());
    // Closed connections are forgotten: their internal address vouches for no one any more.
    for (const { text } of [first, second]) {
      assert.equal(rig.terminator.clientOf(bodyOf(text).inner), undefined);
    }
    const client = Deno.createHttpClient({ caCerts: [pki.ca] });
    try {
      const res = await fetch(`https://localhost:${rig.port}/paraview`, {
        client,
        method: "POST",
        body: '{"application":"viz"}',
      });
      const answer: EchoAnswer = await res.json();
      assert.equal(answer.method, "POST");
      assert.equal(answer.body, '{"application":"viz"}');
      assert.equal(answer.client?.tls, true);
    } finally {
      client.close();
    }
  },
);

frontDoorTest(
  "a connection straight to the internal listener is not vouched for",
  async ({ rig }) => {
    // A local user dialling the internal port skips TLS: the launcher must refuse it.
    const res = await fetch(`http://127.0.0.1:${rig.inner.addr.port}/paraview`);
    assert.equal(res.status, 403);
    assert.deepEqual(await res.json(), { error: "connect over https" });
    // Nor is any address the front door did not connect from.
    assert.equal(rig.terminator.clientOf({ hostname: "127.0.0.1", port: 1 }), undefined);
  },
);

frontDoorTest(
  "reload() serves the renewed certificate to new connections while an open WSS keeps echoing",
  async ({ pki, leaf, rig }) => {
    const client = Deno.createHttpClient({ caCerts: [pki.ca] });
    const ws = await openEcho(`wss://localhost:${rig.port}/ws`, client);
    try {
      assert.equal(await echo(ws, "before"), "before");
      const before = await peerCertificate(rig.port, pki.ca);
      assert.equal(before.serial, leaf.serial);
      assert.equal(before.authorized, true);

      const renewed = await pki.leaf({ keyType: "ec" });
      assert.notEqual(renewed.serial, leaf.serial);
      const info = rig.terminator.reload(renewed);
      assert.equal(info.serial, renewed.serial);
      assert.equal(rig.terminator.certificate.serial, renewed.serial);
      assert.equal(rig.terminator.counts.reloads, 1);

      const after = await peerCertificate(rig.port, pki.ca);
      assert.equal(after.serial, renewed.serial);
      assert.equal(after.authorized, true);
      assert.equal(await echo(ws, "after"), "after");
      // A new WebSocket gets the new certificate and works as well.
      const fresh = await openEcho(`wss://127.0.0.1:${rig.port}/ws`, client);
      assert.equal(await echo(fresh, "fresh"), "fresh");
      await closeEcho(fresh);
    } finally {
      await closeEcho(ws);
      client.close();
    }
  },
);

frontDoorTest(
  "reload() refuses an unusable pair and the old one stays in service",
  async ({ pki, leaf, rig }) => {
    const client = Deno.createHttpClient({ caCerts: [pki.ca] });
    const ws = await openEcho(`wss://localhost:${rig.port}/ws`, client);
    try {
      const renewed = await pki.leaf();
      const expired = await pki.leaf({
        start: new Date(Date.now() - 3 * DAY),
        end: new Date(Date.now() - DAY),
      });
      const cases = [
        {
          what: "renewed certificate, old key",
          pair: { cert: renewed.cert, key: leaf.key },
          error: KeyMismatchError,
        },
        {
          what: "garbage for a certificate",
          pair: { cert: "garbage", key: leaf.key },
          error: CertificateFormatError,
        },
        {
          what: "an empty certificate file",
          pair: { cert: "", key: "" },
          error: CertificateFormatError,
        },
        { what: "an expired certificate", pair: expired, error: CertificateExpiredError },
      ]; // deno-fmt-ignore
      for (const c of cases) {
        const err = thrown(() => rig.terminator.reload(c.pair));
        assert.ok(err instanceof c.error, `${c.what}: ${err}`);
        assert.equal(rig.terminator.certificate.serial, leaf.serial, c.what);
        const view = await peerCertificate(rig.port, pki.ca);
        assert.equal(view.serial, leaf.serial, c.what);
        assert.equal(view.authorized, true, c.what);
        assert.equal(await echo(ws, c.what), c.what);
      }
      assert.equal(rig.terminator.counts.reloads, 0);
    } finally {
      await closeEcho(ws);
      client.close();
    }
  },
);

frontDoorTest(
  "the front door offers HTTP/1.1 only (ALPN), and serves clients that offer none",
  async ({ pki, rig }) => {
    assert.equal((await peerCertificate(rig.port, pki.ca, ["h2", "http/1.1"])).alpn, "http/1.1");
    assert.equal((await peerCertificate(rig.port, pki.ca)).alpn, false);
    // A client that speaks only HTTP/2 is refused in the handshake, not fed HTTP/1.1.
    await assert.rejects(peerCertificate(rig.port, pki.ca, ["h2"]));
  },
);

frontDoorTest(
  "an answer that ends its connection reaches a slow client whole, then a clean TLS close",
  async ({ pki, rig }) => {
    // The internal server answers 1 MiB and closes; the client reads nothing until the front
    // door has seen that close, so the answer's tail still sits in the front door then. It
    // must be delivered, then TLS's close_notify (Deno's client throws UnexpectedEof without).
    rig.bigSize = 1 << 20;
    const tcp = await Deno.connect({ hostname: "127.0.0.1", port: rig.port });
    const conn = await Deno.startTls(tcp, { hostname: "localhost", caCerts: [pki.ca] });
    await conn.write(
      new TextEncoder().encode("GET /big HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n"),
    );
    await until(() => rig.terminator.counts.forwarding === 0, 10_000, () => "the internal close");
    const text = await new Response(conn.readable).text();
    assert.match(text, /^HTTP\/1\.1 200 /);
    assert.equal(text.slice(text.indexOf("\r\n\r\n") + 4).length, rig.bigSize);
  },
);

frontDoorTest(
  "while the internal listener is down, a client is closed at once and nothing is left open",
  async ({ pki, rig }) => {
    await rig.inner.shutdown(); // as when the launcher's listener is being re-opened
    const tcp = await Deno.connect({ hostname: "127.0.0.1", port: rig.port });
    const conn = await Deno.startTls(tcp, { hostname: "localhost", caCerts: [pki.ca] });
    try {
      await conn.write(new TextEncoder().encode("GET / HTTP/1.1\r\nhost: x\r\n\r\n"));
      const read = await conn.read(new Uint8Array(100)).catch(() => null);
      assert.equal(read, null);
      await within(5000, "idle()", rig.terminator.idle());
      assert.equal(rig.terminator.counts.upstreamErrors, 1);
      assert.equal(rig.terminator.counts.forwarding, 0);
    } finally {
      conn.close();
    }
  },
);

frontDoorTest(
  "close() stops accepting while open connections go on; idle() resolves when they end",
  async ({ pki, rig }) => {
    const client = Deno.createHttpClient({ caCerts: [pki.ca] });
    const ws = await openEcho(`wss://localhost:${rig.port}/ws`, client);
    try {
      rig.terminator.close();
      await assert.rejects(
        Deno.connect({ hostname: "127.0.0.1", port: rig.port }),
        Deno.errors.ConnectionRefused,
      );
      assert.equal(await echo(ws, "still here"), "still here");
      let idle = false;
      const idling = rig.terminator.idle().then(() => idle = true);
      assert.equal(idle, false);
      await closeEcho(ws);
      await within(5000, "idle()", idling);
      assert.equal(rig.terminator.counts.open, 0);
    } finally {
      await closeEcho(ws);
      client.close();
    }
  },
);

frontDoorTest(
  "closeConnections() ends every open connection",
  async ({ pki, rig }) => {
    const client = Deno.createHttpClient({ caCerts: [pki.ca] });
    const ws = await openEcho(`wss://localhost:${rig.port}/ws`, client);
    try {
      const closed = new Promise((resolve) => ws.addEventListener("close", resolve));
      rig.terminator.closeConnections();
      await within(5000, "the WebSocket to close", closed);
      await within(5000, "idle()", rig.terminator.idle());
    } finally {
      client.close();
    }
  },
);

Deno.test({
  name: "listen() refuses an unusable pair, and says when the port is taken",
  ignore: PKI_NEEDS.ignore,
  async fn() {
    PKI_NEEDS.check();
    const pki = await TestPki.create();
    const taken = net.createServer();
    try {
      const leaf = await pki.leaf();
      const other = await Deno.readTextFile(await pki.key());
      const upstream = { hostname: "127.0.0.1", port: 9 };
      await assert.rejects(
        TlsTerminator.listen({
          hostname: "127.0.0.1",
          port: 0,
          upstream,
          pair: { cert: leaf.cert, key: other },
        }),
        KeyMismatchError,
      );
      await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
      const port = (taken.address() as net.AddressInfo).port;
      const err = await TlsTerminator.listen({ hostname: "127.0.0.1", port, upstream, pair: leaf })
        .catch((e) => e);
      assert.equal(err.code, "EADDRINUSE");
    } finally {
      await new Promise((resolve) => taken.close(resolve));
      await pki.remove();
    }
  },
});
