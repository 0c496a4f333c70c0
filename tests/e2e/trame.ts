/**
 * A trame deployment as Kitware's trame Docker image builds it, for the end-to-end tests: the
 * web client written by trame's own tools, the image's launcher config with the app entry its
 * `generate_launcher_config.py` writes, and the image's Apache vhost, each changed only in the
 * paths and ports a test must change (`trame_image/README.md` says where they come from).
 *
 * @module
 */

import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { freePortRange } from "../integration/harness.ts";
import { httpdBase, mapFolderForApache } from "./apache.ts";
import { E2E, PYTHON, ROOT } from "./tools.ts";

/** The trame app the launcher starts. */
export const TRAME_APP: string = join(E2E, "trame_app.py");
/** The trame Docker image's files, kept as they are in Kitware/trame. */
export const TRAME_IMAGE: string = join(E2E, "trame_image");
/** The application name of the test's apps.yml (`counter: {app: ...}`): `counter.html`. */
export const APP_NAME = "counter";
/** The ready line `generate_launcher_config.py` writes for every app. */
export const READY_LINE = "App running at";

/** Files of the venv's trame packages the tests need (absent when trame is not installed). */
export function tramePackages(): string[] {
  const lib = join(ROOT, ".venv/lib");
  const python = existsSync(lib) ? readdirSync(lib).find((n) => n.startsWith("python")) : "";
  const site = join(lib, python ?? "python3", "site-packages");
  return [
    join(site, "trame/tools/www.py"),
    join(site, "trame_client/module/vue3-www/index.html"),
    join(site, "trame_vuetify/module/__init__.py"),
  ];
}

/**
 * Writes the web client into `www` as the image's `generate_www.py` does for our one app:
 * `python -m trame.tools.www --output www --client-type vue3` (every installed trame module),
 * then `python -m trame.tools.app --input www --name counter` (`counter.html`, whose
 * `data-app-name` is the application the client asks the launcher for).
 */
export async function writeTrameWww(www: string): Promise<string> {
  await run([PYTHON, "-m", "trame.tools.www", "--output", www, "--client-type", "vue3"]);
  await run([PYTHON, "-m", "trame.tools.app", "--input", www, "--name", APP_NAME]);
  return www;
}

async function run(argv: string[]): Promise<void> {
  const out = await new Deno.Command(argv[0], { args: argv.slice(1), stdin: "null" }).output();
  const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, `${argv.join(" ")} failed:\n${text}`);
}

/** The app entry `generate_launcher_config.py` writes for `{app: <our app>}`. */
export function imageAppEntry(): { cmd: string[]; ready_line: string } {
  return {
    // The image's entry starts with the app's own executable; ours is a script of the venv.
    cmd: [
      PYTHON,
      TRAME_APP,
      ...["--host", "${host}", "--port", "${port}", "--authKey", "${secret}", "--server"],
    ],
    ready_line: READY_LINE,
  };
}

/**
 * Writes `launcher.json` into `dir`: the image's `default-launcher.json` with our app merged in
 * as `generate_launcher_config.py` merges it (the app, and a copy named `trame` for
 * `index.html`). Changed for the test: `log_dir` into `dir`, `proxy_file` into a folder of it
 * that Apache's group may read ({@linkcode imageMapFile}, as docs/operations.md tells), the port range
 * to free ports on 127.0.0.1 (not every interface), and `content` set to `www` when the
 * launcher serves the client itself. The launcher is started with `--host`/`--port`.
 *
 * @returns the config file's path
 */
export async function writeImageLauncherConfig(dir: string, www?: string): Promise<string> {
  const config = JSON.parse(await Deno.readTextFile(join(TRAME_IMAGE, "default-launcher.json")));
  assert.deepEqual(config.apps, {}, "the image's base config has no apps");
  config.configuration.log_dir = join(dir, "logs");
  mapFolderForApache(dir);
  config.configuration.proxy_file = imageMapFile(dir);
  if (www) config.configuration.content = www;
  config.resources = [{ host: "127.0.0.1", port_range: freePortRange(10) }];
  config.apps[APP_NAME] = imageAppEntry();
  config.apps.trame = config.apps[APP_NAME];
  const file = join(dir, "launcher.json");
  await Deno.writeTextFile(file, JSON.stringify(config, null, 2));
  return file;
}

/**
 * Where {@linkcode writeImageLauncherConfig} keeps the map file of a launcher in `dir`.
 *
 * @param dir the launcher's folder
 * @returns the map file's path
 */
export function imageMapFile(dir: string): string {
  return join(dir, "map", "proxy-mapping.txt");
}

/** What the image's vhost is pointed at. */
export interface ImageVhostPaths {
  /** The web client folder (the image's `/deploy/server/www`). */
  www: string;
  /** Where the vhost's logs go (the image's `/deploy/server/logs/apache`). */
  logs: string;
  /** Where the launcher listens, `http://127.0.0.1:<port>` (the image's `localhost:9000`). */
  launcher: string;
  /** The launcher's `proxy_file` (the image's `/opt/trame/proxy-mapping.txt`). */
  mapFile: string;
}

/**
 * The image's `001-trame.conf` with its paths and ports replaced by ours, every other byte as
 * it is; fails if one of the replaced strings is not in the file (the file changed).
 */
export async function imageVhost(port: number, paths: ImageVhostPaths): Promise<string> {
  let text = await Deno.readTextFile(join(TRAME_IMAGE, "001-trame.conf"));
  const replacements: [string, string][] = [
    ["<VirtualHost *:80>", `<VirtualHost *:${port}>`],
    ["/deploy/server/www", paths.www],
    ["/deploy/server/logs/apache", paths.logs],
    ["http://localhost:9000", paths.launcher],
    ["/opt/trame/proxy-mapping.txt", paths.mapFile],
  ];
  for (const [from, to] of replacements) {
    assert.ok(text.includes(from), `001-trame.conf no longer has ${from}`);
    text = text.replaceAll(from, to);
  }
  return text;
}

/** The modules the image enables (`a2enmod` in its Dockerfile, and Debian's defaults it uses). */
const IMAGE_MODULES = [
  "mpm_event",
  "authz_core",
  "dir",
  "mime",
  "headers",
  "proxy",
  "proxy_http",
  "proxy_wstunnel",
  "rewrite",
];

/** An httpd.conf with the image's vhost on 127.0.0.1:`port`, Apache's files in `dir`. */
export async function imageHttpdConf(
  dir: string,
  port: number,
  paths: ImageVhostPaths,
): Promise<string> {
  return [
    ...httpdBase(dir, port, IMAGE_MODULES),
    // What Debian's apache2.conf, mime.conf and dir.conf set for every site.
    `LogFormat "%h %l %u %t \\"%r\\" %>s %O \\"%{Referer}i\\" \\"%{User-Agent}i\\"" combined`,
    "TypesConfig /etc/mime.types",
    "DirectoryIndex index.html",
    await imageVhost(port, paths),
  ].join("\n");
}
