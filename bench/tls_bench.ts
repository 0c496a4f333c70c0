/**
 * What the TLS front door costs, plain HTTP against TLS in the same run: a keep-alive POST of a
 * small JSON body, a 64-byte WebSocket echo, and a new connection with one GET (TCP, then the
 * TLS handshake). The server (a plain `Deno.serve` standing in for the launcher, with the
 * front door in front of it, certificate made by openssl now) runs in a child process; the
 * two paths are measured in alternating rounds so that the machine's load falls on both.
 *
 * Run with `deno run --frozen --allow-all bench/tls_bench.ts [rounds]`.
 *
 * @module
 */

import { TlsTerminator } from "../lib/tls/mod.ts";
import { TestPki } from "../tests/tls/pki.ts";
import { summarize, type Summary } from "./lib/stats.ts";

const POSTS_PER_ROUND = 500;
const ECHOES_PER_ROUND = 1000;
const CONNECTIONS_PER_ROUND = 50;
/** A new connection's answer slower than this waited for a delayed ACK (no TCP_NODELAY). */
const STALL_MS = 20;
const BODY = JSON.stringify({ application: "visualizer", secret: "x".repeat(32) });

/** The child: the stand-in launcher and its front door; prints both ports, stops on stdin's end. */
async function serve(certFile: string, keyFile: string): Promise<void> {
  const front: { door?: TlsTerminator } = {}; // made once the inner server has its port
  const inner = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req, info) => {
    // The lookup the launcher makes for every request, on both paths.
    const client = front.door?.clientOf(info.remoteAddr);
    if (req.headers.get("upgrade") === "websocket") {
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.onmessage = (e) => socket.send(e.data);
      return response;
    }
    const body = req.method === "POST" ? await req.text() : "";
    return Response.json({ id: "f00d", tls: client?.tls ?? false, length: body.length });
  });
  const pair = { cert: await Deno.readTextFile(certFile), key: await Deno.readTextFile(keyFile) };
  const terminator = front.door = await TlsTerminator.listen({
    hostname: "127.0.0.1",
    port: 0,
    upstream: inner.addr,
    pair,
  });
  console.log(JSON.stringify({ plain: inner.addr.port, tls: terminator.addr.port }));
  for await (const _ of Deno.stdin.readable) { /* until the parent closes stdin */ }
  terminator.close();
  terminator.closeConnections();
  await inner.shutdown();
}

/** One path's samples, in ms. */
interface Samples {
  post: number[];
  echo: number[];
  connect: number[];
}

async function timePosts(url: string, client: Deno.HttpClient, into: number[]): Promise<void> {
  for (let i = 0; i < POSTS_PER_ROUND; i++) {
    const t = performance.now();
    const res = await fetch(url, { method: "POST", body: BODY, client });
    await res.arrayBuffer();
    into.push(performance.now() - t);
  }
}

async function timeEchoes(url: string, client: Deno.HttpClient, into: number[]): Promise<void> {
  const ws = new WebSocket(url, { client });
  ws.binaryType = "arraybuffer";
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  const message = new Uint8Array(64).fill(7);
  for (let i = 0; i < ECHOES_PER_ROUND; i++) {
    const t = performance.now();
    await new Promise((resolve) => {
      ws.onmessage = resolve;
      ws.send(message);
    });
    into.push(performance.now() - t);
  }
  const closed = new Promise((resolve) => ws.onclose = resolve);
  ws.close();
  await closed;
}

/** New TCP connection (TCP_NODELAY on the client side), TLS if `ca`, one GET, its answer. */
async function timeConnections(port: number, ca: string | undefined, into: number[]) {
  const request = new TextEncoder().encode(
    "GET /x HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n",
  );
  for (let i = 0; i < CONNECTIONS_PER_ROUND; i++) {
    const t = performance.now();
    const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
    tcp.setNoDelay(true);
    const conn = ca ? await Deno.startTls(tcp, { hostname: "localhost", caCerts: [ca] }) : tcp;
    await conn.write(request);
    await new Response(conn.readable).arrayBuffer();
    into.push(performance.now() - t);
  }
}

async function measure(rounds: number, ports: { plain: number; tls: number }, ca: string) {
  const plain: Samples = { post: [], echo: [], connect: [] };
  const tls: Samples = { post: [], echo: [], connect: [] };
  const client = Deno.createHttpClient({ caCerts: [ca], http2: false });
  try {
    for (let round = 0; round <= rounds; round++) {
      // Round 0 warms both paths up and is not counted.
      const [p, t] = round === 0
        ? [{ post: [], echo: [], connect: [] }, { post: [], echo: [], connect: [] }]
        : [plain, tls];
      await timePosts(`http://localhost:${ports.plain}/paraview`, client, p.post);
      await timePosts(`https://localhost:${ports.tls}/paraview`, client, t.post);
      await timeEchoes(`ws://localhost:${ports.plain}/ws`, client, p.echo);
      await timeEchoes(`wss://localhost:${ports.tls}/ws`, client, t.echo);
      await timeConnections(ports.plain, undefined, p.connect);
      await timeConnections(ports.tls, ca, t.connect);
    }
  } finally {
    client.close();
  }
  return { plain, tls };
}

function row(what: string, plain: Summary, tls: Summary): string {
  const us = (ms: number) => `${Math.round(ms * 1000)} µs`.padStart(10);
  const cells = [plain.p50, plain.p99, tls.p50, tls.p99].map(us).join(" |");
  const added = `+${Math.round((tls.p50 - plain.p50) * 1000)} µs`;
  return `| ${what.padEnd(26)} |${cells} | ${added.padStart(12)} |`;
}

async function main(rounds: number): Promise<void> {
  const pki = await TestPki.create();
  const leaf = await pki.leaf({ keyType: "ec" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      new URL(import.meta.url).pathname,
      "serve",
      leaf.certFile,
      leaf.keyFile,
    ],
    stdin: "piped",
    stdout: "piped",
  }).spawn(); // deno-fmt-ignore
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    const ports = JSON.parse((await lines.read()).value!);
    const { plain, tls } = await measure(rounds, ports, pki.ca);
    const stalls = (s: number[]) => s.filter((ms) => ms > STALL_MS).length;
    console.log(
      `TLS front door vs plain HTTP, loopback, ${rounds} rounds (EC P-256 certificate)\n`,
    );
    console.log(
      "| path                       |  plain p50 |  plain p99 |    TLS p50 |    TLS p99 | TLS adds p50 |",
    );
    console.log(
      "| -------------------------- | ---------: | ---------: | ---------: | ---------: | -----------: |",
    );
    console.log(
      row(`POST ${BODY.length} B, keep-alive`, summarize(plain.post), summarize(tls.post)),
    );
    console.log(row("WebSocket 64 B echo", summarize(plain.echo), summarize(tls.echo)));
    console.log(row("new connection + GET", summarize(plain.connect), summarize(tls.connect)));
    console.log(
      `\nnew connections slower than ${STALL_MS} ms: plain ${stalls(plain.connect)}/` +
        `${plain.connect.length}, TLS ${stalls(tls.connect)}/${tls.connect.length}`,
    ); // deno-fmt-ignore
  } finally {
    await child.stdin.close();
    await child.status;
    await lines.cancel();
    await pki.remove();
  }
}

if (import.meta.main) {
  if (Deno.args[0] === "serve") await serve(Deno.args[1], Deno.args[2]);
  else await main(Number(Deno.args[0] ?? 5));
}
