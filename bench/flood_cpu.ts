/**
 * What a session that floods its output costs the launcher: one session runs `yes` after its
 * ready line (its log capped by `max_log_size` 1M), and the launcher's own CPU time is read
 * from `/proc` over a few seconds, with and without the flood, as well as how long `/healthz`
 * takes meanwhile. System time is mostly the kernel's work of dropping the flood's bytes
 * (`fallocate`), which the log cap does on a thread of its own.
 *
 * ```sh
 * deno run --frozen --allow-all bench/flood_cpu.ts [SECONDS]
 * ```
 *
 * @module
 */

import { specConfig, startLauncher } from "../tests/integration/harness.ts";
import { killSessionsIn } from "../tests/integration/procfs.ts";
import { summarize } from "./lib/stats.ts";

const TICKS = 100; // clock ticks a second (USER_HZ), as /proc/<pid>/stat counts them

/** The CPU time a process and its threads used so far, in seconds: user, and system. */
function cpuSeconds(pid: number): { user: number; system: number } {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(f[11]) / TICKS, system: Number(f[12]) / TICKS };
}

/** The share of a core `pid` uses over `seconds`, and how long /healthz takes meanwhile. */
async function measure(port: string, pid: number, seconds: number) {
  const started = cpuSeconds(pid);
  const t0 = performance.now();
  const health: number[] = [];
  while (performance.now() - t0 < seconds * 1000) {
    const t = performance.now();
    await (await fetch(`${port}/healthz`)).body?.cancel();
    health.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 100));
  }
  const wall = (performance.now() - t0) / 1000;
  const ended = cpuSeconds(pid);
  return {
    user: (ended.user - started.user) / wall,
    system: (ended.system - started.system) / wall,
    health: summarize(health),
  };
}

if (import.meta.main) {
  const seconds = Number(Deno.args[0] ?? 5);
  const launcher = await startLauncher((dir) =>
    specConfig(dir, {
      quiet: { cmd: ["sh", "-c", "echo Starting factory; exec sleep 600"] },
      flood: { cmd: ["sh", "-c", "echo Starting factory; exec yes"] },
    }, { max_log_size: "1M" })
  );
  try {
    const pid = launcher.process.pid;
    const quiet = await launcher.post({ application: "quiet" });
    const idle = await measure(launcher.base, pid, seconds);
    const flood = await launcher.post({ application: "flood" });
    const flooding = await measure(launcher.base, pid, seconds);
    for (const [what, m] of [["one quiet session", idle], ["and one `yes`", flooding]] as const) {
      console.log(
        `${what}: launcher CPU ${(m.user * 100).toFixed(1)}% user + ` +
          `${(m.system * 100).toFixed(1)}% system of a core; /healthz median ` +
          `${m.health.p50.toFixed(1)} ms, max ${m.health.max.toFixed(1)} ms`,
      );
    }
    for (const s of [quiet, flood]) {
      await launcher.request("DELETE", `${launcher.endpoint}/${s.json.id}`);
    }
  } finally {
    await launcher.stop();
    killSessionsIn(launcher.dir);
    await Deno.remove(launcher.dir, { recursive: true });
  }
}
