/**
 * Runs the real launcher (main.ts, or the bundle named by PVW_LAUNCHER_ENTRY) as a child
 * process on 127.0.0.1 with a generated config, and waits for what it logs.
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { childrenOf } from "./procfs.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The program under test: main.ts by default, the bundle in CI's second pass. */
export const ENTRY: string = join(ROOT, Deno.env.get("PVW_LAUNCHER_ENTRY") ?? "main.ts");

/** The permissions `deno task compile` bakes into the binary (reading /proc needs all). */
export const PERMISSIONS = ["--allow-all"];

/** The argv of tests/testdata/echo_app.ts, an app that reports what it received. */
export const ECHO_APP: string[] = [
  Deno.execPath(),
  "run",
  "--allow-net",
  join(ROOT, "tests/testdata/echo_app.ts"),
  "--port",
  "$port",
];

/** The argv of examples/demo_app.ts with the session's port and secret; add options after. */
export const DEMO_APP: string[] = [
  Deno.execPath(),
  "run",
  "--allow-net",
  join(ROOT, "examples/demo_app.ts"),
  "--port",
  "$port",
  "--authKey",
  "$secret",
];

/** Waits for a promise, failing with `what` after `ms`. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let id: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    id = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(id);
  }
}

/** Checks `condition` each time the launcher logs, and once more after `ms`. */
export type Condition = () => boolean | Promise<boolean>;

/** How a launcher process is started, beyond its command line. */
export interface LaunchOptions {
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** A command that runs the launcher, such as `unshare ...`, put before the program. */
  wrap?: string[];
  /**
   * Whether `wrap` runs the launcher as its child rather than exec'ing it: signals are then
   * sent to that child (`unshare --fork` blocks SIGTERM in itself).
   */
  forks?: boolean;
}

/** A running launcher. */
export class Launcher {
  readonly dir: string;
  readonly configFile: string;
  readonly process: Deno.ChildProcess;
  #log = "";
  #waiters = new Set<() => void>();
  #pumped: Promise<void>;
  #status: Promise<Deno.CommandStatus>;
  #forks: boolean;
  base = "";
  endpoint = "";
  /** The client {@linkcode Launcher.request} uses: one that trusts a test CA, for HTTPS. */
  client?: Deno.HttpClient;

  constructor(dir: string, configFile: string, args: string[], options: LaunchOptions = {}) {
    this.dir = dir;
    this.configFile = configFile;
    this.#forks = options.forks ?? false;
    const argv = [
      ...options.wrap ?? [],
      Deno.execPath(),
      "run",
      "--quiet",
      ...PERMISSIONS,
      ENTRY,
      configFile,
      ...args,
    ];
    this.process = new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", ...options.env },
    }).spawn();
    this.#pumped = Promise.all([this.#pump(this.process.stdout), this.#pump(this.process.stderr)])
      .then(() => {});
    this.#status = this.process.status;
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      this.#log += text;
      for (const w of [...this.#waiters]) w();
    }
  }

  /** Everything the launcher printed so far. */
  get log(): string {
    return this.#log;
  }

  /** Waits until the log matches `pattern`, failing after `ms`. */
  async waitForLog(pattern: RegExp, ms = 10_000): Promise<RegExpMatchArray> {
    let check = () => {};
    try {
      return await within(
        ms,
        `log line ${pattern}`,
        new Promise<RegExpMatchArray>((resolve) => {
          check = () => {
            const m = this.#log.match(pattern);
            if (m) resolve(m);
          };
          this.#waiters.add(check);
          check();
        }),
      );
    } finally {
      this.#waiters.delete(check);
    }
  }

  /** Sends a signal and waits for the exit status. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    try {
      const child = this.#forks ? childrenOf(this.process.pid)[0] : undefined;
      if (child === undefined) this.process.kill(signal);
      else Deno.kill(child, signal);
    } catch {
      // already gone
    }
    return await this.exited();
  }

  /** Waits for the launcher to exit on its own. */
  async exited(): Promise<Deno.CommandStatus> {
    const status = await within(20_000, "the launcher to exit", this.#status).catch((err) => {
      throw new Error(`${err.message}\nlauncher output:\n${this.#log}`);
    });
    await this.#pumped;
    return status;
  }

  /** POSTs a JSON body (as text/plain, like the real clients) to the endpoint. */
  async post(
    body: unknown,
    path = "/",
  ): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
    return await this.request("POST", this.endpoint + path, JSON.stringify(body));
  }

  /** Sends any request and reads the JSON answer. */
  async request(
    method: string,
    url: string,
    body?: string,
  ): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
    const res = await fetch(url, {
      method,
      body,
      headers: body === undefined ? {} : { "content-type": "text/plain;charset=UTF-8" },
      client: this.client,
    });
    const text = await res.text();
    return { status: res.status, json: JSON.parse(text), headers: res.headers };
  }
}

/** A free range of `count` ports on 127.0.0.1 (each port checked once, best effort). */
export function freePortRange(count: number): [number, number] {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = 20000 + Math.floor(Math.random() * 30000);
    let ok = true;
    for (let p = first; p < first + count && ok; p++) {
      try {
        Deno.listen({ hostname: "127.0.0.1", port: p }).close();
      } catch {
        ok = false;
      }
    }
    if (ok) return [first, first + count - 1];
  }
  throw new Error("no free port range");
}

/** Starts a launcher on a spec-format config object in a new temp dir. */
export async function startLauncher(
  config: Record<string, unknown> | ((dir: string) => Record<string, unknown>),
  args: string[] = [],
  options: LaunchOptions = {},
): Promise<Launcher> {
  const dir = await Deno.makeTempDir({ prefix: "pvw-launcher-test-" });
  try {
    const body = typeof config === "function" ? config(dir) : config;
    const file = join(dir, "launcher.config");
    await Deno.writeTextFile(file, JSON.stringify(body, null, 2));
    return await launchOn(dir, file, args, options);
  } catch (err) {
    // No launcher for the test to stop: its folder is removed here.
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw err;
  }
}

/**
 * Starts a launcher on an existing config file, on 127.0.0.1 and a free port; `options.wrap` is a
 * command line it runs under (such as `prlimit --nofile=1024:1024 --`).
 */
export async function launchOn(
  dir: string,
  configFile: string,
  args: string[] = [],
  options: LaunchOptions = {},
): Promise<Launcher> {
  const launcher = new Launcher(
    dir,
    configFile,
    ["--host", "127.0.0.1", "--port", "0", ...args],
    options,
  );
  try {
    const m = await Promise.race([
      launcher.waitForLog(/listening on (https?:\/\/[^/\s]+)(\/\S*)/, 20_000),
      launcher.process.status.then((s) => {
        throw new Error(`the launcher exited with code ${s.code} before it listened`);
      }),
    ]);
    launcher.base = m[1];
    launcher.endpoint = m[1] + m[2];
  } catch (err) {
    await launcher.stop("SIGKILL");
    throw new Error(`${(err as Error).message}\nlauncher output:\n${launcher.log}`);
  }
  return launcher;
}

/** Starts another launcher on the same folder and config file as `previous` (a restart). */
export function restartLauncher(
  previous: Launcher,
  args: string[] = [],
  options: LaunchOptions = {},
): Promise<Launcher> {
  return launchOn(previous.dir, previous.configFile, args, options);
}

/** A spec-format config with the given apps, logs and map file in `dir`. */
export function specConfig(
  dir: string,
  apps: Record<string, Record<string, unknown>>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    url: "http://127.0.0.1:0/paraview",
    log: join(dir, "logs"),
    map_file: join(dir, "proxy.map"),
    proxy_url: "ws://127.0.0.1:${port}/",
    timeout: 20,
    stop_grace: 2,
    resources: [{ host: "127.0.0.1", port: freePortRange(20) }],
    applications: apps,
    ...extra,
  };
}

/** Whether a process runs (exists and is not a zombie). */
export function processRuns(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** Lines of the map file other than comments. */
export async function mapLines(file: string): Promise<string[]> {
  const text = await Deno.readTextFile(file);
  return text.split("\n").filter((l) => l && !l.startsWith("#"));
}

/**
 * Waits until a new connection gets `GET /healthz` answered 200 (the launcher serves again
 * after it shed connections), polling until the deadline.
 *
 * @param launcher the launcher
 * @param ms the deadline
 * @param ca the certificate authority to trust, for a launcher serving TLS
 */
export async function servingAgain(launcher: Launcher, ms: number, ca?: string): Promise<void> {
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0, ...(ca ? { caCerts: [ca] } : {}) });
  const deadline = performance.now() + ms;
  try {
    for (;;) {
      try {
        const res = await fetch(`${launcher.base}/healthz`, { client });
        await res.body?.cancel();
        if (res.status === 200) return;
      } catch {
        // refused or cut: not accepting yet
      }
      if (performance.now() > deadline) {
        throw new Error(`not serving again after ${ms} ms:\n${launcher.log}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    client.close();
  }
}

/** The port a launcher listens on. */
export function portOf(launcher: Launcher): number {
  return Number(new URL(launcher.base).port);
}

/** Waits until the file at `path` matches `pattern`, woken by file events. */
export async function waitForFile(path: string, pattern: RegExp): Promise<RegExpMatchArray> {
  const read = () => Deno.readTextFile(path).catch(() => "");
  const watcher = Deno.watchFs(join(path, ".."));
  try {
    return await within(
      10_000,
      `${pattern} in ${path}`,
      (async () => {
        const first = (await read()).match(pattern);
        if (first) return first;
        for await (const _ of watcher) {
          const m = (await read()).match(pattern);
          if (m) return m;
        }
        throw new Error("the watcher ended");
      })(),
    );
  } finally {
    watcher.close();
  }
}
