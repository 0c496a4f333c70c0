/**
 * slurm: time to ready of 20 sessions started at once as Slurm jobs, through pvw-launcher
 * (20 POSTs at once, each timed to its 200) against the same jobs submitted by hand (20
 * `sbatch` at once, then `squeue` every 100 ms until each runs, then its output file read
 * every 50 ms until its ready line), in the same run, interleaved. Needs the test cluster of
 * `.ci/setup-slurm`; skipped without it. Jobs are named `pvwbench-*`; every one is cancelled
 * between rounds and at the end.
 *
 * @module
 */

import { join } from "node:path";
import {
  cancelJobs,
  listJobs,
  sbatch,
  SLURM_CONF,
  slurmNeeds,
  waitForNodesUsable,
} from "../../tests/e2e/slurm.ts";
import { type Context, interleave } from "../lib/context.ts";
import { deleteMany, type Launcher, READY_LINE, runPvw, SLEEPER } from "../lib/launchers.ts";
import { portRange } from "../lib/ports.ts";
import { ms, summarize, times } from "../lib/stats.ts";

const SIZE = 20;
const PREFIX = "pvwbench-";

/** A pvw-launcher whose app runs as a job in the `viz` partition. */
async function startClusterLauncher(ctx: Context): Promise<Launcher> {
  const dir = join(ctx.root, "pvw-slurm");
  await Deno.mkdir(join(dir, "logs"), { recursive: true, mode: 0o700 });
  ctx.cleanup.defer(`remove ${dir}`, () => Deno.remove(dir, { recursive: true }).catch(() => {}));
  const [first, last] = portRange(SIZE);
  const config = {
    configuration: {
      host: "127.0.0.1",
      port: 0,
      endpoint: "paraview",
      log_dir: join(dir, "logs"),
      timeout: 60,
      cluster: {
        slurm_conf: SLURM_CONF,
        port_range: [first, last],
        job_prefix: PREFIX,
      },
    },
    apps: { app: { cmd: SLEEPER, ready_line: READY_LINE, slurm: { partition: "viz" } } },
  };
  const configFile = join(dir, "launcher.json");
  await Deno.writeTextFile(configFile, JSON.stringify(config, null, 2));
  const launcher = { kind: "pvw", dir, configFile, base: "" } as Launcher;
  await runPvw(ctx.cleanup, launcher, "pvw-slurm");
  return launcher;
}

/** 20 POSTs at once; each one's time to its 200. */
async function throughLauncher(launcher: Launcher): Promise<number[]> {
  const answers = await Promise.all(
    Array.from({ length: SIZE }, () => launcher.client.post("app")),
  );
  const bad = answers.find((a) => a.status !== 200);
  if (bad) throw new Error(`a launch answered ${bad.status}: ${JSON.stringify(bad.json)}`);
  const failed = await deleteMany(launcher.client, answers.map((a) => String(a.json.id)), SIZE);
  if (failed) throw new Error(`${failed} DELETEs failed`);
  return answers.map((a) => a.ms);
}

/** Waits a little without holding the process open past the scenario. */
const pause = (milliseconds: number) => new Promise((r) => setTimeout(r, milliseconds));

/** 20 `sbatch` at once, then polling by hand; each job's time to its ready line. */
async function byHand(dir: string, round: number): Promise<number[]> {
  const t0 = performance.now();
  const script = `#!/bin/sh\nexec ${SLEEPER.map((a) => `'${a}'`).join(" ")}\n`;
  const files = Array.from({ length: SIZE }, (_, i) => join(dir, `hand-${round}-${i}.log`));
  const ids = await Promise.all(
    files.map((file, i) =>
      sbatch([`--job-name=${PREFIX}hand-${i}`, "--partition=viz", `--output=${file}`], script)
    ),
  );
  const readyAt: number[] = new Array(SIZE);
  try {
    let pending = ids.map((id, i) => ({ id, i }));
    while (pending.length > 0) {
      const jobs = new Map(
        (await listJobs({ ids: pending.map((p) => p.id) })).map((j) => [j.id, j]),
      );
      const running = pending.filter((p) => jobs.get(p.id)?.state === "RUNNING");
      for (const { i } of running) {
        const text = await Deno.readTextFile(files[i]).catch(() => "");
        if (text.includes(READY_LINE)) readyAt[i] = performance.now() - t0;
      }
      pending = pending.filter(({ i }) => readyAt[i] === undefined);
      if (pending.length > 0) await pause(running.length === pending.length ? 50 : 100);
    }
  } finally {
    await cancelJobs(ids);
  }
  return readyAt;
}

/** slurm. No target: the row compares the launcher with what a script would do. */
export async function slurm(ctx: Context): Promise<void> {
  if (slurmNeeds.ignore) {
    ctx.note("slurm", "skipped: no Slurm cluster (run .ci/setup-slurm)");
    return;
  }
  await waitForNodesUsable();
  ctx.cleanup.defer("cancel the benchmark's Slurm jobs", async () => {
    const ours = (await listJobs()).filter((j) => j.name.startsWith(PREFIX));
    await cancelJobs(ours.map((j) => j.id));
  });
  const launcher = await startClusterLauncher(ctx);
  const handDir = join(ctx.root, "slurm-by-hand");
  await Deno.mkdir(handDir, { recursive: true });
  const rounds = ctx.scale(3, 1);
  await throughLauncher(launcher); // warm-up, not counted
  const pvw: number[] = [];
  const hand: number[] = [];
  const pvwWall: number[] = [];
  const handWall: number[] = [];
  ctx.log(`slurm: ${rounds} rounds of ${SIZE} jobs, through the launcher and by hand`);
  await interleave(rounds, [
    {
      run: async (r) => {
        const samples = await byHand(handDir, r);
        hand.push(...samples);
        handWall.push(Math.max(...samples));
      },
    },
    {
      run: async () => {
        const samples = await throughLauncher(launcher);
        pvw.push(...samples);
        pvwWall.push(Math.max(...samples));
      },
    },
  ]);
  await launcher.program.stop();
  const h = summarize(hand);
  const p = summarize(pvw);
  ctx.row({
    scenario: "slurm",
    subject: `${SIZE} jobs at once: sbatch, then squeue and the output polled by hand`,
    n: `${rounds}×${SIZE}`,
    p50: ms(h.p50),
    p90: ms(h.p90),
    p99: `${ms(summarize(handWall).p50)} all ready (p50)`,
    compared: "",
  });
  ctx.row({
    scenario: "slurm",
    subject: `pvw-launcher, ${SIZE} POSTs at once (Slurm sessions)`,
    n: `${rounds}×${SIZE}`,
    p50: ms(p.p50),
    p90: ms(p.p90),
    p99: `${ms(summarize(pvwWall).p50)} all ready (p50)`,
    compared: `${times(p.p50, h.p50)} the time by hand (p50)`,
  });
}
