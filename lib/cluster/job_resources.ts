/**
 * From an application's `slurm` settings, rendered for one session, to what its job asks
 * for: each value parsed as Slurm reads it, and held within the limits the admin set
 * (`slurm.max`, `slurm.choices`). A client's values can never take a job past them.
 *
 * @module
 */

import type { JobResources } from "./batch_system.ts";
import { JobSettingsError } from "./errors.ts";
import { checkSbatchArg } from "./sbatch_options.ts";
import {
  NAMED_SETTINGS,
  SLURM_TEXT_KEYS,
  type SlurmLimits,
  type SlurmSettings,
} from "./slurm_settings.ts";
import {
  formatMemory,
  formatSlurmTime,
  parseCount,
  parseGpus,
  parseSlurmMemory,
  parseSlurmTime,
  toMinutes,
  UnitError,
} from "./slurm_units.ts";

/** Renders one settings value for a session (templates filled in); identity when none. */
export type Render = (text: string, key: string) => string;

/** Runs `parse`, turning its unit error into a settings error for `key`. */
function parsed<T>(key: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof UnitError) throw new JobSettingsError(key, err.message);
    throw err;
  }
}

/** Fails when `value` is above `max` (undefined: no limit). */
function within(key: string, value: number, max: number | undefined, show: (v: number) => string) {
  if (max !== undefined && value > max) {
    throw new JobSettingsError(
      key,
      `${show(value)} is more than the ${show(max)} allowed (slurm.max.${key})`,
    );
  }
}

/**
 * Checks a time limit against its maximum.
 *
 * @returns the limit in minutes (Infinity for none)
 * @throws {JobSettingsError} when it is malformed or above `max`
 */
export function checkTime(text: string, max?: number): number {
  const seconds = parsed("time", () => parseSlurmTime(text));
  within("time", seconds, max, formatSlurmTime);
  return Number.isFinite(seconds) ? toMinutes(seconds) : Infinity;
}

/**
 * Checks a memory size against its maximum.
 *
 * @returns megabytes (Infinity for all of a node)
 * @throws {JobSettingsError} when it is malformed or above `max`
 */
export function checkMemory(text: string, max?: number): number {
  const mb = parsed("mem", () => parseSlurmMemory(text));
  within("mem", mb, max, formatMemory);
  return mb;
}

/**
 * Checks a count (`cpus`, `nodes`) against its maximum.
 *
 * @returns the count
 * @throws {JobSettingsError} when it is not a whole number of at least 1, or above `max`
 */
export function checkCount(key: "cpus" | "nodes", text: string, max?: number): number {
  const count = parsed(key, () => parseCount(text, 1));
  within(key, count, max, String);
  return count;
}

/** GPUs that a `--gres` value asks for (`gpu:2`, `gpu:a100:1,license:1` → 2, 1). */
function gresGpus(gres: string): number {
  let total = 0;
  for (const item of gres.split(",")) {
    const [name, ...rest] = item.split(":");
    if (name !== "gpu") continue;
    const last = rest.at(-1);
    total += last !== undefined && /^\d+$/.test(last) ? Number(last) : 1;
  }
  return total;
}

/** Checks that a rendered choice is one the admin allows. */
function checkChoice(key: string, value: string, choices: readonly string[] | undefined): void {
  if (choices && !choices.includes(value)) {
    throw new JobSettingsError(
      key,
      `"${value}" is not one of ${choices.map((c) => `"${c}"`).join(", ")}`,
    );
  }
}

/**
 * Checks the GPUs asked for, in `gpus` and in `gres` together, against `max.gpus`.
 *
 * @returns the GPU request of `gpus`, undefined for none
 * @throws {JobSettingsError} when `gpus` is malformed or the total is above the limit
 */
export function checkGpus(
  gpus: string | undefined,
  gres: string | undefined,
  limits: SlurmLimits,
): JobResources["gpus"] {
  const request = gpus === undefined ? undefined : parsed("gpus", () => parseGpus(gpus));
  const total = (request?.count ?? 0) + (gres === undefined ? 0 : gresGpus(gres));
  within("gpus", total, limits.gpus, String);
  return request && request.count > 0 ? request : undefined;
}

/**
 * Checks one extra sbatch argument.
 *
 * @throws {JobSettingsError} when it may not be passed
 */
export function checkExtraArg(arg: string, index: number): void {
  const why = checkSbatchArg(arg);
  if (why) throw new JobSettingsError(`sbatch_args[${index}]`, why);
}

/** The settings' text values, rendered; an empty rendering counts as not set. */
type Rendered = Partial<Record<(typeof SLURM_TEXT_KEYS)[number], string>>;

/** Renders every text value of `settings`. */
function renderAll(settings: SlurmSettings, render: Render): Rendered {
  const out: Rendered = {};
  for (const key of SLURM_TEXT_KEYS) {
    const text = settings[key];
    const value = text === undefined ? "" : render(text, key);
    if (value !== "") out[key] = value;
  }
  return out;
}

/** Checks partition, account and QOS against the admin's choices. */
function resolveNames(values: Rendered, settings: SlurmSettings, out: JobResources): void {
  for (const key of NAMED_SETTINGS) {
    const value = values[key];
    if (value === undefined) continue;
    checkChoice(key, value, settings.choices[key]);
    out[key] = value;
  }
}

/** Checks the amounts (time, CPUs, memory, GPUs, nodes) against the admin's limits. */
function resolveAmounts(values: Rendered, max: SlurmLimits, out: JobResources): void {
  const time = values.time ?? (max.time === undefined ? undefined : formatSlurmTime(max.time));
  if (time !== undefined) out.timeMinutes = checkTime(time, max.time);
  if (values.cpus !== undefined) out.cpus = checkCount("cpus", values.cpus, max.cpus);
  if (values.mem !== undefined) out.memoryMB = checkMemory(values.mem, max.mem);
  const gpus = checkGpus(values.gpus, values.gres, max);
  if (gpus) out.gpus = gpus;
  if (values.gres !== undefined) out.gres = values.gres;
  if (values.nodes !== undefined) out.nodes = checkCount("nodes", values.nodes, max.nodes);
}

/**
 * Renders an application's `slurm` settings for one session and checks them.
 *
 * @example
 * ```ts
 * import { parseSlurmSettings, resolveJobResources } from "./mod.ts";
 *
 * const { settings } = parseSlurmSettings({ time: "$hours:00:00", max: { time: "4:00:00" } });
 * const values: Record<string, string> = { hours: "2" };
 * resolveJobResources(settings!, (text) => text.replace("$hours", values.hours));
 * // => { timeMinutes: 120, extraArgs: [] }
 * ```
 *
 * @param settings the application's settings, as read from the config
 * @param render fills in a value's templates for this session
 * @returns what the job asks for
 * @throws {JobSettingsError} when a rendered value is malformed or beyond the admin's limits
 */
export function resolveJobResources(settings: SlurmSettings, render: Render): JobResources {
  const values = renderAll(settings, render);
  const out: JobResources = { extraArgs: [] };
  if (settings.export === "app") out.export = "app";
  resolveNames(values, settings, out);
  resolveAmounts(values, settings.max, out);
  settings.sbatchArgs.forEach((arg, i) => {
    const text = render(arg, `sbatch_args[${i}]`);
    checkExtraArg(text, i);
    out.extraArgs.push(text);
  });
  return out;
}
