/**
 * Running a scheduler's commands (`sbatch`, `squeue`, `scancel`, ...): the one effect a batch
 * system has. Tests replace it with a fake that answers as the real commands do.
 *
 * Every command runs with a timeout: Slurm's commands keep retrying for 9 to 18 s when the
 * controller is down, and a hung command must not hold a session forever. The environment
 * is given, never inherited, so that the launcher's own variables (`SQUEUE_FORMAT`,
 * `SBATCH_PARTITION`, `SLURM_MEM_PER_CPU` inside an allocation, ...) cannot change what a
 * command does.
 *
 * @module
 */

/** What a command printed and how it ended. */
export interface CommandResult {
  /** Its exit code (128 + the signal number when a signal ended it). */
  code: number;
  /** Everything it wrote to stdout. */
  stdout: string;
  /** Everything it wrote to stderr. */
  stderr: string;
  /** Whether it was killed for running past its timeout. */
  timedOut: boolean;
}

/** How to run one command. */
export interface RunOptions {
  /** Text for its stdin; stdin is empty when undefined. */
  stdin?: string;
  /** Its environment besides the runner's own variables (`SLURM_CONF`). */
  env?: Record<string, string>;
}

/** Runs a scheduler's commands. */
export interface CommandRunner {
  /**
   * Runs `command` with `args` and waits until it has ended.
   *
   * @returns what it printed and how it ended; a timeout is reported, not thrown
   * @throws Error when the command cannot be started at all (not installed)
   */
  run(command: string, args: readonly string[], options?: RunOptions): Promise<CommandResult>;
}

/** Settings of {@linkcode ProcessRunner}. */
export interface ProcessRunnerOptions {
  /** Folder of the commands; they are looked up in `PATH` when undefined. */
  binDir?: string;
  /**
   * Variables every command gets, over those of a call (`{SLURM_CONF: "/etc/slurm.conf"}`).
   * @default {}
   */
  env?: Record<string, string>;
  /** How long a command may run before it is killed, in milliseconds. @default 30000 */
  timeoutMs?: number;
}

/** The real runner: starts each command as a child process. */
export class ProcessRunner implements CommandRunner {
  readonly #binDir?: string;
  readonly #env: Record<string, string>;
  readonly #timeoutMs: number;

  /**
   * Makes the runner.
   *
   * @param options where the commands are, their fixed variables and their timeout
   */
  constructor(options: ProcessRunnerOptions = {}) {
    this.#binDir = options.binDir;
    this.#env = { ...options.env };
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** {@inheritDoc CommandRunner.run} */
  async run(
    command: string,
    args: readonly string[],
    options: RunOptions = {},
  ): Promise<CommandResult> {
    const signal = AbortSignal.timeout(this.#timeoutMs);
    const child = new Deno.Command(this.#binDir ? `${this.#binDir}/${command}` : command, {
      args: [...args],
      clearEnv: true,
      env: { ...options.env, ...this.#env },
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
      signal,
    }).spawn();
    if (options.stdin !== undefined) await writeAll(child.stdin, options.stdin);
    const out = await child.output();
    const text = new TextDecoder();
    return {
      code: out.code,
      stdout: text.decode(out.stdout),
      stderr: text.decode(out.stderr),
      timedOut: signal.aborted,
    };
  }
}

/** Writes `text` and closes the stream; a command that exits without reading is no error. */
async function writeAll(stream: WritableStream<Uint8Array>, text: string): Promise<void> {
  const writer = stream.getWriter();
  try {
    await writer.write(new TextEncoder().encode(text));
    await writer.close();
  } catch {
    // It ended before reading all of its input: its exit code tells what happened.
  }
}
