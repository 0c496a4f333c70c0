/**
 * What can go wrong with a batch system: it cannot be reached, it refuses a job, or a
 * client asks for more than the admin allows.
 *
 * @module
 */

/**
 * The scheduler could not be reached or did not answer in time: what its jobs are doing is
 * unknown. Never a reason to think a job is gone; ask again later.
 */
export class BatchSystemUnavailableError extends Error {
  /**
   * Makes the error.
   *
   * @param message what failed, with the scheduler's own words
   */
  constructor(message: string) {
    super(message);
    this.name = "BatchSystemUnavailableError";
  }
}

/** The scheduler refused to take a job (unknown partition, more CPUs than any node has, ...). */
export class JobSubmitError extends Error {
  /**
   * Makes the error.
   *
   * @param message the scheduler's reason, without its program-name prefix
   * @param exitCode the submission command's exit code
   */
  constructor(message: string, readonly exitCode: number) {
    super(message);
    this.name = "JobSubmitError";
  }
}

/**
 * A job's settings cannot be used as rendered: a value is malformed, or exceeds what the
 * admin allows (`slurm.max`). Most often a client's doing: an HTTP 400.
 */
export class JobSettingsError extends Error {
  /**
   * Makes the error; its message is `slurm.<key>: <detail>`.
   *
   * @param key the settings key at fault (`time`, `gpus`, `sbatch_args[1]`)
   * @param detail what is wrong with it
   */
  constructor(readonly key: string, readonly detail: string) {
    super(`slurm.${key}: ${detail}`);
    this.name = "JobSettingsError";
  }
}
