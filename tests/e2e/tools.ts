/**
 * Where the end-to-end tests find the real software `.ci/setup-extra` installs (fixed paths,
 * nothing exported through the environment), and how a test skips when some is missing: on a
 * developer's machine it prints a skip line and is ignored; in CI (`CI` set) it runs and fails.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePortRange } from "../integration/harness.ts";

/** The repository's root folder. */
export const ROOT: string = fileURLToPath(new URL("../../", import.meta.url));
/** This folder: the test app, the page, and (in npm/node_modules) the npm packages. */
export const E2E: string = fileURLToPath(new URL("./", import.meta.url));

/** The venv's Python, with PyPI's `wslink`. */
export const PYTHON: string = join(ROOT, ".venv/bin/python");
/** The real wslink server the tests launch. */
export const WSLINK_APP: string = join(E2E, "wslink_app.py");
/** Debian's Chromium. */
export const CHROMIUM = "/usr/bin/chromium";
/** Debian's Apache httpd and its modules. */
export const APACHE = "/usr/sbin/apache2";
/** Where Debian puts Apache's modules. */
export const APACHE_MODULES = "/usr/lib/apache2/modules";
/** The `wslink` npm package's browser bundle (UMD, global `wslink`). */
export const WSLINK_JS: string = join(E2E, "npm/node_modules/wslink/dist/wslink.js");
/** The playwright-core npm package, loaded with `require`. */
export const PLAYWRIGHT: string = join(E2E, "npm/node_modules/playwright-core");

const IN_CI = !["", "0", "false"].includes(
  (Deno.env.get("CI") ?? "").toLowerCase(),
);

/** What a group of tests needs, checked once when the test file loads. */
export class Needs {
  readonly missing: string[];

  /**
   * @param what the group's name in the skip line
   * @param paths the files it needs
   * @param hint how to get what is missing, in the skip line
   */
  constructor(
    readonly what: string,
    paths: string[],
    hint = "run .ci/setup-extra to install",
  ) {
    this.missing = paths.filter((p) => !existsSync(p));
    if (this.ignore) console.log(`SKIP ${what}: missing ${this.missing.join(", ")} (${hint})`);
  }

  /** Whether to ignore the tests: something is missing and this is not CI. */
  get ignore(): boolean {
    return this.missing.length > 0 && !IN_CI;
  }

  /**
   * Fails when something is missing: called first by each test, it only throws in CI.
   *
   * @throws Error naming what is missing
   */
  check(): void {
    if (this.missing.length > 0) {
      throw new Error(
        `${this.what}: missing ${this.missing.join(", ")}; .ci/setup-extra failed?`,
      );
    }
  }
}

/** The wslink app's argv, as a launcher `cmd`, with `authKey` as its secret template. */
export function wslinkCmd(authKey = "${secret}"): string[] {
  return [
    PYTHON,
    WSLINK_APP,
    "--host",
    "${host}",
    "--port",
    "${port}",
    "--authKey",
    authKey,
    "--timeout",
    "60",
  ];
}

/** A wslink-format config (as trame deployments write it) serving `content`, in `dir`. */
export function wslinkConfig(
  dir: string,
  options: {
    content?: string;
    sessionURL?: string;
    maxSession?: number;
    apps: Record<string, Record<string, unknown>>;
    properties?: Record<string, string>;
  },
): Record<string, unknown> {
  const [first, last] = freePortRange(10);
  return {
    configuration: {
      host: "127.0.0.1",
      port: 0,
      endpoint: "paraview",
      ...(options.content ? { content: options.content } : {}),
      proxy_file: join(dir, "proxy.map"),
      sessionURL: options.sessionURL ??
        "ws://USE_HOST/proxy?sessionId=${id}&path=ws",
      timeout: 20,
      log_dir: join(dir, "logs"),
      stop_grace: 2,
      ...(options.maxSession ? { max_session: options.maxSession } : {}),
    },
    resources: [{ host: "127.0.0.1", port_range: [first, last] }],
    properties: options.properties ?? {},
    apps: options.apps,
  };
}
