/**
 * restart: SIGKILL the launcher holding 1,000 sessions, start it again on the same config
 * (state file), and time until every session is adopted and answers GET. The wslink launcher
 * keeps no state: its sessions are orphaned by a restart, so it has no figure here.
 *
 * @module
 */

import { type Context, verdict } from "../lib/context.ts";
import { type Launcher, launchMany, runPvw, SLEEPER, startPvw } from "../lib/launchers.ts";
import { family } from "../lib/procs.ts";
import { ms, num, summarize } from "../lib/stats.ts";

/** GETs every id (32 at a time) until all answer 200; returns how many passes it took. */
async function allAnswer(l: Launcher, ids: string[], deadline: number): Promise<number> {
  let pending = ids;
  let passes = 0;
  while (pending.length) {
    if (performance.now() > deadline) {
      throw new Error(`${pending.length} sessions never answered GET`);
    }
    passes++;
    const failed: string[] = [];
    let next = 0;
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (next < pending.length) {
        const id = pending[next++];
        const a = await l.client.get(id).catch(() => undefined);
        if (a?.status !== 200) failed.push(id);
      }
    }));
    pending = failed;
  }
  return passes;
}

/** restart. Target: all adopted and answering GET within 2 s. */
export async function restart(ctx: Context): Promise<void> {
  const size = ctx.scale(1000, 100);
  const rounds = ctx.scale(3, 2);
  const name = "pvw-restart";
  const l = await startPvw(ctx.cleanup, ctx.root, name, {
    apps: { app: { cmd: SLEEPER } },
    ports: size,
  });
  ctx.log(`restart: launching ${size} sessions`);
  const ids = await launchMany(l.client, "app", size, 50);
  const listen: number[] = [];
  const total: number[] = [];
  let lost = 0;
  for (let r = 0; r < rounds; r++) {
    await l.program.kill();
    const t0 = performance.now();
    listen.push(await runPvw(ctx.cleanup, l, name));
    await allAnswer(l, ids, t0 + 60_000);
    total.push(performance.now() - t0);
    const f = family(l.program.pid, ctx.cleanup.run, name);
    lost = Math.max(lost, size - f.live);
    ctx.log(`restart: round ${r + 1}: ${ms(total.at(-1)!)}`);
  }
  const t0 = performance.now();
  await l.program.stop();
  const stopMs = performance.now() - t0;
  const left = family(l.program.pid, ctx.cleanup.run, name).live;
  const s = summarize(total);
  const li = summarize(listen);
  ctx.row({
    scenario: "restart",
    subject: `pvw-launcher, SIGKILL with ${num(size)} sessions, start again`,
    n: `${rounds} restarts`,
    p50: ms(s.p50),
    p90: `max ${ms(s.max)}`,
    p99: `listening after ${ms(li.p50)}`,
    compared: lost ? `${lost} sessions lost` : `all ${num(size)} adopted, none lost`,
    target: "all answering GET ≤ 2 s",
    verdict: verdict(s.max <= 2000 && lost === 0),
  });
  ctx.row({
    scenario: "restart",
    subject: `pvw-launcher, SIGTERM with ${num(size)} adopted sessions`,
    n: "1",
    p50: ms(stopMs),
    p90: "",
    p99: "",
    compared: left ? `${left} processes left behind` : "every session stopped",
  });
  ctx.row({
    scenario: "restart",
    subject: "wslink launcher",
    n: "–",
    p50: "–",
    p90: "",
    p99: "",
    compared: "keeps no state: a restarted launcher knows none of its sessions",
  });
}
