/**
 * What can be wrong in a config file: each problem with its file, line, column and key path,
 * and the error that carries every problem found.
 *
 * @module
 */

/** A location in a config file, 1-based. */
export interface SourceLocation {
  /** Path of the config file. */
  file: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
}

/** One problem found in a config file. */
export interface ConfigProblem extends SourceLocation {
  /** `error` stops the launcher from starting; `warning` is only reported. */
  severity: "error" | "warning";
  /** Key path of the offending value, such as `applications.loader.cmd[2]`; empty for the root. */
  path: string;
  /** What is wrong and, where it helps, what to write instead. */
  message: string;
}

/** Formats a problem as `file:line:column: severity: path: message`. */
export function formatProblem(p: ConfigProblem): string {
  const where = p.path ? `${p.path}: ` : "";
  return `${p.file}:${p.line}:${p.column}: ${p.severity}: ${where}${p.message}`;
}

/** The config file cannot be used; {@linkcode ConfigError.problems} lists every problem found. */
export class ConfigError extends Error {
  /** Every problem, errors and warnings, in file order. */
  readonly problems: ConfigProblem[];
  /** Path of the config file. */
  readonly file: string;
  /** Line of the first error. */
  readonly line: number;
  /** Column of the first error. */
  readonly column: number;

  /**
   * Makes the error.
   *
   * @param problems every problem found; at least one has severity `error`
   */
  constructor(problems: ConfigProblem[]) {
    const errors = problems.filter((p) => p.severity === "error");
    const first = errors[0] ?? problems[0];
    super(
      errors.length === 1
        ? formatProblem(first)
        : `${errors.length} errors in ${first?.file}:\n${errors.map(formatProblem).join("\n")}`,
    );
    this.name = "ConfigError";
    this.problems = problems;
    this.file = first?.file ?? "";
    this.line = first?.line ?? 0;
    this.column = first?.column ?? 0;
  }
}
