/**
 * control plane and memory: both launchers holding 1,000 live sessions each (a fixture the
 * two scenarios share). The fixture records each launcher's RSS idle (after one warm-up
 * launch) and once its sessions are up, and how long launching them took.
 *
 * @module
 */

import { type Context, type Fixture, interleave, verdict } from "../lib/context.ts";
import { runLoad } from "../lib/http_load.ts";
import { deleteMany, type Launcher, launchMany, SLEEPER, startBoth } from "../lib/launchers.ts";
import { rssBytes } from "../lib/procs.ts";
import { mib, ms, num, summarize, times } from "../lib/stats.ts";

/** One launcher of the fleet. */
export interface Member {
  launcher: Launcher;
  ids: string[];
  idleRss: number;
  fullRss: number;
  launchMs: number;
}

/** Both launchers with their sessions. */
export interface Fleet extends Fixture {
  size: number;
  pvw: Member;
  wslink?: Member;
  /** RSS of pvw-launcher after the control-plane load, if it ran. */
  pvwRssAfterLoad?: number;
}

const CONCURRENCY = 50;

async function member(ctx: Context, launcher: Launcher, size: number): Promise<Member> {
  const warm = await launchMany(launcher.client, "app", 1, 1);
  await deleteMany(launcher.client, warm, 1);
  const idleRss = rssBytes(launcher.program.pid);
  ctx.log(`fleet: launching ${size} sessions on ${launcher.kind}`);
  const t0 = performance.now();
  const ids = await launchMany(launcher.client, "app", size, CONCURRENCY);
  const launchMs = performance.now() - t0;
  return { launcher, ids, idleRss, fullRss: rssBytes(launcher.program.pid), launchMs };
}

/** The shared fleet. */
export function fleet(ctx: Context): Promise<Fleet> {
  return ctx.fixture("fleet", async () => {
    const size = ctx.scale(1000, 100);
    const spec = { apps: { app: { cmd: SLEEPER } }, ports: size };
    const { pvw: pvwLauncher, wslink: wslinkLauncher } = await startBoth(ctx, "fleet", spec);
    const pvw = await member(ctx, pvwLauncher, size);
    const wslink = wslinkLauncher ? await member(ctx, wslinkLauncher, size) : undefined;
    const launches = [
      `pvw-launcher ${ms(pvw.launchMs)}`,
      ...(wslink ? [`wslink ${ms(wslink.launchMs)}`] : []),
    ];
    ctx.note(
      "fleet",
      `launching ${size} sessions, ${CONCURRENCY} POSTs at a time: ${launches.join(", ")}.`,
    );
    return {
      size,
      pvw,
      wslink,
      async dispose() {
        const t0 = performance.now();
        await pvwLauncher.program.stop();
        ctx.note(
          "fleet",
          `pvw-launcher stopped its ${size} sessions (SIGTERM to exit) in ${
            ms(performance.now() - t0)
          }.`,
        );
        await wslinkLauncher?.program.stop();
      },
    };
  });
}

/**
 * control plane: GET by id with 1,000 live sessions, keep-alive, 32 connections, rounds of
 * 5 s alternating between the launchers. Targets: at least 10× wslink's requests/s; p99
 * under 5 ms.
 */
export async function controlPlane(ctx: Context): Promise<void> {
  const f = await fleet(ctx);
  const rounds = ctx.scale(3, 2);
  const seconds = ctx.scale(5, 2);
  const results = {
    pvw: [] as Awaited<ReturnType<typeof runLoad>>[],
    wslink: [] as Awaited<ReturnType<typeof runLoad>>[],
  };
  const load = (m: Member) => ({
    base: m.launcher.base,
    paths: m.ids.map((id) => `/paraview/${id}`),
    connections: 32,
    ms: seconds * 1000,
    env: ctx.cleanup.env("wrk"),
  });
  const client = ctx.tools.wrk ? "wrk" : "the bench's keep-alive client";
  ctx.log(`control plane: ${rounds} rounds of ${seconds} s each, ${client}`);
  await interleave(rounds, [
    { run: async () => void results.pvw.push(await runLoad(load(f.pvw), ctx.tools.wrk, ctx.root)) },
    f.wslink
      ? {
        run: async () =>
          void results.wslink.push(await runLoad(load(f.wslink!), ctx.tools.wrk, ctx.root)),
      }
      : undefined,
  ]);
  f.pvwRssAfterLoad = rssBytes(f.pvw.launcher.program.pid);
  const sum = (rs: typeof results.pvw) => ({
    rps: summarize(rs.map((r) => r.rps)).p50,
    p50: summarize(rs.map((r) => r.p50)).p50,
    p90: Math.max(...rs.map((r) => r.p90)),
    p99: Math.max(...rs.map((r) => r.p99)),
    errors: rs.reduce((n, r) => n + r.errors, 0),
    requests: rs.reduce((n, r) => n + r.requests, 0),
  });
  const p = sum(results.pvw);
  const row = (subject: string, s: typeof p) => ({
    scenario: "control plane",
    subject,
    n: `${rounds}×${seconds} s`,
    p50: `${num(s.rps)} req/s`,
    p90: `p50 ${ms(s.p50)}`,
    p99: `p99 ${ms(s.p99)}`,
  });
  const note = p.errors ? `; ${p.errors} errors of ${num(p.requests)}` : "";
  ctx.row({
    ...row(`pvw-launcher GET by id, ${num(f.size)} sessions`, p),
    compared: `p90 ${ms(p.p90)}${note}`,
    target: "p99 < 5 ms",
    verdict: verdict(p.p99 < 5 && p.errors === 0),
  });
  if (!f.wslink) return;
  const w = sum(results.wslink);
  ctx.row({
    ...row(`wslink launcher GET by id, ${num(f.size)} sessions`, w),
    compared: `pvw ${times(p.rps, w.rps)} its req/s` + (w.errors ? `; ${w.errors} errors` : ""),
    target: "pvw ≥ 10× wslink req/s",
    verdict: verdict(p.rps >= 10 * w.rps),
  });
  const perRound = results.wslink.map((r) => num(r.rps)).join(", ");
  ctx.note(
    "control plane",
    `medians over rounds; p90/p99 are the worst round's. Load: ${client}, 32 keep-alive connections. ` +
      `wslink req/s per round: ${perRound} (its GET appends to its "fields" list on every ` +
      `request, so it slows down as it serves).`,
  );
}

/** memory: launcher RSS idle and with 1,000 live sessions. Target: at most 120 MiB with 1,000. */
export async function memory(ctx: Context): Promise<void> {
  const f = await fleet(ctx);
  const now = rssBytes(f.pvw.launcher.program.pid);
  ctx.row({
    scenario: "memory",
    subject: `pvw-launcher RSS with ${num(f.size)} sessions`,
    n: "1",
    p50: mib(f.pvw.fullRss),
    p90: `idle ${mib(f.pvw.idleRss)}`,
    p99: f.pvwRssAfterLoad ? `after the GET load ${mib(f.pvwRssAfterLoad)}` : `now ${mib(now)}`,
    compared: `${num((f.pvw.fullRss - f.pvw.idleRss) / f.size / 1024, 1)} KiB per session`,
    target: `≤ 120 MiB with ${num(f.size)} sessions`,
    verdict: verdict(Math.max(f.pvw.fullRss, now) <= 120 * 1024 * 1024),
  });
  if (f.pvwRssAfterLoad) {
    ctx.note(
      "memory",
      `the target is checked on the RSS with the sessions up (and again when this scenario runs); ` +
        `right after the control-plane load (32 connections at full speed) it was ` +
        `${mib(f.pvwRssAfterLoad)}: V8 grows its young generation under a high allocation rate.`,
    );
  }
  if (!f.wslink) return;
  ctx.row({
    scenario: "memory",
    subject: `wslink launcher RSS with ${num(f.size)} sessions`,
    n: "1",
    p50: mib(f.wslink.fullRss),
    p90: `idle ${mib(f.wslink.idleRss)}`,
    p99: `now ${mib(rssBytes(f.wslink.launcher.program.pid))}`,
    compared: `${num((f.wslink.fullRss - f.wslink.idleRss) / f.size / 1024, 1)} KiB per session`,
  });
}
