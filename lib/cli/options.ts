/**
 * The launcher's command line: its options, and the help text. Reading `Deno.args` is the
 * composition root's; this reads the list it is given.
 *
 * @module
 */

import { parseArgs } from "node:util";

/**
 * The help text.
 *
 * @param version the launcher's version
 * @returns what `--help` prints
 */
export function usage(version: string): string {
  return `pvw-launcher ${version}: starts a visualization process per user session.

Usage: pvw-launcher CONFIG [options]

  CONFIG               launcher config: the spec format or the wslink format (JSONC)
  --host H             listen on H (overrides the config)
  --port P             listen on port P (overrides the config; 0 picks a free one)
  --check              validate CONFIG, list every problem, and exit (0 = valid)
  --keep-sessions      on SIGTERM/SIGINT leave sessions running for the next launcher
  --log-level L        trace, debug, info, warning, error (default: info)
  --log-format F       text or json (default: text)
  --log-file PATH      write the launcher's log to PATH instead of stderr; SIGHUP re-opens it
  --version            print the version
  --help               print this help
`;
}

/** The levels of the launcher's log, from the most detailed. */
export type LogLevel = "trace" | "debug" | "info" | "warning" | "error" | "fatal";

const LEVELS: readonly LogLevel[] = ["trace", "debug", "info", "warning", "error", "fatal"];

/** What the command line asks for. */
export interface Options {
  /** The config file. */
  config?: string;
  /** Listen on this host instead of the config's. */
  host?: string;
  /** Listen on this port instead of the config's. */
  port?: number;
  /** Validate the config and exit. */
  check: boolean;
  /** Leave the sessions running at SIGTERM/SIGINT. */
  keepSessions: boolean;
  /** The lowest level logged. */
  logLevel: LogLevel;
  /** How the log is written. */
  logFormat: "text" | "json";
  /** Where the log goes instead of stderr. */
  logFile?: string;
  /** Print the version and exit. */
  version: boolean;
  /** Print the help and exit. */
  help: boolean;
}

/**
 * Reads the command line.
 *
 * @param args the command line, without the program name
 * @returns what it asks for
 * @throws {Error} saying what is wrong with it
 */
export function parseOptions(args: string[]): Options {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      host: { type: "string" },
      port: { type: "string" },
      check: { type: "boolean", default: false },
      "keep-sessions": { type: "boolean", default: false },
      "log-level": { type: "string", default: "info" },
      "log-format": { type: "string", default: "text" },
      "log-file": { type: "string" },
      version: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (positionals.length > 1) throw new Error(`one CONFIG expected, got ${positionals.length}`);
  const level = values["log-level"] as LogLevel;
  if (!LEVELS.includes(level)) throw new Error(`--log-level must be one of ${LEVELS.join(", ")}`);
  const format = values["log-format"];
  if (format !== "text" && format !== "json") throw new Error("--log-format must be text or json");
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    throw new Error("--port must be a whole number from 0 to 65535");
  }
  return {
    config: positionals[0],
    host: values.host,
    port,
    check: values.check!,
    keepSessions: values["keep-sessions"]!,
    logLevel: level,
    logFormat: format,
    logFile: values["log-file"],
    version: values.version!,
    help: values.help!,
  };
}
