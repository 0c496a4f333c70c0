/**
 * The batch-system interface over Slurm's commands: `sbatch` to submit, one `squeue` for any
 * number of jobs (and one more for queue positions when some wait), `scancel` to stop,
 * `scontrol show node` for a node's address.
 *
 * Facts this relies on were measured on Slurm 22.05 (see `docs/clusters.md`): an unreachable
 * controller makes every command fail after 9 to 18 s with "Unable to contact slurm
 * controller", which means "unknown", never "gone"; an ended job stays visible to
 * `squeue --states=all` for MinJobAge (300 s), then vanishes; `scancel --name=N ID` leaves a
 * job of another name alone, which guards against ids reused after the controller lost its
 * state.
 *
 * @module
 */

import type { BatchSystem, JobRef, JobSpec, JobStatus } from "./batch_system.ts";
import type { CommandResult, CommandRunner, RunOptions } from "../os/mod.ts";
import { BatchSystemUnavailableError } from "./errors.ts";
import { queuePositions } from "./queue_position.ts";
import { errorText, parseSbatch, sbatchCall, unreachable } from "./sbatch.ts";
import { forgotten, jobStatus } from "./slurm_states.ts";
import {
  parseJobRows,
  parsePendingRows,
  squeueJobsArgs,
  squeueOutput,
  squeuePendingArgs,
  type SqueueRow,
} from "./squeue.ts";

/** Ids per squeue call: keeps the command line short on a launcher with many sessions. */
const IDS_PER_CALL = 500;

/** Slurm, reached through its commands. */
export class SlurmBatchSystem implements BatchSystem {
  /** {@inheritDoc BatchSystem.kind} */
  readonly kind = "slurm";
  readonly #runner: CommandRunner;
  readonly #addresses = new Map<string, string | undefined>();

  /**
   * Makes the batch system.
   *
   * @param runner runs `sbatch`, `squeue`, `scancel` and `scontrol` (with `SLURM_CONF` set,
   *   when the cluster needs it)
   */
  constructor(runner: CommandRunner) {
    this.#runner = runner;
  }

  /** Runs a command; one that cannot even start makes the cluster unavailable. */
  async #run(command: string, args: string[], options?: RunOptions): Promise<CommandResult> {
    try {
      return await this.#runner.run(command, args, options);
    } catch (err) {
      throw new BatchSystemUnavailableError(`cannot run ${command}: ${(err as Error).message}`);
    }
  }

  /** {@inheritDoc BatchSystem.submit} */
  async submit(spec: JobSpec): Promise<JobRef> {
    const call = sbatchCall(spec);
    const result = await this.#run("sbatch", call.args, { stdin: call.script, env: call.env });
    try {
      return { id: parseSbatch(result), name: spec.name };
    } catch (err) {
      // A timed-out or garbled answer may hide a job that was taken: its unique name finds it.
      if (result.timedOut || result.code === 0) await this.#cancelByName(spec.name);
      throw err;
    }
  }

  /** Cancels whatever job carries `name`; a failure here is left to the error being thrown. */
  async #cancelByName(name: string): Promise<void> {
    await this.#run("scancel", [`--name=${name}`]).catch(() => {});
  }

  /** {@inheritDoc BatchSystem.query} */
  async query(jobs: readonly JobRef[]): Promise<Map<string, JobStatus>> {
    const rows = new Map<string, SqueueRow>();
    const ids = [...new Set(jobs.map((j) => j.id))];
    for (let i = 0; i < ids.length; i += IDS_PER_CALL) {
      const result = await this.#run("squeue", squeueJobsArgs(ids.slice(i, i + IDS_PER_CALL)));
      for (const row of parseJobRows(squeueOutput(result))) rows.set(row.id, row);
    }
    const statuses = new Map<string, JobStatus>();
    for (const job of jobs) {
      const row = rows.get(job.id);
      // A job of another name holds the id: ours was forgotten, and that one is not ours.
      statuses.set(job.id, row && row.name === job.name ? jobStatus(job, row) : forgotten(job));
    }
    await this.#addPositions(statuses, rows);
    return statuses;
  }

  /** Fills in the queue position of every queued job; leaves them out if squeue fails. */
  async #addPositions(statuses: Map<string, JobStatus>, rows: Map<string, SqueueRow>) {
    const queued = [...statuses.values()].filter((s) => s.phase === "queued");
    if (queued.length === 0) return;
    const partitions = new Set(queued.flatMap((s) => rows.get(s.job.id)!.partition.split(",")));
    let output: string;
    try {
      output = squeueOutput(await this.#run("squeue", squeuePendingArgs([...partitions])));
    } catch (err) {
      if (err instanceof BatchSystemUnavailableError) return;
      throw err;
    }
    const positions = queuePositions(queued.map((s) => s.job.id), parsePendingRows(output));
    for (const status of queued) {
      const position = positions.get(status.job.id);
      if (status.phase === "queued" && position !== undefined) status.position = position;
    }
  }

  /** {@inheritDoc BatchSystem.cancel} */
  async cancel(jobs: readonly JobRef[]): Promise<void> {
    for (const job of jobs) {
      const result = await this.#run("scancel", [`--name=${job.name}`, job.id]);
      if (result.code === 0 && !result.timedOut) continue;
      // Ended (or forgotten) already: nothing to stop.
      if (/Invalid job id|already completing or completed/i.test(result.stderr)) continue;
      const text = result.timedOut ? "timed out" : errorText(result.stderr);
      throw new BatchSystemUnavailableError(`scancel ${job.id}: ${text}`);
    }
  }

  /** {@inheritDoc BatchSystem.nodeAddress} */
  async nodeAddress(node: string): Promise<string | undefined> {
    if (this.#addresses.has(node)) return this.#addresses.get(node);
    const result = await this.#run("scontrol", ["--oneliner", "show", "node", node]);
    if (result.timedOut || (result.code !== 0 && unreachable(result.stderr))) {
      throw new BatchSystemUnavailableError(
        `scontrol show node ${node}: ${errorText(result.stderr)}`,
      );
    }
    const address = result.code === 0
      ? /(?:^|\s)NodeAddr=(\S+)/.exec(result.stdout)?.[1]
      : undefined;
    this.#addresses.set(node, address);
    return address;
  }
}
