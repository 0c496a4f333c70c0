/**
 * A program the bench runs (a launcher, Apache): started with the run's marker in its
 * environment and its file-descriptor limit raised to the hard limit, its output kept, and
 * its stop registered with the run's cleanup.
 *
 * @module
 */

import type { Cleanup } from "./cleanup.ts";

/** How to start a program. */
export interface ProgramOptions {
  /** More environment variables. */
  env?: Record<string, string>;
  /** Working directory. */
  cwd?: string;
  /** Signal of a polite stop. @default "SIGTERM" */
  stopSignal?: Deno.Signal;
  /** How long a polite stop may take before SIGKILL, in ms. @default 120000 */
  stopGraceMs?: number;
}

const MAX_OUTPUT = 4 * 1024 * 1024;

/** A running program. */
export class Program {
  readonly name: string;
  readonly process: Deno.ChildProcess;
  readonly status: Promise<Deno.CommandStatus>;
  #output = "";
  #changed = new Set<() => void>();
  #pumped: Promise<void>;
  #release: () => Promise<void>;
  #options: ProgramOptions;

  private constructor(
    cleanup: Cleanup,
    name: string,
    argv: string[],
    options: ProgramOptions,
  ) {
    this.name = name;
    this.#options = options;
    // `exec` keeps the pid: the shell only raises the soft fd limit to the hard one.
    this.process = new Deno.Command("sh", {
      args: ["-c", 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', ...argv],
      cwd: options.cwd,
      env: { NO_COLOR: "1", PYTHONUNBUFFERED: "1", ...cleanup.env(name), ...options.env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.status = this.process.status;
    this.#pumped = Promise.all([this.#pump(this.process.stdout), this.#pump(this.process.stderr)])
      .then(() => {});
    this.#release = cleanup.defer(`stop ${name}`, () => this.#stop());
  }

  /**
   * Starts a program.
   *
   * @param cleanup the run's cleanup, which will stop it
   * @param name its name (also its owner marker)
   * @param argv the command and its arguments
   * @param options environment, working directory, stop signal
   */
  static start(
    cleanup: Cleanup,
    name: string,
    argv: string[],
    options: ProgramOptions = {},
  ): Program {
    return new Program(cleanup, name, argv, options);
  }

  /** Its pid (the shell `exec`s the program, so it is the program's). */
  get pid(): number {
    return this.process.pid;
  }

  /** Its output so far (stdout and stderr, the last 4 MiB). */
  get output(): string {
    return this.#output;
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      this.#output += text;
      if (this.#output.length > MAX_OUTPUT) this.#output = this.#output.slice(-MAX_OUTPUT / 2);
      for (const f of [...this.#changed]) f();
    }
  }

  /**
   * Waits until its output matches `pattern`.
   *
   * @throws Error when it exits first or `ms` pass
   */
  async waitFor(pattern: RegExp, ms = 30_000): Promise<RegExpMatchArray> {
    let check = () => {};
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await new Promise<RegExpMatchArray>((resolve, reject) => {
        check = () => {
          const m = this.#output.match(pattern);
          if (m) resolve(m);
        };
        this.#changed.add(check);
        check();
        timer = setTimeout(
          () => reject(new Error(`${this.name}: no ${pattern} after ${ms} ms:\n${this.tail()}`)),
          ms,
        );
        this.status.then((s) =>
          reject(
            new Error(`${this.name} exited (code ${s.code}) before ${pattern}:\n${this.tail()}`),
          )
        );
      });
    } finally {
      clearTimeout(timer);
      this.#changed.delete(check);
    }
  }

  /** The last lines of its output, for error messages. */
  tail(lines = 30): string {
    return this.#output.split("\n").slice(-lines).join("\n");
  }

  /** Sends a signal (no error when it is gone). */
  signal(signal: Deno.Signal): void {
    try {
      this.process.kill(signal);
    } catch {
      // gone already
    }
  }

  /**
   * Stops it now (politely, then SIGKILL after the grace period) and forgets its cleanup.
   *
   * @returns its exit status
   */
  async stop(): Promise<Deno.CommandStatus> {
    await this.#release();
    return await this.status;
  }

  /** SIGKILLs it, waits for its exit and forgets its cleanup. */
  async kill(): Promise<Deno.CommandStatus> {
    this.signal("SIGKILL");
    const status = await this.status;
    await this.#release();
    return status;
  }

  async #stop(): Promise<void> {
    this.signal(this.#options.stopSignal ?? "SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<"expired">((r) => {
      timer = setTimeout(() => r("expired"), this.#options.stopGraceMs ?? 120_000);
    });
    const outcome = await Promise.race([this.status, expired]);
    clearTimeout(timer);
    if (outcome === "expired") this.signal("SIGKILL");
    await this.status;
    await this.#pumped;
  }
}
