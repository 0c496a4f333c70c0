/**
 * proxy latency, throughput and fan-in: one session of the WebSocket app (`bench/ws_app.ts`)
 * reached three ways with the same client: directly (the limit), through pvw-launcher's
 * built-in proxy, and through Apache `mod_proxy_wstunnel` with our example vhost routing by
 * the launcher's map file. Both proxies use the trame-style URL
 * `/proxy?sessionId=<id>&path=ws`.
 *
 * @module
 */

import { join } from "node:path";
import { type Apache, startApache } from "../lib/apache.ts";
import { type Context, type Fixture, interleave, verdict } from "../lib/context.ts";
import { type Launcher, startPvw, wsAppCmd } from "../lib/launchers.ts";
import { rssBytes } from "../lib/procs.ts";
import { mib, ms, num, summarize } from "../lib/stats.ts";
import { closeWs, echoRoundTrips, openWs, receiveStream } from "../lib/ws.ts";

/** Where the session is reached. */
interface Routes extends Fixture {
  launcher: Launcher;
  direct: string;
  pvw: string;
  apache?: string;
}

function routes(ctx: Context): Promise<Routes> {
  return ctx.fixture("proxy", async () => {
    const launcher = await startPvw(ctx.cleanup, ctx.root, "pvw-proxy", {
      apps: { ws: { cmd: wsAppCmd() } },
      ports: 4,
    });
    const a = await launcher.client.post("ws");
    if (a.status !== 200) throw new Error(`launching the ws app answered ${a.status}`);
    const id = String(a.json.id);
    const path = `/proxy?sessionId=${id}&path=ws`;
    let apache: Apache | undefined;
    if (ctx.tools.apache) {
      const dir = join(ctx.root, "apache");
      await Deno.mkdir(dir, { recursive: true });
      apache = await startApache(
        ctx.cleanup,
        ctx.tools.apache,
        dir,
        join(launcher.dir, "map", "proxy.map"),
        launcher.base,
      );
    }
    return {
      launcher,
      direct: `ws://127.0.0.1:${a.json.port}/ws`,
      pvw: launcher.base.replace("http:", "ws:") + path,
      apache: apache && apache.base.replace("http:", "ws:") + path,
      async dispose() {
        await apache?.program.stop();
        await launcher.program.stop();
      },
    };
  });
}

function skippedApache(scenario: string, target: string) {
  return {
    scenario,
    subject: "Apache mod_proxy_wstunnel",
    n: "0",
    p50: "–",
    p90: "–",
    p99: "–",
    compared: "apache2 not installed",
    target,
    verdict: "skipped" as const,
  };
}

/**
 * proxy latency: 64 B binary echo, 10,000 round trips per route, in interleaved blocks.
 * Targets: p50 added over direct at most 0.2 ms; ahead of Apache.
 */
export async function proxyLatency(ctx: Context): Promise<void> {
  const r = await routes(ctx);
  const total = ctx.scale(10_000, 1000);
  const rounds = 10;
  const payload = new Uint8Array(64).fill(42);
  const names = ["direct", "pvw", "apache"] as const;
  const sockets: Partial<Record<(typeof names)[number], WebSocket>> = {};
  const samples: Record<string, number[]> = { direct: [], pvw: [], apache: [] };
  try {
    for (const name of names) {
      if (!r[name]) continue;
      sockets[name] = await openWs(r[name]!);
      await echoRoundTrips(sockets[name]!, payload, 500); // warm-up
    }
    ctx.log(`proxy latency: ${total} round trips per route in ${rounds} blocks`);
    await interleave(
      rounds,
      names.map((name) =>
        sockets[name]
          ? {
            run: async () =>
              void samples[name].push(
                ...await echoRoundTrips(sockets[name]!, payload, total / rounds),
              ),
          }
          : undefined
      ),
    );
  } finally {
    await Promise.all(Object.values(sockets).map(closeWs));
  }
  const d = summarize(samples.direct);
  const row = (subject: string, s: number[]) => {
    const sum = summarize(s);
    return {
      sum,
      row: {
        scenario: "proxy latency",
        subject,
        n: num(sum.n),
        p50: ms(sum.p50),
        p90: ms(sum.p90),
        p99: ms(sum.p99),
      },
    };
  };
  ctx.row({ ...row("direct to the app (limit)", samples.direct).row, compared: "" });
  const p = row("pvw-launcher proxy", samples.pvw);
  const added = p.sum.p50 - d.p50;
  ctx.row({
    ...p.row,
    compared: `+${ms(added)} over direct (p50)`,
    target: "p50 added ≤ 0.2 ms",
    verdict: verdict(added <= 0.2),
  });
  if (!samples.apache.length) {
    ctx.row(skippedApache("proxy latency", "pvw p50 < Apache p50"));
    return;
  }
  const a = row("Apache mod_proxy_wstunnel", samples.apache);
  ctx.row({
    ...a.row,
    compared: `+${ms(a.sum.p50 - d.p50)} over direct (p50); pvw ${
      p.sum.p50 < a.sum.p50 ? "ahead" : "behind"
    } by ${ms(Math.abs(a.sum.p50 - p.sum.p50))}`,
    target: "pvw p50 < Apache p50",
    verdict: verdict(p.sum.p50 < a.sum.p50),
  });
}

/**
 * proxy throughput: 1 MiB binary frames from the app to the client for 10 s per route, in
 * interleaved rounds of 2 s, a window of 8 frames in flight. Targets: at least 50% of direct;
 * ahead of Apache.
 */
export async function proxyThroughput(ctx: Context): Promise<void> {
  const r = await routes(ctx);
  const rounds = ctx.scale(5, 2);
  const roundMs = ctx.scale(2000, 1000);
  const names = ["direct", "pvw", "apache"] as const;
  const rates: Record<string, number[]> = { direct: [], pvw: [], apache: [] };
  ctx.log(`proxy throughput: ${rounds} rounds of ${roundMs} ms per route`);
  await interleave(
    rounds,
    names.map((name) =>
      r[name]
        ? {
          run: async () => {
            const ws = await openWs(r[name]!);
            try {
              const { bytes, ms } = await receiveStream(ws, roundMs);
              rates[name].push(bytes / 1024 / 1024 / (ms / 1000));
            } finally {
              await closeWs(ws);
            }
          },
        }
        : undefined
    ),
  );
  const row = (subject: string, s: number[]) => {
    const sum = summarize(s);
    return {
      sum,
      row: {
        scenario: "proxy throughput",
        subject,
        n: `${rounds}×${roundMs / 1000} s`,
        p50: `${num(sum.p50)} MiB/s`,
        p90: `min ${num(sum.min)} MiB/s`,
        p99: `max ${num(sum.max)} MiB/s`,
      },
    };
  };
  const d = row("direct to the app (limit)", rates.direct);
  ctx.row({ ...d.row, compared: "" });
  const p = row("pvw-launcher proxy", rates.pvw);
  const share = p.sum.p50 / d.sum.p50;
  ctx.row({
    ...p.row,
    compared: `${num(share * 100)}% of direct`,
    target: "≥ 50% of direct",
    verdict: verdict(share >= 0.5),
  });
  if (!rates.apache.length) {
    ctx.row(skippedApache("proxy throughput", "pvw > Apache"));
    return;
  }
  const a = row("Apache mod_proxy_wstunnel", rates.apache);
  ctx.row({
    ...a.row,
    compared: `${num((a.sum.p50 / d.sum.p50) * 100)}% of direct`,
    target: "pvw > Apache",
    verdict: verdict(p.sum.p50 > a.sum.p50),
  });
  ctx.note(
    "proxy throughput",
    "medians of the rounds; the app sends, the client asks for a new frame as each arrives.",
  );
}

function signed(bytes: number): string {
  return `${bytes >= 0 ? "+" : ""}${mib(bytes)}`;
}

interface FanIn {
  served: number;
  openMs: number;
  echo: number[];
}

async function fanIn(url: string, count: number): Promise<{ result: FanIn; sockets: WebSocket[] }> {
  const sockets: WebSocket[] = [];
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: 100 }, async () => {
    while (next < count) {
      next++;
      sockets.push(await openWs(url).catch(() => undefined as unknown as WebSocket));
    }
  }));
  const openMs = performance.now() - t0;
  const live = sockets.filter(Boolean);
  const payload = new Uint8Array(64).fill(1);
  const echo = await Promise.all(
    live.map((ws) => echoRoundTrips(ws, payload, 1).then(([t]) => t, () => NaN)),
  );
  return {
    result: {
      served: echo.filter(Number.isFinite).length,
      openMs,
      echo: echo.filter(Number.isFinite),
    },
    sockets: live,
  };
}

/**
 * proxy fan-in: 1,000 concurrent WebSocket connections through the proxy, opened 100 at a
 * time, then each echoing 64 B at once. Target: all served; RSS growth per connection
 * reported.
 */
export async function proxyFanIn(ctx: Context): Promise<void> {
  const r = await routes(ctx);
  const count = ctx.scale(1000, 200);
  const pid = r.launcher.program.pid;
  ctx.log(`proxy fan-in: ${count} connections, direct then through pvw-launcher`);
  const direct = await fanIn(r.direct, count);
  await Promise.all(direct.sockets.map(closeWs));
  const before = rssBytes(pid);
  const pvw = await fanIn(r.pvw, count);
  const during = rssBytes(pid);
  await Promise.all(pvw.sockets.map(closeWs));
  const after = rssBytes(pid);
  const row = (subject: string, f: FanIn) => {
    const s = summarize(f.echo);
    return {
      scenario: "proxy fan-in",
      subject,
      n: num(count),
      p50: `${num(f.served)}/${num(count)} served`,
      p90: `open all ${ms(f.openMs)}`,
      p99: `echo p50 ${ms(s.p50)}, p99 ${ms(s.p99)}`,
    };
  };
  ctx.row({ ...row("direct to the app (limit)", direct.result), compared: "" });
  ctx.row({
    ...row("pvw-launcher proxy", pvw.result),
    compared:
      `RSS ${signed(during - before)} (${
        num((during - before) / count / 1024, 1)
      } KiB per connection); ` +
      `${signed(after - before)} after close`,
    target: "all served",
    verdict: verdict(pvw.result.served === count),
  });
  ctx.note(
    "proxy fan-in",
    "echo times are from all connections sending at once. Apache is not measured in this scenario.",
  );
}
