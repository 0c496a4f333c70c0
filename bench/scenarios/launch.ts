/**
 * launch and slow app: POST to 200 for an app ready at once, and for one ready after 300 ms,
 * against the same app spawned directly (spawn to ready line read) and the wslink launcher.
 * Each launched session is deleted (untimed) before the next round.
 *
 * @module
 */

import { type Context, interleave, verdict } from "../lib/context.ts";
import { spawnDirect } from "../lib/direct.ts";
import { type Launcher, SLEEPER, slowSleeper, startBoth } from "../lib/launchers.ts";
import { ms, summarize, times } from "../lib/stats.ts";

async function timedLaunch(launcher: Launcher, app: string, out: number[]): Promise<void> {
  const a = await launcher.client.post(app);
  if (a.status !== 200) {
    throw new Error(`${launcher.kind} answered ${a.status}: ${JSON.stringify(a.json)}`);
  }
  out.push(a.ms);
  const d = await launcher.client.delete(String(a.json.id));
  if (d.status !== 200) throw new Error(`${launcher.kind} DELETE answered ${d.status}`);
}

/** Compares launch latencies and adds the rows. */
async function compare(
  ctx: Context,
  scenario: string,
  argv: string[],
  rounds: number,
  wslinkRounds: number,
): Promise<{ direct: number[]; pvw: number[]; wslink: number[] }> {
  const { pvw, wslink } = await startBoth(ctx, scenario, {
    apps: { app: { cmd: argv } },
    ports: 10,
  });
  const samples = { direct: [] as number[], pvw: [] as number[], wslink: [] as number[] };
  // Warm-up, not counted: the first request of each compiles code paths.
  await timedLaunch(pvw, "app", []);
  if (wslink) await timedLaunch(wslink, "app", []);
  await (await spawnDirect(ctx.cleanup, argv)).kill();
  ctx.log(`${scenario}: ${rounds} rounds (wslink: ${wslink ? wslinkRounds : 0})`);
  await interleave(rounds, [
    {
      run: async () => {
        const app = await spawnDirect(ctx.cleanup, argv);
        samples.direct.push(app.ms);
        await app.kill();
      },
    },
    { run: () => timedLaunch(pvw, "app", samples.pvw) },
    wslink
      ? { rounds: wslinkRounds, run: () => timedLaunch(wslink, "app", samples.wslink) }
      : undefined,
  ]);
  await pvw.program.stop();
  await wslink?.program.stop();
  return samples;
}

function row(ctx: Context, scenario: string, subject: string, s: number[], compared = "") {
  const sum = summarize(s);
  ctx.row({
    scenario,
    subject,
    n: String(sum.n),
    p50: ms(sum.p50),
    p90: ms(sum.p90),
    p99: ms(sum.p99),
    compared,
  });
  return sum;
}

/**
 * launch: an app ready at once, 50 rounds. Targets: p50 at most the direct spawn + 3 ms; at
 * least 50× faster p50 than wslink.
 */
export async function launch(ctx: Context): Promise<void> {
  const rounds = ctx.scale(50, 10);
  const s = await compare(ctx, "launch", SLEEPER, rounds, ctx.scale(50, 5));
  const direct = row(ctx, "launch", "direct spawn (limit)", s.direct);
  const pvw = overDirect(ctx, "launch", s.pvw, direct.p50, 3);
  if (!s.wslink.length) {
    ctx.row({ ...skipped("launch"), target: "≥ 50× faster p50 than wslink" });
    return;
  }
  const wslink = summarize(s.wslink);
  ctx.row({
    scenario: "launch",
    subject: "wslink launcher POST",
    n: String(wslink.n),
    p50: ms(wslink.p50),
    p90: ms(wslink.p90),
    p99: ms(wslink.p99),
    compared: `pvw ${times(wslink.p50, pvw.p50)} faster (p50)`,
    target: "pvw ≥ 50× faster p50",
    verdict: verdict(wslink.p50 / pvw.p50 >= 50),
  });
  const quick = s.wslink.filter((t) => t < 100).length;
  ctx.note(
    "launch",
    `${quick} of ${s.wslink.length} wslink launches were answered within 100 ms, the others after ` +
      `its 1 s poll: it looks at the log once right after the spawn, and this app is sometimes ` +
      `already ready then.`,
  );
}

/** A row saying the wslink baseline is missing. */
export function skipped(scenario: string) {
  return {
    scenario,
    subject: "wslink launcher",
    n: "0",
    p50: "–",
    p90: "–",
    p99: "–",
    compared: "no wslink venv",
    verdict: "skipped" as const,
  };
}

/** slow app: ready after 300 ms. Target: p50 within 5 ms of the direct spawn of the same app. */
export async function slowApp(ctx: Context): Promise<void> {
  const rounds = ctx.scale(30, 6);
  const wslinkRounds = ctx.scale(10, 3);
  const s = await compare(ctx, "slow app", slowSleeper(300), rounds, wslinkRounds);
  const direct = row(ctx, "slow app", "direct spawn, ready after 300 ms (limit)", s.direct);
  const pvw = overDirect(ctx, "slow app", s.pvw, direct.p50, 5);
  if (s.wslink.length) {
    const w = row(ctx, "slow app", "wslink launcher POST", s.wslink);
    ctx.rows.at(-1)!.compared = `pvw ${times(w.p50, pvw.p50)} faster (p50)`;
    ctx.note("slow app", "the limit is the same slow app spawned directly (300 ms + its spawn).");
    if (wslinkRounds < rounds) {
      ctx.note("slow app", `wslink takes part in ${wslinkRounds} of the ${rounds} rounds.`);
    }
  }
}

/** Adds the pvw-launcher row of a scenario whose target is the direct spawn plus `slackMs`. */
function overDirect(
  ctx: Context,
  scenario: string,
  samples: number[],
  directP50: number,
  slackMs: number,
): ReturnType<typeof summarize> {
  const pvw = summarize(samples);
  ctx.row({
    scenario,
    subject: "pvw-launcher POST",
    n: String(pvw.n),
    p50: ms(pvw.p50),
    p90: ms(pvw.p90),
    p99: ms(pvw.p99),
    compared: `+${ms(pvw.p50 - directP50)} over direct (p50)`,
    target: `p50 ≤ direct + ${slackMs} ms`,
    verdict: verdict(pvw.p50 <= directP50 + slackMs),
  });
  return pvw;
}
