/**
 * warm: what warm processes save a user. An app that is ready 2 s after it starts (as a trame
 * or ParaView server takes seconds), launched cold and from a warm pool by pvw-launcher, and by
 * the wslink launcher, in the same run; then a burst of 40 POSTs on a pool of 10 warm processes
 * with room for 60 sessions.
 *
 * @module
 */

import { type Context, interleave, verdict } from "../lib/context.ts";
import {
  deleteMany,
  type Launcher,
  type RestClient,
  slowSleeper,
  startBoth,
} from "../lib/launchers.ts";
import { ms, summarize, times } from "../lib/stats.ts";

const START_MS = 2000;

/** Reads the waiting warm processes of `application` from `/metrics`. */
export async function waiting(launcher: Launcher, application: string): Promise<number> {
  const text = await (await fetch(`${launcher.base}/metrics`)).text();
  const m = text.match(
    new RegExp(
      `pvw_launcher_warm_processes\\{application="${application}",state="waiting"\\} (\\d+)`,
    ),
  );
  return m ? Number(m[1]) : 0;
}

/** Waits until `n` processes of `application` wait; returns how long that took, in ms. */
export async function filled(
  launcher: Launcher,
  application: string,
  n: number,
  deadlineMs = 30_000,
): Promise<number> {
  const t0 = performance.now();
  while (await waiting(launcher, application) < n) {
    if (performance.now() - t0 > deadlineMs) {
      throw new Error(`the warm pool of ${application} did not reach ${n} within ${deadlineMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return performance.now() - t0;
}

async function timedSession(client: RestClient, app: string, out: number[]): Promise<void> {
  const a = await client.post(app);
  if (a.status !== 200) {
    throw new Error(`POST ${app} answered ${a.status}: ${JSON.stringify(a.json)}`);
  }
  out.push(a.ms);
  const d = await client.delete(String(a.json.id));
  if (d.status !== 200) throw new Error(`DELETE answered ${d.status}`);
}

/** warm. Targets: a warm hit p50 ≤ 3 ms; cold ≈ the app's start; wslink ≥ the app's start. */
export async function warm(ctx: Context): Promise<void> {
  const rounds = ctx.scale(12, 3);
  const wslinkRounds = ctx.scale(4, 1);
  const cmd = slowSleeper(START_MS);
  const { pvw, wslink } = await startBoth(ctx, "warm", {
    apps: { cold: { cmd, timeout: 30 }, hot: { cmd, timeout: 30, warm: 2 } },
    ports: 20,
  });
  await filled(pvw, "hot", 2);
  const s = { cold: [] as number[], hot: [] as number[], wslink: [] as number[] };
  ctx.log(`warm: ${rounds} rounds of an app ready after ${START_MS} ms`);
  await interleave(rounds, [
    { run: () => timedSession(pvw.client, "cold", s.cold) },
    {
      run: async () => {
        await filled(pvw, "hot", 1); // a hit is what is measured: wait for a refill if needed
        await timedSession(pvw.client, "hot", s.hot);
      },
    },
    wslink
      ? { rounds: wslinkRounds, run: () => timedSession(wslink.client, "cold", s.wslink) }
      : undefined,
  ]);
  const cold = summarize(s.cold);
  const hot = summarize(s.hot);
  const row = (subject: string, v: ReturnType<typeof summarize>, compared: string) => ({
    scenario: "warm",
    subject,
    n: String(v.n),
    p50: ms(v.p50),
    p90: ms(v.p90),
    p99: ms(v.p99),
    compared,
  });
  ctx.row(
    row(`pvw-launcher POST, cold (app ready after ${START_MS / 1000} s)`, cold, "the app's start"),
  );
  ctx.row({
    ...row(
      "pvw-launcher POST, warm hit",
      hot,
      `${times(cold.p50, hot.p50)} faster than cold (p50)`,
    ),
    target: "p50 ≤ 3 ms",
    verdict: verdict(hot.p50 <= 3),
  });
  if (wslink) {
    const w = summarize(s.wslink);
    ctx.row({
      ...row("wslink launcher POST", w, `pvw warm ${times(w.p50, hot.p50)} faster (p50)`),
      target: `≥ ${START_MS / 1000} s (it has no warm processes)`,
      verdict: verdict(w.p50 >= START_MS),
    });
  }
  await pvw.program.stop();
  await wslink?.program.stop();
  await warmBurst(ctx);
}

/** 40 POSTs at once on 10 warm processes, room for 60: none fails; the pool fills again. */
async function warmBurst(ctx: Context): Promise<void> {
  const size = 40;
  const pool = 10;
  const { pvw } = await startBoth(ctx, "warm-burst", {
    apps: { hot: { cmd: slowSleeper(START_MS), timeout: 30, warm: pool } },
    ports: 60,
  }, { wslink: false });
  await filled(pvw, "hot", pool);
  const t0 = performance.now();
  const answers = await Promise.all(
    Array.from({ length: size }, () => pvw.client.post("hot").catch(() => undefined)),
  );
  const good = answers.filter((a) => a?.status === 200);
  const times_ = good.map((a) => a!.ms).sort((a, b) => a - b);
  const hits = times_.filter((t) => t < START_MS / 2);
  const refill = await filled(pvw, "hot", pool);
  const sinceBurst = performance.now() - t0;
  const hitStats = summarize(hits.length ? hits : [NaN]);
  ctx.row({
    scenario: "warm burst",
    subject: `pvw-launcher, ${size} POSTs at once, warm: ${pool}, room for 60`,
    n: `${good.length}/${size}`,
    p50: ms(hitStats.p50),
    p90: ms(hitStats.p90),
    p99: ms(times_.at(-1) ?? NaN),
    compared:
      `${hits.length} answered from the pool (p50, p90 of those); the slowest answer (p99 column)`,
    target: `all ${size} answered 200, ${pool} at once`,
    verdict: verdict(good.length === size && hits.length >= pool),
  });
  ctx.row({
    scenario: "warm burst",
    subject: "the pool full again, from the burst",
    n: "1",
    p50: ms(sinceBurst),
    p90: "–",
    p99: "–",
    compared: `${ms(refill)} after the last answer; the app starts in ${START_MS} ms`,
    target: "within one app start (+50 %)",
    verdict: verdict(sinceBurst <= START_MS * 1.5),
  });
  const failed = await deleteMany(pvw.client, good.map((a) => String(a!.json.id)), 16);
  if (failed) throw new Error(`${failed} DELETEs failed after the warm burst`);
  await pvw.program.stop();
}
