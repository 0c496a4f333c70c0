/**
 * Loads the launcher config, in either of its two formats, into the one
 * {@linkcode LauncherConfig} model: the spec's flat format (`url`, `applications`, ...) or
 * wslink's (`configuration`, `apps`, ...). The text is JSONC: `//` and `/* *\/` comments and
 * trailing commas are fine. Every problem is reported at once, with its file, line, column
 * and key path, in a {@linkcode ConfigError}; unknown keys are warnings.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./load.ts";
 * import { formatProblem } from "../errors/mod.ts";
 *
 * const { config, warnings } = await loadConfig("launcher.config");
 * for (const warning of warnings) console.warn(formatProblem(warning));
 * console.log(`listening on ${config.listen.hostname}:${config.listen.port}`);
 * ```
 *
 * @module
 */

import { resolve } from "node:path";
import { readText } from "../os/mod.ts";
import { ConfigError, type ConfigProblem } from "./problems.ts";
import type { LauncherConfig } from "./types.ts";
import { parseSource } from "./source.ts";
import { childPath, ProblemList, Value } from "./reader.ts";
import { readSpecConfig } from "./spec_format.ts";
import { readWslinkConfig } from "./wslink_format.ts";
import { checkPaths, type CheckPathsOptions } from "./paths.ts";
import { checkTlsFiles } from "./tls_check.ts";
import type { CertificateInfo, LoadedPair } from "../tls/mod.ts";
import type { ConfigDefaults } from "./values.ts";

export type { CheckPathsOptions } from "./paths.ts";
export type { ConfigDefaults } from "./values.ts";

/** A config that parsed without errors. */
export interface LoadedConfig {
  /** The model. */
  config: LauncherConfig;
  /** Problems that do not stop the launcher (unknown keys, ...), in file order. */
  warnings: ConfigProblem[];
  /** What the TLS certificate holds, once {@linkcode loadConfig} has checked its files. */
  certificate?: CertificateInfo;
  /** The certificate chain and key, read and checked: what the launcher serves. */
  pair?: LoadedPair;
}

const SPEC_MARKERS = ["url", "applications"];
const WSLINK_MARKERS = ["configuration", "apps"];
const BOTH_FORMATS = 'a spec-format config has "url" and "applications" at the top level; ' +
  'a wslink-format config has "configuration" and "apps"';

/**
 * Parses and validates config text. Pure apart from resolving a relative `file` against the
 * current directory; the filesystem is not touched.
 *
 * @param text the config text (JSONC)
 * @param file the config file's path, which problems name and relative paths resolve against
 * @param defaults the defaults that depend on the environment (the log folder)
 * @returns the model and the warnings
 * @throws {ConfigError} listing every problem, errors and warnings, when there is any error
 */
export function parseConfig(
  text: string,
  file: string,
  defaults: ConfigDefaults = {},
): LoadedConfig {
  const source = parseSource(text, file);
  if (!source.root) throw new ConfigError(source.problems);
  const problems = new ProblemList(file, source.lines);
  const config = readConfig(new Value(problems, source.root, ""), resolve(file), defaults);
  if (!config || problems.hasErrors) throw new ConfigError(problems.all);
  return { config, warnings: problems.all };
}

/**
 * Checks the paths a config names: creates the log folder (recursively) if it is missing
 * and checks that it is writable, checks that the folders of the map file and of the state
 * file exist and are writable (by creating and removing a file in them), and that the
 * content folder exists.
 *
 * @param loaded what {@linkcode parseConfig} returned
 * @param text the text it was parsed from, to locate the key that named each path
 * @param options how to name the file in problems
 * @returns one error per unusable path, at the key that named it; empty when all is well
 */
export function checkConfigPaths(
  loaded: LoadedConfig,
  text: string,
  options: CheckPathsOptions = {},
): Promise<ConfigProblem[]> {
  return checkPaths(loaded.config, text, options);
}

/** Options of {@linkcode loadConfig}. */
export interface LoadConfigOptions extends CheckPathsOptions {
  /** The defaults that depend on the environment. @default none */
  defaults?: ConfigDefaults;
}

/**
 * Reads, parses and checks a config file, and the TLS certificate and key it names.
 *
 * @param file the config file's path
 * @param options the defaults, and whose folders the paths must be
 * @returns the model, the warnings, and what the certificate holds
 * @throws {ConfigError} when the file cannot be read, or has any error, syntax, validation,
 *   path or certificate; the error lists every problem found
 */
export async function loadConfig(
  file: string,
  options: LoadConfigOptions = {},
): Promise<LoadedConfig> {
  const text = await readConfigText(file);
  const loaded = parseConfig(text, file, options.defaults);
  const pathProblems = await checkConfigPaths(loaded, text, {
    file,
    uid: options.uid,
    create: options.create,
  });
  const tls = await checkTlsFiles(loaded.config, text, { file, uid: options.uid });
  const all = [...loaded.warnings, ...pathProblems, ...tls.problems]
    .sort((a, b) => a.line - b.line || a.column - b.column);
  if (all.some((p) => p.severity === "error")) throw new ConfigError(all);
  const pair = tls.pair ? { certificate: tls.pair.info, pair: tls.pair } : {};
  return { ...loaded, warnings: all, ...pair };
}

async function readConfigText(file: string): Promise<string> {
  const read = await readText(file);
  if ("text" in read) return read.text;
  const message = `cannot read the config file: ${read.problem}`;
  throw new ConfigError([{ file, line: 1, column: 1, severity: "error", path: "", message }]);
}

function readConfig(
  root: Value,
  file: string,
  defaults: ConfigDefaults,
): LauncherConfig | undefined {
  if (root.node.type !== "object") return root.expected("an object { ... } at the top level");
  const format = detectFormat(root);
  if (format === "spec") return readSpecConfig(root, file, defaults);
  if (format === "wslink") return readWslinkConfig(root, file, defaults);
  return undefined;
}

/** Tells the formats apart by their marker keys; neither or both is an error. */
function detectFormat(root: Value): LauncherConfig["format"] | undefined {
  const keys = (root.node.children ?? []).map((property) => property.children?.[0])
    .filter((key) => key !== undefined)
    .map((key) => ({ name: key.value as string, offset: key.offset }));
  const spec = keys.find((key) => SPEC_MARKERS.includes(key.name));
  const wslink = keys.find((key) => WSLINK_MARKERS.includes(key.name));
  if (spec && !wslink) return "spec";
  if (wslink && !spec) return "wslink";
  if (!spec || !wslink) {
    root.error(`cannot tell which format this config is in: ${BOTH_FORMATS}`);
    return undefined;
  }
  const later = spec.offset > wslink.offset ? spec : wslink;
  root.problems.add(
    "error",
    later.offset,
    childPath("", later.name),
    `this config mixes the two formats ("${spec.name}" is a spec key, "${wslink.name}" ` +
      `a wslink key): ${BOTH_FORMATS}`,
  );
  return undefined;
}
