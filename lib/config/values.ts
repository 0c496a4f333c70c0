/**
 * Readers for the kinds of values both config formats share (durations, paths, templates,
 * ready lines, string maps, properties) and the defaults that apply when a key is absent.
 *
 * @module
 */

import { resolve } from "node:path";
import type { Fields, Value } from "./reader.ts";
import { doubtfulBrace } from "./template.ts";

/** What a setting is when its key is absent, in either format. */
export const DEFAULTS: {
  /** Listen host name. */
  readonly hostname: string;
  /** Listen port. */
  readonly port: number;
  /** REST endpoint path. */
  readonly endpoint: string;
  /** `sessionURL` template; the browser client replaces `USE_HOST`. */
  readonly sessionUrl: string;
  /**
   * Ready lines of applications that set none: what wslink servers print once they listen,
   * and what trame apps print (trame-server 4 blanks wslink's message).
   */
  readonly readyLines: readonly string[];
  /** Where a WebSocket to a bare session URL goes: wslink servers serve theirs at `/ws`. */
  readonly wsPath: string;
  /** Ready timeout in milliseconds. */
  readonly timeoutMs: number;
  /** SIGTERM to SIGKILL delay in milliseconds. */
  readonly stopGraceMs: number;
  /** Path of the dashboard. */
  readonly dashboardPath: string;
  /** Name of the state file, kept in the map file's folder, else in the log folder. */
  readonly stateFileName: string;
} = {
  hostname: "localhost",
  port: 8080,
  endpoint: "/paraview",
  sessionUrl: "ws://USE_HOST/proxy/${id}",
  readyLines: ["Starting factory", "App running at"],
  wsPath: "/ws",
  timeoutMs: 25_000,
  stopGraceMs: 5_000,
  dashboardPath: "/_dashboard",
  stateFileName: "pvw-launcher-state.json",
};

/**
 * Defaults that depend on where and as whom the launcher runs, which only the program's entry
 * point knows (it alone reads the environment).
 */
export interface ConfigDefaults {
  /** Folder of the session logs when the config names none; without it, one must be named. */
  logDir?: string;
}

/**
 * Reads the folder of the session logs, or takes the default; with neither, records an error.
 *
 * @param fields the object that holds the key, undefined when it is absent
 * @param key the key's name (`log` or `log_dir`)
 * @param owner where to report a missing folder
 * @param context the config's folder and the defaults
 * @returns the absolute folder; "" after recording an error
 */
export function readLogDir(
  fields: Fields | undefined,
  key: string,
  owner: Value,
  context: { baseDir: string; defaults: ConfigDefaults; keyPath: string },
): string {
  const value = fields?.get(key);
  if (value !== undefined) return readPath(value, context.baseDir) ?? "";
  if (context.defaults.logDir !== undefined) return context.defaults.logDir;
  owner.error(
    `no folder for the session logs: set "${context.keyPath}" (there is no default: the ` +
      "launcher has no state folder, since neither STATE_DIRECTORY nor HOME is set)",
  );
  return "";
}

/**
 * Reads a template string (argv element, `sessionURL`, `sessionData` value). A `$` that starts
 * no placeholder is a literal `$`; a `${` that closes no name is one too, with a warning, as it
 * is more often a typo.
 *
 * @param value the value to read
 * @returns the template text, or undefined after recording an error
 */
export function readTemplate(value: Value): string | undefined {
  const text = value.string();
  if (text === undefined) return undefined;
  const doubtful = doubtfulBrace(text);
  if (doubtful !== undefined) {
    value.warn(
      `"${doubtful}" is not a template variable, so its "$" is taken as is: write \${name} ` +
        "for a variable, or $$ for a literal $ to silence this",
    );
  }
  return text;
}

/**
 * Reads a duration given in seconds.
 *
 * @param value the value to read
 * @returns milliseconds, or undefined after recording an error
 */
export function readSeconds(value: Value): number | undefined {
  const seconds = value.node.type === "number" ? value.node.value as number : NaN;
  if (!(seconds > 0 && Number.isFinite(seconds))) {
    return value.expected("a positive number of seconds");
  }
  return Math.round(seconds * 1000);
}

/**
 * Reads a file or folder path; a relative one is resolved against the config's folder.
 *
 * @param value the value to read
 * @param baseDir the absolute folder of the config file
 * @returns the absolute path, or undefined after recording an error
 */
export function readPath(value: Value, baseDir: string): string | undefined {
  const text = value.string();
  if (text === undefined) return undefined;
  if (text.trim() === "") return value.error("expected a path, found an empty string");
  return resolve(baseDir, text);
}

/**
 * Reads `content`, the folder of static files; `""` means none (the wslink launcher's default).
 *
 * @param value the value to read
 * @param baseDir the absolute folder of the config file
 * @returns the absolute path, or undefined for none or after recording an error
 */
export function readContent(value: Value, baseDir: string): string | undefined {
  return value.node.type === "string" && value.node.value === ""
    ? undefined
    : readPath(value, baseDir);
}

/**
 * Reads `true` or `false`.
 *
 * @param value the value to read
 * @returns the boolean, or undefined after recording an error
 */
export function readBoolean(value: Value): boolean | undefined {
  return value.node.type === "boolean"
    ? value.node.value as boolean
    : value.expected("true or false");
}

/**
 * Reads a non-empty string.
 *
 * @param value the value to read
 * @returns the string, or undefined after recording an error
 */
export function readNonEmpty(value: Value): string | undefined {
  const text = value.string();
  if (text === "") return value.expected("a non-empty string");
  return text;
}

/**
 * Reads a list of strings.
 *
 * @param value the value to read
 * @returns the strings, or undefined after recording an error (bad items are left out)
 */
export function readStringList(value: Value): string[] | undefined {
  return value.list()?.map((item) => item.string()).filter((s) => s !== undefined);
}

/**
 * Reads ready lines: one string, or a non-empty list of them; none may be empty, since an
 * empty line would match any output.
 *
 * @param value the value to read
 * @returns the lines, or undefined after recording an error
 */
export function readReadyLines(value: Value): string[] | undefined {
  if (value.node.type === "string") {
    const line = readNonEmpty(value);
    return line === undefined ? undefined : [line];
  }
  if (value.node.type !== "array") return value.expected("a string or a list of strings");
  const items = value.list() ?? [];
  if (items.length === 0) return value.error("expected at least one ready line, found []");
  const lines = items.map(readNonEmpty).filter((s) => s !== undefined);
  return lines.length === items.length ? lines : undefined;
}

/**
 * Reads an object whose values are strings (`env`) or templates (`sessionData`).
 *
 * @param value the value to read
 * @param readItem how to read each value
 * @returns the map, or undefined after recording an error (bad values are left out)
 */
export function readStringMap(
  value: Value,
  readItem: (item: Value) => string | undefined = (item) => item.string(),
): Record<string, string> | undefined {
  const members = value.entries();
  if (!members) return undefined;
  const out: Record<string, string> = {};
  for (const [key, member] of members) {
    const text = readItem(member);
    if (text !== undefined) defineOwn(out, key, text);
  }
  return out;
}

/**
 * Reads `properties`: string, number and boolean values, all kept as strings. A name that
 * is not a template variable name can never be used, which is worth a warning.
 *
 * @param value the value to read
 * @returns the properties, or undefined after recording an error
 */
export function readProperties(value: Value): Record<string, string> | undefined {
  return readStringMap(value, (member) => {
    const name = member.key;
    if (!/^[_A-Za-z][_A-Za-z0-9]*$/.test(name)) {
      member.atKey(
        "warning",
        `property "${name}" can never be used: template variable names are letters, ` +
          "digits and _",
      );
    }
    const { type, value: scalar } = member.node;
    if (type === "string" || type === "number" || type === "boolean") return String(scalar);
    return member.expected("a string, a number or a boolean");
  });
}

/**
 * Drops the keys whose value is undefined, so that an absent optional setting is absent
 * from the model rather than present as `undefined`.
 *
 * @param record the record
 * @returns a copy without the undefined values
 */
export function withoutUndefined<T extends object>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Sets a record's own property, even for keys such as `__proto__` that plain assignment
 * would treat specially.
 *
 * @param record the record to change
 * @param key the key
 * @param value the value
 */
export function defineOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}
