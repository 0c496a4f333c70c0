/**
 * churn: POST+DELETE cycles, one after the other; the launcher's open fds, its processes
 * (live and zombie) and its RSS before (after a warm-up) and after. The wslink launcher
 * takes about a second per cycle, so it runs fewer cycles, interleaved with pvw-launcher's.
 *
 * @module
 */

import { type Context, interleave, verdict } from "../lib/context.ts";
import { type Launcher, SLEEPER, startBoth } from "../lib/launchers.ts";
import { family, openFds, rssBytes } from "../lib/procs.ts";
import { mib, num, times } from "../lib/stats.ts";

interface Snapshot {
  fds: number;
  live: number;
  zombies: number;
  rss: number;
}

function snapshot(ctx: Context, l: Launcher): Snapshot {
  const f = family(l.program.pid, ctx.cleanup.run, l.program.name);
  return {
    fds: openFds(l.program.pid),
    live: f.live,
    zombies: f.zombies,
    rss: rssBytes(l.program.pid),
  };
}

async function cycles(l: Launcher, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const a = await l.client.post("app");
    if (a.status !== 200) throw new Error(`${l.kind} POST answered ${a.status}`);
    const d = await l.client.delete(String(a.json.id));
    if (d.status !== 200) throw new Error(`${l.kind} DELETE answered ${d.status}`);
  }
  return performance.now() - t0;
}

function describe(s: Snapshot): string {
  return `${s.fds} fds, ${s.live} procs${s.zombies ? ` + ${s.zombies} zombies` : ""}, ${
    mib(s.rss)
  }`;
}

/** Tolerated RSS growth over all the cycles (a leak of 5 KiB per cycle would exceed it). */
const RSS_SLACK = 5 * 1024 * 1024;

/**
 * churn. Target: no growth in open fds, processes or RSS after the cycles; cycles/s reported
 * against wslink.
 */
export async function churn(ctx: Context): Promise<void> {
  const total = ctx.scale(1000, 100);
  const wslinkTotal = ctx.scale(20, 4);
  const spec = { apps: { app: { cmd: SLEEPER } }, ports: 20 };
  const { pvw, wslink } = await startBoth(ctx, "churn", spec);
  const warmUp = ctx.scale(100, 20);
  await cycles(pvw, warmUp);
  if (wslink) await cycles(wslink, 2);
  const before = { pvw: snapshot(ctx, pvw), wslink: wslink && snapshot(ctx, wslink) };
  const spent = { pvw: 0, wslink: 0 };
  const rounds = wslink ? wslinkTotal : 10;
  ctx.log(`churn: ${total} cycles (wslink: ${wslink ? wslinkTotal : 0}) in ${rounds} rounds`);
  let done = 0;
  await interleave(rounds, [
    {
      run: async (r) => {
        const n = Math.round((total * (r + 1)) / rounds) - done;
        spent.pvw += await cycles(pvw, n);
        done += n;
      },
    },
    wslink ? { run: async () => void (spent.wslink += await cycles(wslink, 1)) } : undefined,
  ]);
  const after = { pvw: snapshot(ctx, pvw), wslink: wslink && snapshot(ctx, wslink) };
  await pvw.program.stop();
  await wslink?.program.stop();

  const rate = (total / spent.pvw) * 1000;
  const b = before.pvw;
  const a = after.pvw;
  const grew = a.fds > b.fds || a.live > b.live || a.zombies > b.zombies ||
    a.rss - b.rss > RSS_SLACK;
  ctx.row({
    scenario: "churn",
    subject: `pvw-launcher, ${num(total)} POST+DELETE cycles`,
    n: num(total),
    p50: `${num(rate, 1)} cycles/s`,
    p90: `before: ${describe(b)}`,
    p99: `after: ${describe(a)}`,
    compared: `RSS ${a.rss >= b.rss ? "+" : ""}${mib(a.rss - b.rss)}`,
    target: "no growth in fds, processes, RSS (≤ 5 MiB)",
    verdict: verdict(!grew),
  });
  if (!wslink) return;
  const wrate = (wslinkTotal / spent.wslink) * 1000;
  ctx.row({
    scenario: "churn",
    subject: `wslink launcher, ${wslinkTotal} cycles`,
    n: String(wslinkTotal),
    p50: `${num(wrate, 2)} cycles/s`,
    p90: `before: ${describe(before.wslink!)}`,
    p99: `after: ${describe(after.wslink!)}`,
    compared: `pvw ${times(rate, wrate)} its cycles/s`,
  });
  ctx.note(
    "churn",
    `wslink runs ${wslinkTotal} cycles (about 1 s each), one between each block of ` +
      `${
        Math.round(total / rounds)
      } pvw-launcher cycles; after a warm-up of ${warmUp} (pvw) and 2 (wslink).`,
  );
}
