/**
 * tls: what serving HTTPS itself (`tls_cert`, the TLS front door before the launcher's own
 * listener) costs, against the same launcher in the clear, in one run, interleaved: a launch
 * POST (app ready at once, deleted untimed after), a 64 B echo through the built-in proxy
 * (`wss://` against `ws://`), and a new connection with one `GET /healthz` (TCP, then the TLS
 * handshake). The certificate (EC P-256, from a CA made now with openssl) is what the
 * clients trust; nothing is skipped.
 *
 * @module
 */

import { TestPki } from "../../tests/tls/pki.ts";
import { type Context, interleave, verdict } from "../lib/context.ts";
import { type Launcher, SLEEPER, startPvw, wsAppCmd } from "../lib/launchers.ts";
import { ms, num, summarize, type Summary } from "../lib/stats.ts";
import { closeWs, echoRoundTrips, openWs } from "../lib/ws.ts";

/** The two launchers, and what the clients need. */
interface Pair {
  plain: Launcher;
  tls: Launcher;
  ca: string;
}

async function start(ctx: Context): Promise<Pair> {
  const pki = await TestPki.create();
  ctx.cleanup.defer(`remove ${pki.dir}`, () => pki.remove().catch(() => {}));
  const leaf = await pki.leaf({ keyType: "ec" });
  const client = Deno.createHttpClient({ caCerts: [pki.ca] });
  ctx.cleanup.defer("close the TLS client", () => client.close());
  const apps = { app: { cmd: SLEEPER }, ws: { cmd: wsAppCmd() } };
  const plain = await startPvw(ctx.cleanup, ctx.root, "pvw-plain", { apps, ports: 4 });
  const tls = await startPvw(ctx.cleanup, ctx.root, "pvw-tls", {
    apps,
    ports: 4,
    configuration: { tls_cert: leaf.certFile, tls_key: leaf.keyFile },
    client,
  });
  return { plain, tls, ca: pki.ca };
}

async function timedLaunch(launcher: Launcher, out: number[]): Promise<void> {
  const a = await launcher.client.post("app");
  if (a.status !== 200) throw new Error(`launch answered ${a.status}: ${JSON.stringify(a.json)}`);
  out.push(a.ms);
  const d = await launcher.client.delete(String(a.json.id));
  if (d.status !== 200) throw new Error(`DELETE answered ${d.status}`);
}

/** A new TCP connection (TCP_NODELAY, as browsers set it), TLS if `ca`, one GET, its answer. */
async function timedConnection(port: number, ca: string | undefined, out: number[]) {
  const request = new TextEncoder().encode(
    "GET /healthz HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n",
  );
  const t0 = performance.now();
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
  tcp.setNoDelay(true);
  const conn = ca ? await Deno.startTls(tcp, { hostname: "localhost", caCerts: [ca] }) : tcp;
  await conn.write(request);
  await new Response(conn.readable).arrayBuffer();
  out.push(performance.now() - t0);
}

/** The proxied WebSocket of a launcher's `ws` session. */
async function proxied(launcher: Launcher): Promise<WebSocket> {
  const a = await launcher.client.post("ws");
  if (a.status !== 200) throw new Error(`launching the ws app answered ${a.status}`);
  const url = `${launcher.base.replace(/^http/, "ws")}/proxy?sessionId=${a.json.id}&path=ws`;
  return await openWs(url, 20_000, launcher.httpClient);
}

function addRows(ctx: Context, what: string, plain: number[], tls: number[], targetMs?: number) {
  const row = (subject: string, s: Summary) => ({
    scenario: "tls",
    subject,
    n: num(s.n),
    p50: ms(s.p50),
    p90: ms(s.p90),
    p99: ms(s.p99),
  });
  const p = summarize(plain);
  const t = summarize(tls);
  ctx.row({ ...row(`${what}, plain HTTP`, p), compared: "" });
  const added = t.p50 - p.p50;
  ctx.row({
    ...row(`${what}, over TLS`, t),
    compared: `${added >= 0 ? "+" : ""}${ms(added)} over plain (p50)`,
    ...(targetMs === undefined ? {} : {
      target: `TLS adds ≤ ${targetMs} ms p50`,
      verdict: verdict(added <= targetMs),
    }),
  });
}

/**
 * tls: launch POST (50 rounds), proxied 64 B echo (10,000 round trips, in blocks), new
 * connection with a GET (200), each plain then TLS, interleaved. Targets: TLS adds at most
 * 1 ms to a launch and 0.1 ms to a proxied echo (p50).
 */
export async function tlsOverhead(ctx: Context): Promise<void> {
  const { plain, tls, ca } = await start(ctx);
  const posts = { plain: [] as number[], tls: [] as number[] };
  const echoes = { plain: [] as number[], tls: [] as number[] };
  const connections = { plain: [] as number[], tls: [] as number[] };
  await timedLaunch(plain, []); // warm-up, not counted
  await timedLaunch(tls, []);
  const rounds = ctx.scale(50, 10);
  ctx.log(`tls: ${rounds} launches each, plain and TLS`);
  await interleave(rounds, [
    { run: () => timedLaunch(plain, posts.plain) },
    { run: () => timedLaunch(tls, posts.tls) },
  ]);
  const sockets = { plain: await proxied(plain), tls: await proxied(tls) };
  try {
    const payload = new Uint8Array(64).fill(42);
    for (const ws of Object.values(sockets)) await echoRoundTrips(ws, payload, 500);
    const total = ctx.scale(10_000, 1000);
    ctx.log(`tls: ${total} proxied echoes each`);
    await interleave(10, [
      {
        run: async () =>
          void echoes.plain.push(...await echoRoundTrips(sockets.plain, payload, total / 10)),
      },
      {
        run: async () =>
          void echoes.tls.push(...await echoRoundTrips(sockets.tls, payload, total / 10)),
      },
    ]); // deno-fmt-ignore
  } finally {
    await Promise.all(Object.values(sockets).map(closeWs));
  }
  const port = (l: Launcher) => Number(new URL(l.base).port);
  const count = ctx.scale(200, 20);
  await interleave(count, [
    { run: () => timedConnection(port(plain), undefined, connections.plain) },
    { run: () => timedConnection(port(tls), ca, connections.tls) },
  ]);
  addRows(ctx, "launch POST", posts.plain, posts.tls, 1);
  addRows(ctx, "proxied 64 B echo", echoes.plain, echoes.tls, 0.1);
  addRows(ctx, "new connection + GET /healthz", connections.plain, connections.tls);
  ctx.note(
    "tls",
    "the same launcher and apps, plain and with tls_cert (EC P-256); a new TLS connection " +
      "includes the handshake. Both launchers are stopped with the run.",
  );
  await tls.program.stop();
  await plain.program.stop();
}
