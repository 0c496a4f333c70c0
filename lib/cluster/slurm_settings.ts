/**
 * The `slurm` key of an application: what its jobs ask Slurm for, and the limits a client's
 * values must stay within.
 *
 * ```jsonc
 * "slurm": {
 *   "partition": "viz", "account": "vis", "qos": "normal",
 *   "time": "${hours}:00:00", "cpus": 4, "mem": "16G", "gpus": "$gpus", "nodes": 1,
 *   "gres": "license:1", "export": "session", "sbatch_args": ["--constraint=x11"],
 *   "max": { "time": "4:00:00", "cpus": 16, "mem": "64G", "gpus": 1, "nodes": 2 },
 *   "choices": { "partition": ["viz", "viz-large"] }
 * }
 * ```
 *
 * Values may hold templates (`$name`, `${name}`), rendered for each session by the caller;
 * values without one are checked here, at load time. A templated value that a limit applies
 * to should have that limit in `max`: without it a client can ask for anything.
 *
 * @module
 */

import { checkCount, checkExtraArg, checkGpus, checkMemory, checkTime } from "./job_resources.ts";
import { JobSettingsError } from "./errors.ts";
import { checkKeys, isObject, ProblemList, type SettingsProblem } from "./settings_problems.ts";
import {
  parseCount,
  parseGpus,
  parseSlurmMemory,
  parseSlurmTime,
  UnitError,
} from "./slurm_units.ts";

/** The most a job may ask for; a missing key sets no limit. */
export interface SlurmLimits {
  /** Wall-clock limit, in seconds. */
  time?: number;
  /** CPUs. */
  cpus?: number;
  /** Memory per node, in megabytes. */
  mem?: number;
  /** GPUs per node, counted over `gpus` and `gres`. */
  gpus?: number;
  /** Nodes. */
  nodes?: number;
}

/** The values a key may take (`partition`, `account`, `qos`); a missing key allows any. */
export interface SlurmChoices {
  /** Allowed partitions. */
  partition?: string[];
  /** Allowed accounts. */
  account?: string[];
  /** Allowed QOS names. */
  qos?: string[];
}

/** An application's `slurm` settings; text values may hold templates. */
export interface SlurmSettings {
  /** Partition; Slurm's default partition when undefined. */
  partition?: string;
  /** Account. */
  account?: string;
  /** Quality of service. */
  qos?: string;
  /** Time limit, in a Slurm time format; `max.time` when undefined and set. */
  time?: string;
  /** CPUs (`--cpus-per-task`). */
  cpus?: string;
  /** Memory per node (`--mem`), `16G`. */
  mem?: string;
  /** GPUs per node: `2` or `a100:2`. */
  gpus?: string;
  /** Other generic resources (`--gres`). */
  gres?: string;
  /** Node count. */
  nodes?: string;
  /** Whether jobs get the launcher's environment too (`session`) or only the app's (`app`). */
  export: "session" | "app";
  /** Further sbatch options, `--name=value`. */
  sbatchArgs: string[];
  /** Limits on what a job may ask for. */
  max: SlurmLimits;
  /** Allowed values of templated names. */
  choices: SlurmChoices;
}

/** The settings whose values are text, templated per session. */
export const SLURM_TEXT_KEYS = [
  "partition",
  "account",
  "qos",
  "time",
  "cpus",
  "mem",
  "gpus",
  "gres",
  "nodes",
] as const;
const KEYS = [...SLURM_TEXT_KEYS, "export", "sbatch_args", "max", "choices"] as const;
/** The settings whose values may be limited to a list of names (`choices`). */
export const NAMED_SETTINGS = ["partition", "account", "qos"] as const;
const MAX_PARSERS: Record<keyof SlurmLimits, (text: string) => number> = {
  time: parseSlurmTime,
  cpus: (t) => parseCount(t, 1),
  mem: parseSlurmMemory,
  gpus: (t) => parseGpus(t).count,
  nodes: (t) => parseCount(t, 1),
};
const LIMITED = Object.keys(MAX_PARSERS) as (keyof SlurmLimits)[];

/** Whether a value holds a template, to be checked once rendered. */
const templated = (text: string) => text.includes("$");

/** Reads a string or a number as text; records an error for anything else. */
function text(raw: unknown, path: string, problems: ProblemList): string | undefined {
  if (typeof raw === "string") return raw;
  if (typeof raw === "number" && Number.isFinite(raw)) return String(raw);
  problems.error(path, "must be a string or a number");
  return undefined;
}

/** Reads `max`: every limit parsed now, finite. */
function readMax(raw: unknown, problems: ProblemList): SlurmLimits {
  const max: SlurmLimits = {};
  if (raw === undefined) return max;
  if (!isObject(raw)) {
    problems.error("max", 'must be an object such as {"time": "4:00:00", "gpus": 1}');
    return max;
  }
  checkKeys(raw, Object.keys(MAX_PARSERS), "max.", problems);
  for (const key of Object.keys(MAX_PARSERS) as (keyof SlurmLimits)[]) {
    if (raw[key] === undefined) continue;
    const value = text(raw[key], `max.${key}`, problems);
    if (value === undefined) continue;
    try {
      const limit = MAX_PARSERS[key](value);
      if (Number.isFinite(limit)) max[key] = limit;
      else problems.error(`max.${key}`, "must be a finite limit (leave it out for none)");
    } catch (err) {
      if (!(err instanceof UnitError)) throw err;
      problems.error(`max.${key}`, err.message);
    }
  }
  return max;
}

/** Reads `choices`: lists of strings for partition, account and qos. */
function readChoices(raw: unknown, problems: ProblemList): SlurmChoices {
  const choices: SlurmChoices = {};
  if (raw === undefined) return choices;
  if (!isObject(raw)) {
    problems.error("choices", 'must be an object such as {"partition": ["viz", "gpu"]}');
    return choices;
  }
  checkKeys(raw, NAMED_SETTINGS, "choices.", problems);
  for (const key of NAMED_SETTINGS) {
    const list = raw[key];
    if (list === undefined) continue;
    if (Array.isArray(list) && list.length > 0 && list.every((v) => typeof v === "string")) {
      choices[key] = list;
    } else problems.error(`choices.${key}`, "must be a non-empty list of strings");
  }
  return choices;
}

/** Checks a value without template now, as it will be checked for each session. */
function checkLiteral(key: string, value: string, max: SlurmLimits, problems: ProblemList) {
  reporting(problems, () => {
    if (key === "time") checkTime(value, max.time);
    else if (key === "mem") checkMemory(value, max.mem);
    else if (key === "cpus" || key === "nodes") checkCount(key, value, max[key]);
  });
}

/** Runs a check now; what it refuses is a problem at the key it names. */
function reporting(problems: ProblemList, check: () => void): void {
  try {
    check();
  } catch (err) {
    if (!(err instanceof JobSettingsError)) throw err;
    problems.error(err.key, err.detail);
  }
}

/** Checks the GPUs of `gpus` and `gres` now when neither is templated. */
function checkLiteralGpus(settings: SlurmSettings, problems: ProblemList): void {
  const { gpus, gres } = settings;
  if ((gpus !== undefined && templated(gpus)) || (gres !== undefined && templated(gres))) return;
  reporting(problems, () => checkGpus(gpus, gres, settings.max));
}

/** Reads `sbatch_args`: a list of strings, each checked now unless templated. */
function readArgs(raw: unknown, problems: ProblemList): string[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || !raw.every((a) => typeof a === "string")) {
    problems.error("sbatch_args", 'must be a list of strings such as ["--constraint=x11"]');
    return [];
  }
  raw.forEach((arg, i) => templated(arg) || reporting(problems, () => checkExtraArg(arg, i)));
  return raw;
}

/** Warns about a templated value no limit or choice list holds in. */
function warnUnbounded(settings: SlurmSettings, problems: ProblemList): void {
  for (const key of LIMITED) {
    const value = settings[key];
    if (
      value !== undefined && templated(value) &&
      settings.max[key] === undefined
    ) {
      problems.warning(
        key,
        `is a template but max.${key} is not set: a client can ask for any ${key}`,
      );
    }
  }
  if (settings.gres !== undefined && templated(settings.gres) && settings.max.gpus === undefined) {
    problems.warning(
      "gres",
      "is a template but max.gpus is not set: a client can ask for any GPUs",
    );
  }
  for (const key of NAMED_SETTINGS) {
    const value = settings[key];
    if (value !== undefined && templated(value) && settings.choices[key] === undefined) {
      problems.warning(
        key,
        `is a template but choices.${key} is not set: a client can pick any ${key}`,
      );
    }
  }
}

/**
 * Reads an application's `slurm` settings: `true` or `{}` for Slurm's defaults.
 *
 * @param raw the value of the `slurm` key, as parsed from the config
 * @returns the settings, unless an error was found, and every problem found (paths relative
 *   to the `slurm` key)
 */
export function parseSlurmSettings(
  raw: unknown,
): { settings?: SlurmSettings; problems: SettingsProblem[] } {
  const problems = new ProblemList();
  if (raw === true) raw = {};
  if (!isObject(raw)) {
    problems.error("", 'must be true or an object such as {"partition": "viz"}');
    return { problems: problems.problems };
  }
  checkKeys(raw, KEYS, "", problems);
  const max = readMax(raw.max, problems);
  const settings: SlurmSettings = {
    export: "session",
    sbatchArgs: readArgs(raw.sbatch_args, problems),
    max,
    choices: readChoices(raw.choices, problems),
  };
  for (const key of SLURM_TEXT_KEYS) {
    if (raw[key] === undefined) continue;
    const value = text(raw[key], key, problems);
    if (value === undefined) continue;
    settings[key as "time"] = value;
    if (!templated(value)) checkLiteral(key, value, max, problems);
  }
  checkLiteralGpus(settings, problems);
  if (raw.export === "app" || raw.export === "session") settings.export = raw.export;
  else if (raw.export !== undefined) problems.error("export", 'must be "session" or "app"');
  warnUnbounded(settings, problems);
  return problems.failed
    ? { problems: problems.problems }
    : { settings, problems: problems.problems };
}
