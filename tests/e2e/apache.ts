/**
 * Runs Debian's Apache httpd in the foreground on a loopback port, with its own ServerRoot,
 * PidFile and ErrorLog in a temp folder, configured by `examples/apache/pvw-launcher.conf` (or
 * by another site, such as the trame Docker image's vhost).
 *
 * @module
 */

import { join } from "node:path";
import { freePortRange, within } from "../integration/harness.ts";
import { APACHE, APACHE_MODULES, ROOT } from "./tools.ts";

/** Apache's group on Debian, whose children run as `www-data` when started by root. */
const APACHE_GROUP = "www-data";

/**
 * Makes the folder of the launcher's map file as docs/operations.md tells Apache users to: the
 * launcher's, with Apache's group and the setgid bit (mode 2750), so that the map file
 * (mode 0640) gets that group and Apache can read it, and no one else.
 *
 * @param parent where to make it
 * @returns the folder, `<parent>/map`
 */
export function mapFolderForApache(parent: string): string {
  const folder = join(parent, "map");
  Deno.mkdirSync(folder);
  if (Deno.uid() === 0) Deno.chownSync(folder, null, groupId(APACHE_GROUP));
  Deno.chmodSync(folder, 0o2750);
  return folder;
}

function groupId(name: string): number {
  const line = Deno.readTextFileSync("/etc/group").split("\n").find((l) =>
    l.startsWith(`${name}:`)
  );
  if (!line) throw new Error(`no group ${name} in /etc/group`);
  return Number(line.split(":")[2]);
}

/** The example vhost the README tells Apache users to copy. */
export const EXAMPLE_VHOST: string = join(ROOT, "examples/apache/pvw-launcher.conf");

const MODULES = [
  "mpm_event",
  "authz_core",
  "proxy",
  "proxy_http",
  "proxy_wstunnel",
  "rewrite",
  "headers",
];

/** What the example's `Define`s are set to. */
export interface ApacheDefines {
  /** The launcher's map file. */
  mapFile: string;
  /** Where the launcher listens, e.g. `http://127.0.0.1:8080`. */
  launcher: string;
  /** The launcher's endpoint path. @default "/paraview" */
  endpoint?: string;
}

/** A running Apache. */
export class Apache {
  readonly base: string;
  readonly #dir: string;
  readonly #process: Deno.ChildProcess;
  readonly #stderr: Promise<string>;

  private constructor(dir: string, port: number, process: Deno.ChildProcess) {
    this.#dir = dir;
    this.base = `http://127.0.0.1:${port}`;
    this.#process = process;
    this.#stderr = new Response(process.stderr).text();
  }

  /** Starts Apache with our example vhost and waits (up to 20 s) until it serves. */
  static async start(dir: string, defines: ApacheDefines): Promise<Apache> {
    return await Apache.startSite(dir, (port) => httpdConf(dir, port, defines));
  }

  /**
   * Starts Apache on the httpd.conf that `conf` writes for a free port, and waits (up to 20 s)
   * until it serves.
   */
  static async startSite(
    dir: string,
    conf: (port: number) => string | Promise<string>,
  ): Promise<Apache> {
    const [port] = freePortRange(1);
    const file = join(dir, "httpd.conf");
    await Deno.writeTextFile(file, await conf(port));
    const process = new Deno.Command(APACHE, {
      args: ["-d", dir, "-f", file, "-DFOREGROUND"],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      env: { LANG: "C" },
    }).spawn();
    const apache = new Apache(dir, port, process);
    try {
      await apache.#waitUntilServing();
    } catch (err) {
      await apache.stop();
      throw new Error(`${(err as Error).message}\n${await apache.errors()}`);
    }
    return apache;
  }

  /** Its stderr and error log, for failure messages. */
  async errors(): Promise<string> {
    const log = await Deno.readTextFile(join(this.#dir, "error.log")).catch(() => "");
    return `apache stderr:\n${await this.#stderr}\napache error.log:\n${log}`;
  }

  /** The error log so far. */
  async errorLog(): Promise<string> {
    return await Deno.readTextFile(join(this.#dir, "error.log")).catch(() => "");
  }

  /** Stops Apache (SIGTERM) and waits for it to exit. */
  async stop(): Promise<Deno.CommandStatus> {
    try {
      this.#process.kill("SIGTERM");
    } catch {
      // already gone
    }
    const status = await within(20_000, "apache to exit", this.#process.status);
    await this.#stderr;
    return status;
  }

  /** Waits for "resuming normal operations" in the error log, or for Apache to exit. */
  async #waitUntilServing(): Promise<void> {
    const log = join(this.#dir, "error.log");
    const watcher = Deno.watchFs(this.#dir, { recursive: false });
    const exited = this.#process.status.then((s) => {
      throw new Error(`apache exited with code ${s.code} before serving`);
    });
    const ready = (async () => {
      const serving = async () =>
        /resuming normal operations/.test(await Deno.readTextFile(log).catch(() => ""));
      if (await serving()) return;
      for await (const event of watcher) {
        if (event.paths.includes(log) && await serving()) return;
      }
    })();
    try {
      await within(20_000, "apache to serve", Promise.race([ready, exited]));
    } finally {
      watcher.close();
      await ready.catch(() => {});
      exited.catch(() => {});
    }
  }
}

/**
 * An httpd.conf that runs our example vhost on 127.0.0.1:`port`, with everything in `dir`.
 *
 * @param logLevel Apache's LogLevel: the tests read rewrite traces, the bench wants quiet
 */
export function httpdConf(
  dir: string,
  port: number,
  defines: ApacheDefines,
  logLevel = "notice rewrite:trace2",
): string {
  return [
    ...httpdBase(dir, port, MODULES, logLevel),
    `Define PVW_PORT ${port}`,
    `Define PVW_MAP_FILE "${defines.mapFile}"`,
    `Define PVW_LAUNCHER "${defines.launcher}"`,
    `Define PVW_ENDPOINT "${defines.endpoint ?? "/paraview"}"`,
    `Include "${EXAMPLE_VHOST}"`,
    "",
  ].join("\n");
}

/**
 * The server-wide lines of an httpd.conf on 127.0.0.1:`port` with everything in `dir`, loading
 * `modules` (names such as `proxy_wstunnel`); a site's own lines follow them.
 */
export function httpdBase(
  dir: string,
  port: number,
  modules: string[],
  logLevel = "notice rewrite:trace2",
): string[] {
  // As root, Apache's children switch to this user: it must be able to read the map file.
  const user = Deno.uid() === 0 ? ["User www-data", `Group ${APACHE_GROUP}`] : [];
  return [
    `ServerRoot "${dir}"`,
    `DefaultRuntimeDir "${dir}"`,
    `PidFile "${join(dir, "httpd.pid")}"`,
    `ErrorLog "${join(dir, "error.log")}"`,
    `LogLevel ${logLevel}`,
    "ServerName 127.0.0.1",
    `Listen 127.0.0.1:${port}`,
    ...user,
    ...modules.map((m) => `LoadModule ${m}_module "${APACHE_MODULES}/mod_${m}.so"`),
  ];
}
