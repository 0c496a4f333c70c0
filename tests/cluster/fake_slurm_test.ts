/**
 * The fake Slurm answers as the real one did: each recorded scenario's calls are sent to the
 * fake in the same order (job ids mapped to the fake's), and every answer must match the
 * recorded one once what legitimately differs is masked (job ids, priorities, which node a
 * job landed on). Jobs the fake cannot reproduce (killed by signals, a missing log folder,
 * a cancel seen only after it settled) are left out of the comparison.
 */

import assert from "node:assert/strict";
import type { CommandResult } from "../../lib/cluster/mod.ts";
import { FakeSlurm } from "./fake_slurm.ts";
import { recorded } from "./replay.ts";

/** A squeue line with its id, priority and nodes masked. */
function maskLine(line: string): string {
  const f = line.split("|");
  if (f.length === 4) return ["ID", f[1], "PRIORITY", f[3]].join("|"); // pending list
  if (f.length < 10) return line;
  const [, state, exit, reason, host, nodes, partition, , limit, ...name] = f;
  return [
    "ID",
    state,
    exit,
    reason,
    host === "n/a" ? host : "NODE",
    nodes === "" ? "" : "NODES",
    partition,
    "PRIORITY",
    limit,
    name.join("|"),
  ].join("|");
}

/** A node's description, reduced to what the backend reads: its name and address. */
const maskNode = (line: string) =>
  line.startsWith("NodeName=")
    ? line.split(" ").filter((f) => /^Node(Name|Addr)=/.test(f)).join(" ")
    : line;

/** An answer with what differs between two clusters masked, its lines sorted by name. */
function mask(result: CommandResult, skipNames: string[]): CommandResult {
  const lines = result.stdout.split("\n").filter((l) => l !== "")
    .filter((l) => !skipNames.some((n) => l.endsWith(`|${n}`)))
    .map(maskLine).map(maskNode).sort();
  return {
    ...result,
    stdout: /^\d+\n$/.test(result.stdout) ? "ID\n" : lines.join("\n"),
    stderr: result.stderr.replace(/job id \d+/g, "job id ID"),
  };
}

/** Sends a scenario's calls to a fake and compares each answer with the recorded one. */
async function sameAnswers(name: string, fake: FakeSlurm, skip: string[] = []): Promise<void> {
  const scenario = recorded.scenarios[name];
  const skipNames = skip.map((k) => scenario.jobs[k].name);
  const ids = new Map<string, string>();
  const toFake = (arg: string) =>
    arg.replace(
      /(?<=^--jobs=|^)[\d,]+$/,
      (list) => list.split(",").map((i) => ids.get(i) ?? i).join(","),
    );
  for (const call of scenario.calls) {
    const got = await fake.run(call.command, call.args.map(toFake), { stdin: call.stdin });
    if (call.command === "sbatch" && call.result.code === 0) {
      ids.set(call.result.stdout.trim(), got.stdout.trim());
    }
    assert.deepEqual(
      mask(got, skipNames),
      mask(call.result, skipNames),
      `${name}: ${call.command} ${call.args.join(" ")}`,
    );
  }
}

Deno.test("FakeSlurm answers like the real one: a full partition", async () => {
  await sameAnswers("queue", new FakeSlurm());
});

Deno.test("FakeSlurm answers like the real one: jobs that exited or can never start", async () => {
  await sameAnswers("ended", new FakeSlurm(), [
    "app_killed",
    "script_killed",
    "no_folder",
    "cancelled",
  ]);
});

Deno.test("FakeSlurm answers like the real one: refusals", async () => {
  await sameAnswers("rejected", new FakeSlurm());
});

Deno.test("FakeSlurm answers like the real one: jobs on two nodes and a GPU, ids of others, forgotten ids", async () => {
  await sameAnswers("running", new FakeSlurm());
});

Deno.test("FakeSlurm answers like the real one: an unreachable controller", async () => {
  const fake = new FakeSlurm();
  fake.reachable = false;
  await sameAnswers("unreachable", fake);
});
