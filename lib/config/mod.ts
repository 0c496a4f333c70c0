/**
 * The launcher's config: reading both formats (the spec's and the wslink launcher's) from
 * JSONC into one {@linkcode LauncherConfig} model, every problem located at its file, line,
 * column and key path, with suggestions for unknown keys; the `$name` template language that
 * the config validates with and sessions render with; the checks of the folders it names.
 *
 * @module
 */

export { describeConfig } from "./describe.ts";
export { loadConfig, parseConfig } from "./load.ts";
export { defaultLogFolder, defaultStateFolder } from "./state_folder.ts";
export {
  type CompiledTemplate,
  compileTemplate,
  type MissingValues,
  MissingVariableError,
  renderTemplate,
} from "./template.ts";
export {
  type AppConfig,
  ASSIGNED_NAMES,
  type LauncherConfig,
  type RateLimit,
  type ResourceRange,
  type SanitizeRule,
} from "./types.ts";
export { DEFAULTS } from "./values.ts";
export { ConfigError, formatProblem } from "./problems.ts";
