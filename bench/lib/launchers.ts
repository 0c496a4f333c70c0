/**
 * The two launchers under comparison, started from the same wslink-format config (the format
 * both read): pvw-launcher (`main.ts`, or the file `PVW_LAUNCHER_ENTRY` names, under
 * `deno run`) and PyPI's wslink launcher (`python -m wslink.launcher`, GET and DELETE turned
 * on through `WSLINK_LAUNCHER_GET=1` and `WSLINK_LAUNCHER_DELETE=1`). Both are driven by the
 * same HTTP client.
 *
 * @module
 */

import { join } from "node:path";
import { mapFolderForApache } from "../../tests/e2e/apache.ts";
import type { Cleanup } from "./cleanup.ts";
import type { Context } from "./context.ts";
import { PVW_ENTRY, ROOT, WS_APP } from "./paths.ts";
import { freePort, portRange } from "./ports.ts";
import { Program } from "./program.ts";

/** The ready line every bench app prints. */
export const READY_LINE = "Starting factory";

/** An app that is ready at once. */
export const SLEEPER: string[] = ["sh", "-c", `echo ${READY_LINE}; exec sleep 600`];

/** An app that is ready after `ms`. */
export function slowSleeper(ms: number): string[] {
  return ["sh", "-c", `sleep ${ms / 1000}; echo ${READY_LINE}; exec sleep 600`];
}

/** `cmd` of the WebSocket app (`${port}` is the session's port). */
export function wsAppCmd(): string[] {
  return [Deno.execPath(), "run", "--quiet", "--allow-net", WS_APP, "--port", "${port}"];
}

/** What the launchers of a scenario serve. */
export interface LauncherSpec {
  /**
   * Applications by name: their argv (templates), how long to wait for them (in s), and how
   * many processes pvw-launcher keeps warm (the wslink launcher has no such thing).
   */
  apps: Record<string, { cmd: string[]; timeout?: number; warm?: number }>;
  /** Number of ports (the capacity). */
  ports: number;
  /** More `configuration` keys (pvw-launcher's own, such as `tls_cert`). */
  configuration?: Record<string, unknown>;
  /** The HTTP client to reach it with (one that trusts a test CA, for HTTPS). */
  client?: Deno.HttpClient;
}

/** A wslink-format config both launchers read. */
function wslinkConfig(dir: string, port: number, spec: LauncherSpec): Record<string, unknown> {
  const [first, last] = portRange(spec.ports);
  return {
    configuration: {
      host: "127.0.0.1",
      port,
      endpoint: "paraview",
      proxy_file: join(dir, "map", "proxy.map"),
      sessionURL: "ws://USE_HOST/proxy?sessionId=${id}&path=ws",
      timeout: 30,
      log_dir: join(dir, "logs"),
      fields: ["host", "port"],
      // pvw-launcher extensions; the wslink launcher ignores them.
      stop_grace: 5,
      ...spec.configuration,
    },
    resources: [{ host: "127.0.0.1", port_range: [first, last] }],
    properties: {},
    apps: Object.fromEntries(
      Object.entries(spec.apps).map(([name, app]) => [
        name,
        {
          cmd: app.cmd,
          ready_line: READY_LINE,
          ...(app.timeout ? { timeout: app.timeout } : {}),
          ...(app.warm ? { warm: app.warm } : {}),
        },
      ]),
    ),
  };
}

/** A launcher answering on `base`. */
export interface Launcher {
  /** `pvw-launcher` or `wslink`. */
  readonly kind: "pvw" | "wslink";
  /** Its program. */
  program: Program;
  /** Its folder: config, logs, map file, state file. */
  readonly dir: string;
  /** The config file. */
  readonly configFile: string;
  /** `http://127.0.0.1:<port>` (`https://` with `tls_cert`). */
  base: string;
  /** The REST client. */
  client: RestClient;
  /** The HTTP client the REST client uses, if not the default one. */
  httpClient?: Deno.HttpClient;
}

async function makeDir(cleanup: Cleanup, name: string, root: string): Promise<string> {
  const dir = join(root, name);
  // The logs stay private (pvw-launcher refuses a log folder others can open); Apache's
  // children reach the map file in its own folder, as docs/operations.md sets it up.
  await Deno.mkdir(join(dir, "logs"), { recursive: true, mode: 0o700 });
  await Deno.chmod(dir, 0o755);
  mapFolderForApache(dir);
  cleanup.defer(`remove ${dir}`, () => Deno.remove(dir, { recursive: true }).catch(() => {}));
  return dir;
}

/**
 * Starts pvw-launcher on a free port.
 *
 * @param cleanup the run's cleanup
 * @param root the run's temp folder
 * @param name a name for its folder and owner marker
 * @param spec apps and capacity
 */
export async function startPvw(
  cleanup: Cleanup,
  root: string,
  name: string,
  spec: LauncherSpec,
): Promise<Launcher> {
  const dir = await makeDir(cleanup, name, root);
  const configFile = join(dir, "launcher.json");
  await Deno.writeTextFile(configFile, JSON.stringify(wslinkConfig(dir, 0, spec), null, 2));
  const launcher: Launcher = {
    kind: "pvw",
    dir,
    configFile,
    base: "",
    program: undefined as unknown as Program,
    client: undefined as unknown as RestClient,
    httpClient: spec.client,
  };
  await runPvw(cleanup, launcher, name);
  return launcher;
}

/**
 * (Re)starts pvw-launcher on its folder and config, and waits until it listens.
 *
 * @returns ms from spawn to its "listening" line
 */
export async function runPvw(cleanup: Cleanup, launcher: Launcher, name: string): Promise<number> {
  const t0 = performance.now();
  launcher.program = Program.start(cleanup, name, [
    Deno.execPath(),
    "run",
    "--quiet",
    "--frozen",
    "--allow-all",
    // As `deno task compile` bakes into the binary: a small young generation keeps the
    // launcher's memory low at a negligible cost in time.
    "--v8-flags=--max-semi-space-size=4",
    PVW_ENTRY,
    launcher.configFile,
    "--host",
    "127.0.0.1",
    "--port",
    "0",
  ], { cwd: ROOT });
  const m = await launcher.program.waitFor(/listening on (https?:\/\/[^/\s]+)(\/\S*)/);
  const ms = performance.now() - t0;
  launcher.base = m[1];
  launcher.client = new RestClient(m[1] + "/paraview/", launcher.httpClient);
  return ms;
}

/**
 * Starts the wslink launcher on a free port.
 *
 * @param python the venv's Python, with wslink
 */
export async function startWslink(
  cleanup: Cleanup,
  root: string,
  name: string,
  spec: LauncherSpec,
  python: string,
): Promise<Launcher> {
  const dir = await makeDir(cleanup, name, root);
  const configFile = join(dir, "launcher.json");
  const port = freePort();
  await Deno.writeTextFile(configFile, JSON.stringify(wslinkConfig(dir, port, spec), null, 2));
  const program = Program.start(cleanup, name, [python, "-m", "wslink.launcher", configFile], {
    env: { WSLINK_LAUNCHER_GET: "1", WSLINK_LAUNCHER_DELETE: "1" },
    cwd: dir,
  });
  await program.waitFor(/Running on http:\/\/\S+/);
  const base = `http://127.0.0.1:${port}`;
  return {
    kind: "wslink",
    program,
    dir,
    configFile,
    base,
    client: new RestClient(base + "/paraview/"),
  };
}

/** A timed answer. */
export interface Answer {
  /** HTTP status. */
  status: number;
  /** The JSON body (or `{raw}` when it is not JSON). */
  json: Record<string, unknown>;
  /** Request to body read, in ms. */
  ms: number;
}

/** The REST client both launchers are driven with (keep-alive `fetch`). */
export class RestClient {
  /** The endpoint with its trailing slash, as the wslink launcher serves it. */
  readonly endpoint: string;
  readonly #client: Deno.HttpClient | undefined;

  constructor(endpoint: string, client?: Deno.HttpClient) {
    this.endpoint = endpoint;
    this.#client = client;
  }

  async #send(method: string, url: string, body?: string): Promise<Answer> {
    const t0 = performance.now();
    const res = await fetch(url, {
      method,
      body,
      headers: body === undefined ? {} : { "content-type": "text/plain;charset=UTF-8" },
      client: this.#client,
    });
    const text = await res.text();
    const ms = performance.now() - t0;
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(text);
    } catch {
      json = { raw: text };
    }
    return { status: res.status, json, ms };
  }

  /** POSTs a launch request for `application`. */
  post(application: string): Promise<Answer> {
    return this.#send("POST", this.endpoint, JSON.stringify({ application }));
  }

  /** GETs a session. */
  get(id: string): Promise<Answer> {
    return this.#send("GET", this.endpoint + id);
  }

  /** DELETEs a session. */
  delete(id: string): Promise<Answer> {
    return this.#send("DELETE", this.endpoint + id);
  }
}

/**
 * Launches `count` sessions, `concurrency` at a time.
 *
 * @returns their ids
 * @throws Error when a launch is not answered 200
 */
export async function launchMany(
  client: RestClient,
  application: string,
  count: number,
  concurrency: number,
): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const a = await client.post(application);
      if (a.status !== 200) {
        throw new Error(`launch answered ${a.status}: ${JSON.stringify(a.json)}`);
      }
      ids.push(String(a.json.id));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return ids;
}

/** Deletes sessions, `concurrency` at a time; failures are counted, not thrown. */
export async function deleteMany(
  client: RestClient,
  ids: string[],
  concurrency: number,
): Promise<number> {
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++];
      const a = await client.delete(id).catch(() => undefined);
      if (a?.status !== 200) failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
  return failed;
}

/**
 * Starts pvw-launcher and, when wslink is installed, the wslink launcher on the same spec.
 *
 * @param ctx the run's context
 * @param name a name for their folders (`pvw-<name>`, `wslink-<name>`)
 * @param spec apps and capacity
 * @returns both launchers; `wslink` is undefined without wslink
 */
export async function startBoth(
  ctx: Context,
  name: string,
  spec: LauncherSpec,
  options: { wslink?: boolean } = {},
): Promise<{ pvw: Launcher; wslink: Launcher | undefined }> {
  const pvw = await startPvw(ctx.cleanup, ctx.root, `pvw-${name}`, spec);
  const wslink = ctx.tools.python && options.wslink !== false
    ? await startWslink(ctx.cleanup, ctx.root, `wslink-${name}`, spec, ctx.tools.python)
    : undefined;
  return { pvw, wslink };
}
