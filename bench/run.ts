/**
 * The benchmark harness: pvw-launcher against the physical limit (the app spawned and
 * reached directly), the wslink launcher and Apache, side by side, in one run.
 *
 * ```sh
 * deno task bench                  # every scenario, one table
 * deno task bench launch churn     # some scenarios
 * deno task bench --write          # and rewrite bench/RESULTS.md
 * deno task bench --quick          # small counts, to try the harness (never with --write)
 * ```
 *
 * Everything it starts (launchers, sessions, apps, Apache, temp folders) is stopped and
 * removed at the end, on failure, and on Ctrl-C.
 *
 * @module
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { Cleanup } from "./lib/cleanup.ts";
import { Context } from "./lib/context.ts";
import { ROOT } from "./lib/paths.ts";
import { markedPids } from "./lib/procs.ts";
import { fullTable, headline, machine, report, type ReportInfo } from "./lib/report.ts";
import { findTools } from "./lib/tools.ts";
import { burst } from "./scenarios/burst.ts";
import { churn } from "./scenarios/churn.ts";
import { controlPlane, memory } from "./scenarios/fleet.ts";
import { launch, slowApp } from "./scenarios/launch.ts";
import { proxyFanIn, proxyLatency, proxyThroughput } from "./scenarios/proxy.ts";
import { restart } from "./scenarios/restart.ts";
import { slurm } from "./scenarios/slurm.ts";
import { trame } from "./scenarios/trame.ts";
import { warm } from "./scenarios/warm.ts";
import { tlsOverhead } from "./scenarios/tls.ts";

interface Scenario {
  name: string;
  run: (ctx: Context) => Promise<void>;
  /** Fixtures it uses (shared with other scenarios of the run). */
  uses: string[];
}

/** In the order they run. */
const SCENARIOS: Scenario[] = [
  { name: "launch", run: launch, uses: [] },
  { name: "slow", run: slowApp, uses: [] },
  { name: "burst", run: burst, uses: [] },
  { name: "churn", run: churn, uses: [] },
  { name: "control", run: controlPlane, uses: ["fleet"] },
  { name: "memory", run: memory, uses: ["fleet"] },
  { name: "restart", run: restart, uses: [] },
  { name: "warm", run: warm, uses: [] },
  { name: "trame", run: trame, uses: [] },
  { name: "latency", run: proxyLatency, uses: ["proxy"] },
  { name: "throughput", run: proxyThroughput, uses: ["proxy"] },
  { name: "fanin", run: proxyFanIn, uses: ["proxy"] },
  { name: "slurm", run: slurm, uses: [] },
  { name: "tls", run: tlsOverhead, uses: [] },
];

const USAGE = `deno task bench [SCENARIO...] [--write] [--quick] [--no-install]

  SCENARIO      ${SCENARIOS.map((s) => s.name).join(", ")} (default: all)
  --write       also rewrite bench/RESULTS.md
  --quick       small counts, to try the harness (not with --write)
  --no-install  do not apt-get install wrk when it is missing
`;

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      write: { type: "boolean", default: false },
      quick: { type: "boolean", default: false },
      "no-install": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return console.log(USAGE), 0;
  const unknown = positionals.filter((p) => !SCENARIOS.some((s) => s.name === p));
  if (unknown.length || (values.write && values.quick)) {
    console.error(
      unknown.length ? `unknown scenario: ${unknown.join(", ")}\n` : "--quick cannot --write\n",
    );
    console.error(USAGE);
    return 2;
  }
  const chosen = SCENARIOS.filter((s) => !positionals.length || positionals.includes(s.name));
  const command = ["deno task bench", ...args].join(" ");
  const started = performance.now();
  const date = new Date().toISOString();
  const m = machine();

  const cleanup = new Cleanup();
  const removeSignals = cleanup.onSignals();
  const root = await Deno.makeTempDir({ prefix: "pvw-bench-" });
  // Apache's children run as www-data and read the launcher's map file in here.
  await Deno.chmod(root, 0o755);
  cleanup.defer(`remove ${root}`, () => Deno.remove(root, { recursive: true }).catch(() => {}));
  let failed = 0;
  let ctx: Context | undefined;
  try {
    const tools = await findTools(!values["no-install"]);
    ctx = new Context(cleanup, root, tools, values.quick);
    for (const [i, s] of chosen.entries()) {
      ctx.log(`== ${s.name}`);
      try {
        await s.run(ctx);
      } catch (err) {
        failed++;
        ctx.log(`${s.name} failed: ${(err as Error).stack ?? err}`);
        ctx.row({
          scenario: s.name,
          subject: "ERROR",
          n: "",
          p50: "",
          p90: "",
          p99: "",
          compared: String((err as Error).message ?? err).split("\n")[0].slice(0, 120),
          target: "the scenario runs",
          verdict: "MISSED",
        });
      }
      await ctx.release(new Set(chosen.slice(i + 1).flatMap((later) => later.uses)));
    }
  } finally {
    const problems = await cleanup.runAll();
    removeSignals();
    for (const p of problems) console.error(`cleanup: ${p}`);
    const strays = markedPids(cleanup.run);
    console.error(
      strays.length
        ? `cleanup: ${strays.length} processes still running!`
        : "cleanup: no process left",
    );
  }
  const info: ReportInfo = {
    rows: ctx!.rows,
    notes: ctx!.notes,
    machine: m,
    tools: ctx!.tools,
    command,
    date,
    seconds: (performance.now() - started) / 1000,
  };
  console.log(`\n${fullTable(info.rows)}\n`);
  for (const n of info.notes) console.log(`- ${n}`);
  console.log(`\nTargets:\n\n${headline(info.rows)}\n`);
  console.log(
    `machine: ${m.cpu}, ${m.cores} cores, ${m.memory}, ${m.os}, Deno ${m.deno}, load ${m.load}`,
  );
  if (values.write) {
    const file = join(ROOT, "bench/RESULTS.md");
    await Deno.writeTextFile(file, report(info));
    // Keep `deno fmt --check` clean: let the formatter have the last word on the tables.
    await new Deno.Command(Deno.execPath(), {
      args: ["fmt", "--quiet", file],
      cwd: ROOT,
    }).output();
    console.log(`wrote ${file}`);
  }
  return failed ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
