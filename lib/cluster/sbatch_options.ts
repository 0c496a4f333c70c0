/**
 * Which extra `sbatch` arguments an application may add (`slurm.sbatch_args`), and why the
 * others are refused. The launcher sets some options itself (output file, job name, export,
 * no requeue); others would let a job take more than `slurm.max` allows, or break the
 * launcher's hold on the job (`--wait` blocks sbatch, `--hold` never starts it, `--clusters`
 * changes how ids are written).
 *
 * `sbatch` accepts any unambiguous abbreviation of a long option (`--ti=90` is `--time`), so an
 * option is refused when its name starts any refused name. Short options are refused outright:
 * they can be bundled (`-vt90`), and every one has a long form.
 *
 * @module
 */

/** Options with a key of their own in the `slurm` settings. */
const HAS_KEY: Record<string, string> = {
  "partition": "partition",
  "account": "account",
  "qos": "qos",
  "time": "time",
  "cpus-per-task": "cpus",
  "mem": "mem",
  "gres": "gres",
  "gpus": "gpus",
  "nodes": "nodes",
};

const LAUNCHER_SETS = [
  "job-name",
  "output",
  "error",
  "input",
  "export",
  "export-file",
  "parsable",
  "requeue",
  "no-requeue",
  "open-mode",
  "chdir",
  "wrap",
];

const TAKES_MORE = [
  "mem-per-cpu",
  "mem-per-gpu",
  "cpus-per-gpu",
  "gpus-per-node",
  "gpus-per-socket",
  "gpus-per-task",
  "tres-per-task",
  "ntasks",
  "ntasks-per-node",
  "ntasks-per-core",
  "ntasks-per-socket",
  "ntasks-per-gpu",
  "mincpus",
  "exclusive",
  "array",
];

const BREAKS_CONTROL = [
  "wait",
  "hold",
  "test-only",
  "uid",
  "gid",
  "get-user-env",
  "clusters",
  "cluster-constraint",
  "help",
  "usage",
  "version",
  "quiet",
];

/** Why the option `name` is refused, or undefined when it is allowed. */
function refusal(name: string): string | undefined {
  const starts = (refused: string) => refused.startsWith(name);
  const key = Object.keys(HAS_KEY).find(starts);
  if (key) return `sets --${key}: use the slurm.${HAS_KEY[key]} key`;
  const own = LAUNCHER_SETS.find(starts);
  if (own) return `sets --${own}, which the launcher sets itself`;
  const more = TAKES_MORE.find(starts);
  if (more) return `--${more} could take more than slurm.max allows`;
  const control = BREAKS_CONTROL.find(starts);
  if (control) return `--${control} would break the launcher's control of the job`;
  return undefined;
}

/**
 * Checks one extra argument for `sbatch`.
 *
 * @param arg the argument, rendered
 * @returns undefined when it may be passed, else why not (a sentence tail)
 */
export function checkSbatchArg(arg: string): string | undefined {
  if (!arg.startsWith("--") || arg === "--") {
    return arg.startsWith("-")
      ? `"${arg}" is a short option: write its long form, --name=value`
      : `"${arg}" is not an option: write --name=value in one argument`;
  }
  const name = arg.slice(2).split("=", 1)[0];
  if (name === "" || !/^[a-z][a-z0-9-]*$/.test(name)) {
    return `"${arg}" is not an option: write --name=value in one argument`;
  }
  const why = refusal(name);
  return why === undefined ? undefined : `"${arg}" is not allowed: ${why}`;
}
