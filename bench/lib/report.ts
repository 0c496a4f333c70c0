/**
 * The results as Markdown: the headline (every row with a target), the full table, the
 * notes, the machine and the command. The same text is printed and, with `--write`, saved
 * as `bench/RESULTS.md`.
 *
 * @module
 */

import type { Row } from "./context.ts";
import type { Tools } from "./tools.ts";

/** The machine a run happened on. */
export interface Machine {
  cpu: string;
  cores: number;
  memory: string;
  os: string;
  deno: string;
  load: string;
}

function read(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/** Describes this machine. */
export function machine(): Machine {
  const cpu = read("/proc/cpuinfo").match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? "unknown";
  const kib = Number(read("/proc/meminfo").match(/^MemTotal:\s+(\d+)/m)?.[1] ?? 0);
  const os = read("/etc/os-release").match(/^PRETTY_NAME="?([^"\n]+)"?/m)?.[1] ?? Deno.build.os;
  return {
    cpu,
    cores: navigator.hardwareConcurrency,
    memory: `${(kib / 1024 / 1024).toFixed(1)} GiB`,
    os: `${os}, Linux ${Deno.osRelease()}`,
    deno: Deno.version.deno,
    load: Deno.loadavg().map((l) => l.toFixed(2)).join(" "),
  };
}

function escape(cell: string): string {
  return cell.replaceAll("|", "\\|");
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

function mark(row: Row): string {
  return row.verdict === "MISSED" ? "**MISSED**" : row.verdict ?? "";
}

/** The rows with a target: scenario, subject, measured, target, verdict. */
export function headline(rows: Row[]): string {
  return table(
    ["scenario", "measured", "vs baseline", "target", "result"],
    rows.filter((r) => r.target).map((r) =>
      [r.scenario, `${r.subject}: ${r.p50}`, r.compared, r.target!, mark(r)].map(escape)
    ),
  );
}

/** Every row. */
export function fullTable(rows: Row[]): string {
  return table(
    ["scenario", "subject", "n", "median", "p90", "p99", "vs baseline", "target", "result"],
    rows.map((r) =>
      [r.scenario, r.subject, r.n, r.p50, r.p90, r.p99, r.compared, r.target ?? "", mark(r)].map(
        escape,
      )
    ),
  );
}

/** What a report says besides the rows. */
export interface ReportInfo {
  rows: Row[];
  notes: string[];
  machine: Machine;
  tools: Tools;
  command: string;
  date: string;
  seconds: number;
}

/** The whole report, as Markdown. */
export function report(info: ReportInfo): string {
  const { machine: m, tools: t } = info;
  const missed = info.rows.filter((r) => r.verdict === "MISSED").length;
  const met = info.rows.filter((r) => r.verdict === "met").length;
  return [
    "# pvw-launcher benchmarks",
    "",
    `Run on ${info.date} in ${Math.round(info.seconds)} s: \`${info.command}\`.`,
    "",
    `Targets: ${met} met, ${missed} missed.`,
    "",
    "## Headline",
    "",
    headline(info.rows),
    "",
    "## All measurements",
    "",
    "Every comparison was measured in the same run, interleaved (A, B, A, B, ...). Latencies",
    'are per request from the client\'s side; "median", "p90", "p99" hold other figures where',
    "labelled.",
    "",
    fullTable(info.rows),
    "",
    ...(info.notes.length ? ["Notes:", "", ...info.notes.map((n) => `- ${n}`), ""] : []),
    "## Machine",
    "",
    `- CPU: ${m.cpu}, ${m.cores} cores`,
    `- memory: ${m.memory}`,
    `- OS: ${m.os}`,
    `- Deno: ${m.deno}`,
    `- load average at start: ${m.load}`,
    `- wslink: ${t.wslinkVersion ?? "not available"}; Apache: ${
      t.apacheVersion ?? "not available"
    }; ` +
    `HTTP load: ${t.wrk ? "wrk" : "the bench's own client"}`,
    ...t.notes.map((n) => `- ${n}`),
    "",
  ].join("\n");
}
