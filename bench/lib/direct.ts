/**
 * The limit a launcher is measured against: the same app spawned directly by the bench, from
 * the spawn call to the moment its ready line is read from its stdout pipe.
 *
 * @module
 */

import type { Cleanup } from "./cleanup.ts";
import { READY_LINE } from "./launchers.ts";

/** A directly spawned app that printed its ready line. */
export interface DirectApp {
  /** Spawn to ready line read, in ms. */
  ms: number;
  /** Kills it and waits for its exit. */
  kill(): Promise<void>;
}

/**
 * Spawns `argv` and waits for its ready line.
 *
 * @param cleanup marks the process as this run's (the sweep kills it if all else fails)
 * @throws Error when it exits before the ready line
 */
export async function spawnDirect(cleanup: Cleanup, argv: string[]): Promise<DirectApp> {
  const t0 = performance.now();
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    env: cleanup.env("direct"),
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let ms = NaN;
  try {
    while (!text.includes(READY_LINE)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`${argv.join(" ")} ended before its ready line`);
      text += value;
    }
    ms = performance.now() - t0;
  } catch (err) {
    child.kill("SIGKILL");
    await child.status;
    throw err;
  }
  return {
    ms,
    async kill() {
      try {
        child.kill("SIGKILL");
      } catch {
        // gone already
      }
      await reader.cancel().catch(() => {});
      await child.status;
    },
  };
}
