/**
 * The spec's flat config format (`url`, `log`, `map_file`, `proxy_url`, `wait_line`,
 * `timeout`, `max_session`, `resources`, `applications`, `properties`), plus the extensions
 * `content`, `stop_grace` and the operating keys ({@linkcode OPERATION_KEYS}), read into the
 * {@linkcode LauncherConfig} model.
 *
 * @module
 */

import { dirname } from "node:path";
import type { LauncherConfig } from "./types.ts";
import type { Fields, Value } from "./reader.ts";
import { readCommonSections } from "./common_sections.ts";
import { OPERATION_KEYS } from "./operations.ts";
import { SCHEDULING_KEYS } from "./scheduling.ts";
import {
  type ConfigDefaults,
  DEFAULTS,
  readContent,
  readLogDir,
  readPath,
  readReadyLines,
  readSeconds,
  readTemplate,
} from "./values.ts";

/** The top-level keys of the spec format. */
const SPEC_KEYS: readonly string[] = [
  "url",
  "log",
  "map_file",
  "proxy_url",
  "wait_line",
  "timeout",
  "max_session",
  "stop_grace",
  "content",
  "resources",
  "applications",
  "properties",
  ...OPERATION_KEYS,
  ...SCHEDULING_KEYS,
];

/** wslink names that someone converting a config may carry over, and the spec's name. */
const WSLINK_NAMES: Record<string, string> = {
  log_dir: "log",
  proxy_file: "map_file",
  sessionURL: "proxy_url",
  ready_line: "wait_line",
  host: "url",
  port: "url",
  endpoint: "url",
};

/** Where the launcher listens, as read from `url`. */
interface Listen {
  hostname: string;
  port: number;
  endpoint: string;
  /** The url says `https://`: the launcher serves TLS itself. */
  https?: boolean;
}

/**
 * Reads a spec-format config. Problems are recorded, not thrown.
 *
 * @param root the top-level object
 * @param file the absolute path of the config file
 * @param defaults the defaults that depend on the environment
 * @returns the model, with defaults in place of invalid values
 */
export function readSpecConfig(
  root: Value,
  file: string,
  defaults: ConfigDefaults = {},
): LauncherConfig | undefined {
  const top = root.fields(SPEC_KEYS, WSLINK_NAMES);
  if (!top) return undefined;
  const baseDir = dirname(file);
  const listen = top.read("url", readListenUrl) ??
    { hostname: DEFAULTS.hostname, port: DEFAULTS.port, endpoint: DEFAULTS.endpoint };
  const readyLines = top.read("wait_line", readReadyLines) ?? [...DEFAULTS.readyLines];
  const timeoutMs = top.read("timeout", readSeconds) ?? DEFAULTS.timeoutMs;
  const paths = readPaths(top, baseDir, defaults);
  const common = readCommonSections(top, top, {
    file,
    baseDir,
    endpoint: listen.endpoint,
    endpointValue: top.get("url"),
    listenPort: listen.port,
    ...paths,
    readyLines,
    timeoutMs,
    keys: { apps: "applications", port: "port" },
  });
  checkScheme(top, listen, common.tls !== undefined);
  return {
    file,
    format: "spec",
    listen: { hostname: listen.hostname, port: listen.port },
    endpoint: listen.endpoint,
    ...paths,
    sessionUrl: top.read("proxy_url", readTemplate) ?? DEFAULTS.sessionUrl,
    readyLines,
    timeoutMs,
    stopGraceMs: top.read("stop_grace", readSeconds) ?? DEFAULTS.stopGraceMs,
    ...common,
    fields: [],
    sessionData: {},
    sanitize: {},
    unprovided: "refuse",
  };
}

function readPaths(top: Fields, baseDir: string, defaults: ConfigDefaults) {
  const content = top.read("content", (v) => readContent(v, baseDir));
  const mapFile = top.read("map_file", (v) => readPath(v, baseDir));
  return {
    ...(content === undefined ? {} : { content }),
    logDir: readLogDir(top, "log", top.owner, { baseDir, defaults, keyPath: "log" }),
    ...(mapFile === undefined ? {} : { mapFile }),
  };
}

/**
 * An `https://` url needs the certificate and key; with them, the url must say `https://`,
 * since that is what the launcher then serves (and nothing in the clear).
 */
function checkScheme(top: Fields, listen: Listen, tls: boolean): void {
  const url = top.get("url");
  if (!url || tls === !!listen.https) return;
  const tlsGiven = ["tls", "tls_cert", "tls_key"].some((key) => top.get(key));
  if (listen.https && !tlsGiven) {
    url.error('an "https://" url needs the certificate and key: set "tls_cert" and "tls_key"');
  } else if (!listen.https && tls) {
    url.error(
      'with "tls_cert" and "tls_key" the launcher serves HTTPS only: write the url as ' +
        `"https://${String(url.node.value).replace(/^http:\/\//i, "")}"`,
    );
  }
}

function readListenUrl(value: Value): Listen | undefined {
  const text = value.string();
  if (text === undefined) return undefined;
  const example = '"http://localhost:8080/paraview"';
  if (!URL.canParse(text)) return value.error(`expected a URL such as ${example}`);
  const url = new URL(text);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return value.error(
      `the launcher serves HTTP, or HTTPS with tls_cert and tls_key: expected a URL such as ` +
        example,
    );
  }
  const endpoint = url.pathname.replace(/\/+$/, "");
  if (endpoint === "") {
    return value.error(`expected a path after the host for the endpoint, as in ${example}`);
  }
  if (url.search || url.hash) value.warn("the query and fragment of the url are ignored");
  const https = url.protocol === "https:";
  return {
    hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port === "" ? (https ? 443 : 80) : Number(url.port),
    endpoint,
    ...(https ? { https } : {}),
  };
}
