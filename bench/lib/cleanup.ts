/**
 * Everything the bench starts is undone, whatever happens: each resource registers how to
 * release it, releases run last-in first-out (each with a deadline), and a final sweep
 * SIGKILLs every process still carrying this run's marker in its environment: launchers,
 * their sessions (which inherit the marker), orphans of a SIGKILLed launcher, Apache and its
 * workers. SIGINT and SIGTERM run the same cleanup before the bench exits.
 *
 * @module
 */

import { markedPids, OWNER_VAR, RUN_VAR } from "./procs.ts";

type Release = () => Promise<void> | void;

/** The resources of one bench run. */
export class Cleanup {
  /** This run's marker, the value of `PVW_BENCH_RUN` in every process it starts. */
  readonly run: string = crypto.randomUUID();
  #releases: { name: string; release: Release }[] = [];
  #running: Promise<string[]> | undefined;

  /** The environment that marks a process as this run's, owned by `owner`. */
  env(owner: string): Record<string, string> {
    return { [RUN_VAR]: this.run, [OWNER_VAR]: owner };
  }

  /**
   * Registers a release.
   *
   * @param name what it releases, for the report
   * @param release the release; it must be safe to call once after a partial start
   * @returns a function that runs it now (and forgets it)
   */
  defer(name: string, release: Release): () => Promise<void> {
    const entry = { name, release };
    this.#releases.push(entry);
    return async () => {
      const i = this.#releases.indexOf(entry);
      if (i < 0) return;
      this.#releases.splice(i, 1);
      await release();
    };
  }

  /**
   * Releases everything (last registered first), then kills what is left.
   *
   * @returns problems met, and how many stray processes the sweep killed
   */
  runAll(): Promise<string[]> {
    this.#running ??= this.#runAll();
    return this.#running;
  }

  async #runAll(): Promise<string[]> {
    const problems: string[] = [];
    while (this.#releases.length) {
      const { name, release } = this.#releases.pop()!;
      try {
        await deadline(60_000, Promise.resolve(release()));
      } catch (err) {
        problems.push(`${name}: ${(err as Error).message}`);
      }
    }
    const strays = await sweep(this.run);
    if (strays) problems.push(`killed ${strays} stray processes`);
    return problems;
  }

  /**
   * Makes SIGINT and SIGTERM clean up and exit (130 / 143).
   *
   * @returns removes the listeners
   */
  onSignals(): () => void {
    const handlers = (["SIGINT", "SIGTERM"] as const).map((signal) => {
      const handler = async () => {
        console.error(`\n${signal}: cleaning up...`);
        const problems = await this.runAll();
        for (const p of problems) console.error(`cleanup: ${p}`);
        Deno.exit(signal === "SIGINT" ? 130 : 143);
      };
      Deno.addSignalListener(signal, handler);
      return () => Deno.removeSignalListener(signal, handler);
    });
    return () => handlers.forEach((remove) => remove());
  }
}

async function deadline<T>(ms: number, promise: Promise<T>): Promise<T> {
  let id: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        id = setTimeout(() => reject(new Error(`not done after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(id);
  }
}

/**
 * SIGKILLs every live process marked with `run` until none is left (or 10 s passed).
 *
 * @returns how many there were at first
 */
export async function sweep(run: string): Promise<number> {
  const first = markedPids(run).filter((pid) => pid !== Deno.pid);
  let left = first;
  const end = performance.now() + 10_000;
  while (left.length && performance.now() < end) {
    for (const pid of left) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
    await new Promise((r) => setTimeout(r, 50));
    left = markedPids(run).filter((pid) => pid !== Deno.pid);
  }
  return first.length;
}
