/**
 * Problems found while reading the cluster's settings, with the key path at fault, for the
 * config reader to place at their line and column.
 *
 * @module
 */

/** One problem in a settings object. */
export interface SettingsProblem {
  /** `error` makes the config unusable; `warning` is only reported. */
  severity: "error" | "warning";
  /** The key path below the object read (`max.time`, `sbatch_args[2]`). */
  path: string;
  /** What is wrong and what to write instead. */
  message: string;
}

/** Collects problems while a settings object is read. */
export class ProblemList {
  /** Every problem, in the order found. */
  readonly problems: SettingsProblem[] = [];

  /**
   * Records an error.
   *
   * @param path the key path at fault
   * @param message what is wrong
   */
  error(path: string, message: string): void {
    this.problems.push({ severity: "error", path, message });
  }

  /**
   * Records a warning.
   *
   * @param path the key path at fault
   * @param message what may be wrong
   */
  warning(path: string, message: string): void {
    this.problems.push({ severity: "warning", path, message });
  }

  /** Whether any error was recorded. */
  get failed(): boolean {
    return this.problems.some((p) => p.severity === "error");
  }
}

/** Whether `value` is a plain object (not an array, not null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Reports every key of `raw` not in `known`.
 *
 * @param raw the object read
 * @param known its allowed keys
 * @param prefix the path of `raw` itself, with a trailing dot, or empty
 * @param problems where to record them
 */
export function checkKeys(
  raw: Record<string, unknown>,
  known: readonly string[],
  prefix: string,
  problems: ProblemList,
): void {
  for (const key of Object.keys(raw)) {
    if (!known.includes(key)) {
      problems.error(`${prefix}${key}`, `unknown key; known keys are ${known.join(", ")}`);
    }
  }
}
