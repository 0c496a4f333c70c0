/**
 * Slurm's formats for durations, memory sizes, counts and GPU requests, parsed as `sbatch`
 * reads them so that a limit is checked on the value Slurm will apply.
 *
 * @module
 */

/** What a malformed value is, as a sentence tail (`is not a Slurm time: ...`). */
export class UnitError extends Error {
  /**
   * Makes the error.
   *
   * @param message what is wrong with the value
   */
  constructor(message: string) {
    super(message);
    this.name = "UnitError";
  }
}

const TIME_FORMS =
  '"minutes", "minutes:seconds", "hours:minutes:seconds", "days-hours", "days-hours:minutes" or "days-hours:minutes:seconds"';

/**
 * Parses a Slurm time limit (`--time`): `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M` or `D-H:M:S`;
 * `INFINITE`, `UNLIMITED` and zero mean no limit.
 *
 * @example
 * ```ts
 * import { parseSlurmTime } from "./slurm_units.ts";
 *
 * parseSlurmTime("1-12"); // => 129600 (seconds)
 * parseSlurmTime("90"); // => 5400
 * ```
 *
 * @param text the value as written
 * @returns the limit in seconds, or Infinity for no limit
 * @throws {UnitError} when it is not one of those forms
 */
export function parseSlurmTime(text: string): number {
  if (/^(INFINITE|UNLIMITED)$/i.test(text)) return Infinity;
  const match = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$/.exec(text);
  if (!match) throw new UnitError(`"${text}" is not a Slurm time: write ${TIME_FORMS}`);
  const [, days, a, b, c] = match;
  const n = (s: string | undefined) => s === undefined ? 0 : Number(s);
  let seconds: number;
  if (days !== undefined) seconds = ((n(days) * 24 + n(a)) * 60 + n(b)) * 60 + n(c);
  else if (c !== undefined) seconds = (n(a) * 60 + n(b)) * 60 + n(c);
  else seconds = n(a) * 60 + n(b);
  if (!Number.isSafeInteger(seconds)) throw new UnitError(`"${text}" is too long a time`);
  return seconds === 0 ? Infinity : seconds;
}

/**
 * The whole minutes Slurm applies for a limit in seconds: its granularity is a minute, and
 * seconds are rounded up (`0:30` becomes 1 minute).
 *
 * @param seconds a finite limit, above zero
 * @returns the minutes, at least 1
 */
export function toMinutes(seconds: number): number {
  return Math.max(1, Math.ceil(seconds / 60));
}

/**
 * Writes a duration as Slurm does: `H:MM:SS`, or `D-HH:MM:SS` from one day on.
 *
 * @param seconds a duration, or Infinity
 * @returns the text, `UNLIMITED` for Infinity
 */
export function formatSlurmTime(seconds: number): string {
  if (!Number.isFinite(seconds)) return "UNLIMITED";
  const pad = (v: number) => String(v).padStart(2, "0");
  const s = seconds % 60, m = Math.floor(seconds / 60) % 60, h = Math.floor(seconds / 3600);
  if (h < 24) return `${h}:${pad(m)}:${pad(s)}`;
  return `${Math.floor(h / 24)}-${pad(h % 24)}:${pad(m)}:${pad(s)}`;
}

const MEMORY_UNITS: Record<string, number> = { K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024 };

/**
 * Parses a Slurm memory size (`--mem`): a whole number with an optional unit `K`, `M`
 * (the default), `G` or `T`. Zero asks for all the memory of each node.
 *
 * @param text the value as written
 * @returns megabytes (rounded up), or Infinity for zero
 * @throws {UnitError} when it is not such a size
 */
export function parseSlurmMemory(text: string): number {
  const match = /^(\d+)([KMGT])?$/i.exec(text);
  if (!match) {
    throw new UnitError(`"${text}" is not a memory size: write a whole number with K, M, G or T`);
  }
  const mb = Math.ceil(Number(match[1]) * MEMORY_UNITS[(match[2] ?? "M").toUpperCase()]);
  if (!Number.isSafeInteger(mb)) throw new UnitError(`"${text}" is too large a memory size`);
  return mb === 0 ? Infinity : mb;
}

/**
 * Writes megabytes with the largest unit that keeps them whole (`64G`, `500M`).
 *
 * @param mb a size in megabytes, or Infinity
 * @returns the text, `all of a node` for Infinity
 */
export function formatMemory(mb: number): string {
  if (!Number.isFinite(mb)) return "all of a node";
  for (const unit of ["T", "G"]) {
    if (mb % MEMORY_UNITS[unit] === 0) return `${mb / MEMORY_UNITS[unit]}${unit}`;
  }
  return `${mb}M`;
}

/**
 * Parses a whole count (`cpus`, `nodes`).
 *
 * @param text the value as written
 * @param min the smallest value allowed
 * @returns the count
 * @throws {UnitError} when it is not a whole number of at least `min`
 */
export function parseCount(text: string, min: number): number {
  const value = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(value >= min)) throw new UnitError(`"${text}" is not a whole number of at least ${min}`);
  return value;
}

/**
 * Parses a GPU request: a count (`2`), or a GPU type and a count (`a100:2`), as in
 * `--gres=gpu:a100:2`.
 *
 * @param text the value as written
 * @returns the count and the type, if any
 * @throws {UnitError} when it is neither
 */
export function parseGpus(text: string): { count: number; type?: string } {
  const match = /^(?:([A-Za-z0-9_.-]+):)?(\d{1,6})$/.exec(text);
  if (!match) throw new UnitError(`"${text}" is not a GPU count: write a number or type:number`);
  return match[1] === undefined
    ? { count: Number(match[2]) }
    : { count: Number(match[2]), type: match[1] };
}
