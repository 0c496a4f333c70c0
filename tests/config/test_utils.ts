/**
 * Shared helpers of the config tests: small configs with one line to vary, so that every
 * expected line and column can be read off the text, and assertions on problems.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type LoadedConfig, parseConfig } from "../../lib/config/load.ts";
import { ConfigError, type ConfigProblem } from "../../lib/config/problems.ts";

/** Folder of the config fixtures. */
export const TESTDATA = join(import.meta.dirname!, "..", "testdata", "config");

/** The config file name the helpers parse as. */
export const FILE = "/srv/pv/launcher.config";

/** Parses text that must fail and returns every problem of the ConfigError. */
export function problemsOf(text: string): ConfigProblem[] {
  try {
    parseConfig(text, FILE, { logDir: DEFAULT_LOG_DIR });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  assert.fail("expected a ConfigError");
}

/** A problem as `line:column severity path`, the part every assertion pins exactly. */
export const where = (p: ConfigProblem): string => `${p.line}:${p.column} ${p.severity} ${p.path}`;

/** Asserts the problems' places exactly and their messages by pattern. */
export function assertProblems(actual: ConfigProblem[], expected: [string, RegExp][]): void {
  assert.deepStrictEqual(actual.map(where), expected.map(([at]) => at));
  actual.forEach((p, i) => assert.match(p.message, expected[i][1], where(p)));
  for (const p of actual) assert.equal(p.file, FILE);
}

/** A valid spec config with `extra` as line 4. */
export const spec = (extra: string): string =>
  `{
  "resources": [{ "host": "localhost", "port": [9001, 9002] }],
  "applications": { "demo": { "cmd": ["demo"] } },
${extra}
}`;

/** A valid spec config with `resource` as the second resource, on line 5. */
export const withResource = (resource: string): string =>
  `{
  "applications": { "demo": { "cmd": ["demo"] } },
  "resources": [
    { "host": "a", "port": [9001, 9010] },
${resource}
  ],
}`;

/** A valid spec config with `app` as the only application, on line 4. */
export const withApp = (app: string): string =>
  `{
  "resources": [{ "host": "localhost", "port": [9001, 9002] }],
  "applications": {
${app}
  },
}`;

/** A valid wslink config with `setting` as line 3, inside `configuration`. */
export const wslink = (setting: string): string =>
  `{
  "configuration": {
${setting}
  },
  "resources": [{ "host": "localhost", "port_range": [9001, 9002] }],
  "apps": { "demo": { "cmd": ["demo"] } },
}`;

/** The log folder the program's entry point would give as the default, in these tests. */
export const DEFAULT_LOG_DIR = "/home/pv/.local/state/pvw-launcher/logs";

/** Parses text that must be valid, with {@linkcode DEFAULT_LOG_DIR} as the default log folder. */
export const parse = (text: string, file: string = FILE): LoadedConfig =>
  parseConfig(text, file, { logDir: DEFAULT_LOG_DIR });
