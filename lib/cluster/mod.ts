/**
 * Sessions as batch jobs on a cluster: the batch-system interface, its Slurm implementation,
 * the settings that say what a job asks for (and the admin's limits on it), a poller that
 * watches many jobs with one scheduler call, and node-to-host resolution.
 *
 * @example
 * ```ts ignore
 * import {
 *   JobPoller, parseSlurmSettings, ProcessRunner, resolveJobResources, SlurmBatchSystem,
 * } from "./mod.ts";
 *
 * const slurm = new SlurmBatchSystem(new ProcessRunner({ env: { SLURM_CONF: "/etc/slurm.conf" } }));
 * const { settings } = parseSlurmSettings({ partition: "viz", time: "1:00:00" });
 * const job = await slurm.submit({
 *   name: "pvw-abc", argv: ["pvpython", "server.py"], outputFile: "/shared/logs/abc.log",
 *   env: {}, resources: resolveJobResources(settings!, (text) => text),
 * });
 * const poller = new JobPoller(slurm);
 * poller.watch(job, (status) => console.log(status.phase, status));
 * ```
 *
 * @module
 */

export type {
  BatchSystem,
  EndedStatus,
  JobOutcome,
  JobRef,
  JobResources,
  JobSpec,
  JobStatus,
  QueuedStatus,
  RunningStatus,
  StatusBase,
} from "./batch_system.ts";
export { BatchSystemUnavailableError, JobSettingsError, JobSubmitError } from "./errors.ts";
export type { CommandResult, CommandRunner, RunOptions } from "../os/mod.ts";
export { ProcessRunner, type ProcessRunnerOptions } from "../os/mod.ts";
export { type Clock, realClock } from "./clock.ts";
export { SlurmBatchSystem } from "./slurm.ts";
export { cancelAndWait, JobNotGoneError, type WaitOptions } from "./wait_gone.ts";
export { type JobListener, JobPoller, type PollerOptions } from "./poller.ts";
export { type NodeAddressLookup, NodeHosts } from "./node_hosts.ts";
export {
  parseSlurmSettings,
  type SlurmChoices,
  type SlurmLimits,
  type SlurmSettings,
} from "./slurm_settings.ts";
export { type ClusterSettings, parseClusterSettings } from "./cluster_settings.ts";
export type { SettingsProblem } from "./settings_problems.ts";
export { type Render, resolveJobResources } from "./job_resources.ts";
export { formatSlurmTime, parseSlurmMemory, parseSlurmTime } from "./slurm_units.ts";
