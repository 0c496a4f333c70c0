/**
 * The format that wslink's Python launcher and the trame Docker image use (`configuration`,
 * `sessionData`, `resources`, `properties`, `apps`), plus the extensions `max_session`,
 * `stop_grace` and the operating keys ({@linkcode OPERATION_KEYS}) in `configuration`, read
 * into the {@linkcode LauncherConfig} model.
 *
 * @module
 */

import { dirname } from "node:path";
import type { LauncherConfig, SanitizeRule } from "./types.ts";
import type { Fields, Value } from "./reader.ts";
import { readCommonSections } from "./common_sections.ts";
import { pythonPattern } from "./python_regexp.ts";
import { OPERATION_KEYS } from "./operations.ts";
import { SCHEDULING_KEYS } from "./scheduling.ts";
import {
  type ConfigDefaults,
  DEFAULTS,
  defineOwn,
  readContent,
  readLogDir,
  readNonEmpty,
  readPath,
  readSeconds,
  readStringList,
  readStringMap,
  readTemplate,
} from "./values.ts";

/** The top-level keys of the wslink format. */
const WSLINK_KEYS: readonly string[] = [
  "configuration",
  "sessionData",
  "resources",
  "properties",
  "apps",
];

/** The keys of the wslink `configuration` section. */
export const WSLINK_CONFIGURATION_KEYS: readonly string[] = [
  "host",
  "port",
  "endpoint",
  "content",
  "proxy_file",
  "sessionURL",
  "timeout",
  "log_dir",
  "fields",
  "sanitize",
  "max_session",
  "stop_grace",
  ...OPERATION_KEYS,
  ...SCHEDULING_KEYS,
];

/** Spec names that someone converting a config may carry over, and wslink's name. */
const SPEC_NAMES: Record<string, string> = {
  log: "log_dir",
  map_file: "proxy_file",
  proxy_url: "sessionURL",
  url: "host",
};

/** A `configuration` key written at the top level belongs inside `configuration`. */
const MISPLACED: Record<string, string> = Object.fromEntries(
  WSLINK_CONFIGURATION_KEYS.map((key) => [key, `configuration.${key}`]),
);

const RULE_KEYS = ["type", "regexp", "list", "default"] as const;

/**
 * Reads a wslink-format config. Problems are recorded, not thrown.
 *
 * @param root the top-level object
 * @param file the absolute path of the config file
 * @param defaults the defaults that depend on the environment
 * @returns the model, with defaults in place of invalid values
 */
export function readWslinkConfig(
  root: Value,
  file: string,
  defaults: ConfigDefaults = {},
): LauncherConfig | undefined {
  const top = root.fields(WSLINK_KEYS, MISPLACED);
  if (!top) return undefined;
  const conf = top.get("configuration")?.fields(WSLINK_CONFIGURATION_KEYS, SPEC_NAMES);
  const baseDir = dirname(file);
  const timeoutMs = conf?.read("timeout", readSeconds) ?? DEFAULTS.timeoutMs;
  const readyLines = [...DEFAULTS.readyLines];
  const endpoint = conf?.read("endpoint", readEndpoint) ?? DEFAULTS.endpoint;
  const paths = readPaths(conf, root, baseDir, defaults);
  const endpointValue = conf?.get("endpoint");
  const port = conf?.read("port", readListenPort) ?? DEFAULTS.port;
  const common = readCommonSections(top, conf, {
    file,
    baseDir,
    endpoint,
    endpointValue,
    listenPort: port,
    ...paths,
    readyLines,
    timeoutMs,
    keys: { apps: "apps", port: "port_range", warnUnprovided: true },
  });
  return {
    file,
    format: "wslink",
    listen: {
      hostname: conf?.read("host", readNonEmpty) ?? DEFAULTS.hostname,
      port,
    },
    endpoint,
    ...paths,
    sessionUrl: conf?.read("sessionURL", readTemplate) ?? DEFAULTS.sessionUrl,
    readyLines,
    timeoutMs,
    stopGraceMs: conf?.read("stop_grace", readSeconds) ?? DEFAULTS.stopGraceMs,
    ...common,
    fields: conf?.read("fields", readStringList) ?? [],
    sessionData: top.read("sessionData", (v) => readStringMap(v, readTemplate)) ?? {},
    sanitize: conf?.read("sanitize", readSanitize) ?? {},
    unprovided: "keep",
  };
}

/**
 * Compiles a Python `re` pattern as a JavaScript one that must match a whole value, with
 * Python's Unicode meaning of `\w` and `\d` (see {@linkcode pythonPattern}).
 *
 * @param source the Python pattern
 * @returns the compiled pattern, anchored at both ends
 * @throws {SyntaxError} when the pattern is not valid
 */
export function compileWholeMatch(source: string): RegExp {
  return new RegExp(`^(?:${pythonPattern(source)})$`, "u");
}

function readPaths(
  conf: Fields | undefined,
  root: Value,
  baseDir: string,
  defaults: ConfigDefaults,
) {
  const content = conf?.read("content", (v) => readContent(v, baseDir));
  const mapFile = conf?.read("proxy_file", (v) => readPath(v, baseDir));
  return {
    ...(content === undefined ? {} : { content }),
    logDir: readLogDir(conf, "log_dir", conf?.owner ?? root, {
      baseDir,
      defaults,
      keyPath: "configuration.log_dir",
    }),
    ...(mapFile === undefined ? {} : { mapFile }),
  };
}

function readListenPort(value: Value): number | undefined {
  const port = value.integer();
  if (port === undefined) return undefined;
  if (port < 0 || port > 65535) {
    return value.error(`expected a port in 0..65535 (0 picks a free one), found ${port}`);
  }
  return port;
}

/**
 * Reads wslink's `endpoint`. Two roots, as the wslink launcher serves them: `""` (POST `//`,
 * GET and DELETE `//<id>`) and `"/"` (POST `/`, GET and DELETE `/<id>`).
 */
function readEndpoint(value: Value): string | undefined {
  const text = value.string();
  if (text === undefined) return undefined;
  const trimmed = text.replace(/^\/+|\/+$/g, "");
  if (text === "") {
    value.warn(
      'an empty endpoint serves the REST API at "//", as the wslink launcher does: clients ' +
        'must POST to http://<host>:<port>//; a name such as "paraview" is clearer',
    );
    return "//";
  }
  if (trimmed === "") return "/";
  return `/${trimmed}`;
}

function readSanitize(value: Value): Record<string, SanitizeRule> | undefined {
  const members = value.entries();
  if (!members) return undefined;
  const rules: Record<string, SanitizeRule> = {};
  for (const [key, member] of members) {
    const rule = readRule(member);
    if (rule) defineOwn(rules, key, rule);
  }
  return rules;
}

function readRule(value: Value): SanitizeRule | undefined {
  const fields = value.fields(RULE_KEYS);
  if (!fields) return undefined;
  const typeValue = fields.require("type");
  const type = typeValue?.string();
  const defaultValue = fields.require("default");
  const fallback = defaultValue?.string();
  if (type === "regexp") {
    const patternValue = fields.require("regexp");
    const pattern = patternValue && readPattern(patternValue);
    if (pattern && fallback !== undefined) return { type, pattern, default: fallback };
  } else if (type === "inList") {
    const listValue = fields.require("list");
    const list = listValue && readStringList(listValue);
    if (list && fallback !== undefined) return { type, list, default: fallback };
  } else if (type !== undefined) {
    typeValue?.error(`expected "regexp" or "inList", found ${JSON.stringify(type)}`);
  }
  return undefined;
}

function readPattern(value: Value): RegExp | undefined {
  const source = value.string();
  if (source === undefined) return undefined;
  try {
    return compileWholeMatch(source);
  } catch (err) {
    const reason = (err as Error).message.replace(/^Invalid regular expression: \/.*\/\w*: /, "");
    return value.error(`invalid regular expression: ${reason}`);
  }
}
