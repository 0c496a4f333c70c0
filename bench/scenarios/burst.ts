/**
 * burst: 200 simultaneous POSTs on a pool of 200 ports; wall time until every answer, against
 * 200 direct spawns at once (until every ready line is read) and the wslink launcher. Between
 * rounds every session is deleted (untimed).
 *
 * @module
 */

import { type Context, interleave, verdict } from "../lib/context.ts";
import { spawnDirect } from "../lib/direct.ts";
import { deleteMany, type Launcher, SLEEPER, startBoth } from "../lib/launchers.ts";
import { ms, summarize, times } from "../lib/stats.ts";

interface BurstRound {
  wall: number;
  ok: boolean;
  detail: string;
}

async function burstLaunch(launcher: Launcher, size: number): Promise<BurstRound> {
  const t0 = performance.now();
  const answers = await Promise.all(
    Array.from({ length: size }, () => launcher.client.post("app").catch(() => undefined)),
  );
  const wall = performance.now() - t0;
  const good = answers.filter((a) => a?.status === 200);
  const ports = new Set(good.map((a) => `${a!.json.host}:${a!.json.port}`));
  const failed = await deleteMany(launcher.client, good.map((a) => String(a!.json.id)), 32);
  if (failed) throw new Error(`${launcher.kind}: ${failed} DELETEs failed after a burst`);
  const statuses = answers.map((a) => a?.status ?? "error").filter((s) => s !== 200);
  return {
    wall,
    ok: good.length === size && ports.size === size,
    detail: `${good.length}/${size} answered 200, ${ports.size} distinct ports` +
      (statuses.length ? ` (others: ${[...new Set(statuses)].join(", ")})` : ""),
  };
}

async function burstDirect(ctx: Context, size: number): Promise<number> {
  const t0 = performance.now();
  const apps = await Promise.all(
    Array.from({ length: size }, () => spawnDirect(ctx.cleanup, SLEEPER)),
  );
  const wall = performance.now() - t0;
  await Promise.all(apps.map((a) => a.kill()));
  return wall;
}

/**
 * burst. Targets: all 200 answered 200 with distinct ports; wall time at most 2× the 200
 * direct spawns.
 */
export async function burst(ctx: Context): Promise<void> {
  const size = 200;
  const rounds = ctx.scale(5, 2);
  const wslinkRounds = ctx.scale(2, 1);
  const spec = { apps: { app: { cmd: SLEEPER } }, ports: size };
  const { pvw, wslink } = await startBoth(ctx, "burst", spec);
  const direct: number[] = [];
  const pvwRounds: BurstRound[] = [];
  const wslinkResults: BurstRound[] = [];
  await burstLaunch(pvw, 10); // warm-up
  ctx.log(`burst: ${rounds} rounds of ${size} (wslink: ${wslink ? wslinkRounds : 0})`);
  await interleave(rounds, [
    { run: async () => void direct.push(await burstDirect(ctx, size)) },
    { run: async () => void pvwRounds.push(await burstLaunch(pvw, size)) },
    wslink
      ? {
        rounds: wslinkRounds,
        run: async () => void wslinkResults.push(await burstLaunch(wslink, size)),
      }
      : undefined,
  ]);
  await pvw.program.stop();
  await wslink?.program.stop();

  const d = summarize(direct);
  ctx.row({
    scenario: "burst",
    subject: `${size} direct spawns at once (limit)`,
    n: `${rounds} rounds`,
    p50: ms(d.p50),
    p90: ms(d.p90),
    p99: ms(d.max) + " max",
    compared: "",
  });
  const p = summarize(pvwRounds.map((r) => r.wall));
  const allOk = pvwRounds.every((r) => r.ok);
  ctx.row({
    scenario: "burst",
    subject: `pvw-launcher, ${size} POSTs at once`,
    n: `${rounds} rounds`,
    p50: ms(p.p50),
    p90: ms(p.p90),
    p99: ms(p.max) + " max",
    compared: `${times(p.p50, d.p50)} the direct wall time (p50)`,
    target: "wall ≤ 2× direct",
    verdict: verdict(p.p50 <= 2 * d.p50),
  });
  ctx.row({
    scenario: "burst",
    subject: "pvw-launcher answers",
    n: `${rounds} rounds`,
    p50: allOk ? `${size}/${size}` : "failures",
    p90: "",
    p99: "",
    compared: pvwRounds.find((r) => !r.ok)?.detail ?? pvwRounds[0]?.detail ?? "",
    target: `all ${size} answered 200, distinct ports`,
    verdict: verdict(allOk),
  });
  if (wslinkResults.length) {
    const w = summarize(wslinkResults.map((r) => r.wall));
    ctx.row({
      scenario: "burst",
      subject: `wslink launcher, ${size} POSTs at once`,
      n: `${wslinkResults.length} rounds`,
      p50: ms(w.p50),
      p90: ms(w.p90),
      p99: ms(w.max) + " max",
      compared: `pvw ${times(w.p50, p.p50)} faster; ${wslinkResults[0].detail}`,
    });
  }
}
