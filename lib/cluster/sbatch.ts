/**
 * How a session becomes an `sbatch` call: its options, the batch script fed on stdin, and
 * the environment sbatch runs with (which, with `--export`, is what the job gets).
 *
 * The script is `#!/bin/sh` and an `exec` of the session's argv, each argument single-quoted:
 * no shell interprets what a client sent, and the app replaces the shell, so Slurm's signals
 * reach it directly. `--wrap` would need the same quoting and hides nothing more.
 *
 * The job's environment: with `"export": "session"` (the default) the environment a local
 * session gets (the launcher's, the app's `env`, `PYTHONUNBUFFERED=1`), passed as sbatch's own
 * environment with `--export=ALL`; with `"export": "app"`, `--export=NONE` plus the app's
 * variables by name (their values come from sbatch's environment, so commas and quotes in
 * them are safe). The launcher's `SBATCH_*` and `SLURM_*` variables are never passed: sbatch
 * reads them as options. `SLURM_UMASK=0077` makes the node create the log file 0600, like a
 * local session's; the script then sets the app's own umask.
 *
 * @module
 */

import type { JobResources, JobSpec } from "./batch_system.ts";
import { BatchSystemUnavailableError, JobSettingsError, JobSubmitError } from "./errors.ts";
import type { CommandResult } from "../os/mod.ts";

/** One `sbatch` run: its arguments, its stdin and its environment. */
export interface SbatchCall {
  /** Options; the script comes on stdin. */
  args: string[];
  /** The batch script. */
  script: string;
  /** sbatch's environment (the job's, through `--export`). */
  env: Record<string, string>;
}

/** Quotes `arg` for `/bin/sh`: single quotes, each `'` as `'\''`. */
export function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** The options that ask for `resources`. */
function resourceArgs(resources: JobResources): string[] {
  const args: string[] = [];
  const { partition, account, qos, timeMinutes, cpus, memoryMB, gpus, gres, nodes } = resources;
  if (partition !== undefined) args.push(`--partition=${partition}`);
  if (account !== undefined) args.push(`--account=${account}`);
  if (qos !== undefined) args.push(`--qos=${qos}`);
  if (timeMinutes !== undefined) {
    args.push(`--time=${Number.isFinite(timeMinutes) ? timeMinutes : "UNLIMITED"}`);
  }
  if (cpus !== undefined) args.push(`--cpus-per-task=${cpus}`);
  if (memoryMB !== undefined) args.push(`--mem=${Number.isFinite(memoryMB) ? memoryMB : 0}M`);
  const gresList = [
    ...(gpus ? [gpus.type ? `gpu:${gpus.type}:${gpus.count}` : `gpu:${gpus.count}`] : []),
    ...(gres ? [gres] : []),
  ];
  if (gresList.length > 0) args.push(`--gres=${gresList.join(",")}`);
  if (nodes !== undefined) args.push(`--nodes=${nodes}`);
  return [...args, ...resources.extraArgs];
}

/** The output file as an sbatch pattern: `%` is doubled so `%j` in a path stays literal. */
function outputPattern(file: string): string {
  // A backslash in the pattern turns every replacement off, `%%` included.
  if (!file.startsWith("/") || file.includes("\\") || CONTROL.test(file)) {
    throw new JobSettingsError(
      "output",
      `the log file "${file}" must be an absolute path without backslash or control character`,
    );
  }
  return file.replaceAll("%", "%%");
}

/** The environment sbatch runs with, and its `--export` option. */
function environment(spec: JobSpec): { env: Record<string, string>; exportArg: string } {
  const base = Object.fromEntries(
    Object.entries(spec.resources.export === "app" ? {} : spec.baseEnv ?? {})
      .filter(([name]) => !/^(SBATCH|SLURM)_/.test(name)),
  );
  const own = { PYTHONUNBUFFERED: "1", ...spec.env };
  const env = { ...base, ...own, SLURM_UMASK: "0077" };
  if (spec.resources.export !== "app") return { env, exportArg: "--export=ALL" };
  const bad = Object.keys(own).find((name) => !NAME.test(name));
  if (bad !== undefined) {
    throw new JobSettingsError("export", `"${bad}" cannot be exported: not a variable name`);
  }
  return { env, exportArg: `--export=NONE,${Object.keys(own).join(",")}` };
}

/**
 * Builds the `sbatch` call of a session.
 *
 * @param spec the session to run
 * @returns the call
 * @throws {JobSettingsError} when the log path, the job name or a variable name cannot be
 *   given to sbatch
 */
export function sbatchCall(spec: JobSpec): SbatchCall {
  if (spec.argv.length === 0) throw new JobSettingsError("cmd", "the command is empty");
  if (CONTROL.test(spec.name) || spec.name === "") {
    throw new JobSettingsError(
      "name",
      `the job name "${spec.name}" is empty or has a control character`,
    );
  }
  const { env, exportArg } = environment(spec);
  const args = [
    "--parsable",
    "--no-requeue",
    `--job-name=${spec.name}`,
    `--output=${outputPattern(spec.outputFile)}`,
    "--open-mode=append",
    exportArg,
    ...(spec.cwd === undefined ? [] : [`--chdir=${spec.cwd}`]),
    ...resourceArgs(spec.resources),
  ];
  const umask = (spec.umask ?? 0o077).toString(8).padStart(4, "0");
  const script = `#!/bin/sh\numask ${umask}\nexec ${spec.argv.map(shellQuote).join(" ")}\n`;
  return { args, script, env };
}

/** Whether a command's error says the controller could not be reached (ask again later). */
export function unreachable(stderr: string): boolean {
  return /Unable to contact slurm controller|Socket timed out|Zero Bytes were transmitted|Communication connection failure|Connection refused|temporarily unable/i
    .test(stderr);
}

/** A command's error lines without their `sbatch: error:` prefixes, joined. */
export function errorText(stderr: string): string {
  const lines = stderr.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const errors = lines.filter((l) => /error/i.test(l));
  const text = (errors.length > 0 ? errors : lines.slice(-1))
    .map((l) => l.replace(/^[\w-]+:? error: /, "").replace(/^Batch job submission failed: /, ""));
  return text.length > 0 ? [...new Set(text)].join("; ") : "no message";
}

/**
 * Reads sbatch's answer: the job id with `--parsable` (`123`, or `123;cluster`).
 *
 * @returns the job id
 * @throws {BatchSystemUnavailableError} when it timed out or could not reach the controller
 * @throws {JobSubmitError} when Slurm refused the job, or the answer is not an id
 */
export function parseSbatch(result: CommandResult): string {
  if (result.timedOut) throw new BatchSystemUnavailableError("sbatch timed out");
  if (result.code !== 0) {
    const text = errorText(result.stderr);
    if (unreachable(result.stderr)) throw new BatchSystemUnavailableError(`sbatch: ${text}`);
    throw new JobSubmitError(text, result.code);
  }
  const id = /^(\d+)(?:;\S*)?$/.exec(result.stdout.trim())?.[1];
  if (id === undefined) {
    throw new JobSubmitError(`sbatch answered "${result.stdout.trim()}", not a job id`, 0);
  }
  return id;
}
