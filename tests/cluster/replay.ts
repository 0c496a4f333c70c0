/**
 * Replays what the real Slurm answered (`tests/testdata/cluster/slurm.json`, written by
 * `capture_slurm_output.ts`): a runner that gives each command the answer recorded for the
 * same command, arguments and stdin, and fails on any call that was not recorded.
 *
 * @module
 */

import type { CommandResult, CommandRunner, RunOptions } from "../../lib/cluster/mod.ts";
import type { RecordedCall, Scenario } from "./capture_slurm_output.ts";

/** The recorded scenarios, by name. */
export const recorded: { slurm: string; scenarios: Record<string, Scenario> } = JSON.parse(
  await Deno.readTextFile(new URL("../testdata/cluster/slurm.json", import.meta.url)),
);

/** A runner answering from a scenario's recorded calls, each used once, in any order. */
export class ReplayRunner implements CommandRunner {
  readonly #unused: RecordedCall[];
  /** Calls that had no recorded answer (the backend wraps the failure; tests check this). */
  readonly misses: string[] = [];

  /** @param scenario the scenario whose answers to give */
  constructor(scenario: Scenario) {
    this.#unused = [...scenario.calls];
  }

  /** {@inheritDoc CommandRunner.run} */
  run(command: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    const index = this.#unused.findIndex((c) =>
      c.command === command && JSON.stringify(c.args) === JSON.stringify(args) &&
      c.stdin === options.stdin
    );
    if (index < 0) {
      this.misses.push(`${command} ${args.join(" ")}`);
      return Promise.reject(new Error(`not recorded: ${command} ${args.join(" ")}`));
    }
    return Promise.resolve(this.#unused.splice(index, 1)[0].result);
  }
}
