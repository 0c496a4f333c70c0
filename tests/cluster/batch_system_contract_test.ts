/**
 * The batch-system contract, run against the fake Slurm and against the real cluster of
 * `.ci/setup-slurm` (skipped without it, except in CI).
 */

import { join } from "node:path";
import {
  type JobRef,
  type JobResources,
  type JobSpec,
  ProcessRunner,
  SlurmBatchSystem,
} from "../../lib/cluster/mod.ts";
import {
  cancelJobs,
  SLURM_CONF,
  SLURM_NODES,
  slurmNeeds,
  TEST_JOB_PREFIX,
  waitForNodesUsable,
} from "../e2e/slurm.ts";
import { batchSystemContract, type ContractEnv } from "./batch_system_contract.ts";
import { FakeSlurm } from "./fake_slurm.ts";

let counter = 0;

/** A spec maker writing logs to `dir`. */
function specs(dir: string) {
  return (key: string, argv: string[], resources: Partial<JobResources> = {}): JobSpec => ({
    name: `${TEST_JOB_PREFIX}contract-${key}-${++counter}`,
    argv,
    outputFile: join(dir, `${key}.log`),
    env: {},
    resources: { extraArgs: [], ...resources },
  });
}

batchSystemContract({
  name: "fake Slurm",
  ignore: false,
  setup(): Promise<ContractEnv> {
    const fake = new FakeSlurm();
    const down = new FakeSlurm();
    down.reachable = false;
    return Promise.resolve({
      system: new SlurmBatchSystem(fake),
      unreachable: new SlurmBatchSystem(down),
      nodes: ["n1", "n2", "n3"],
      fullPartition: "tiny",
      fullPartitionMaxMinutes: 10,
      nodeAddress: ["n2", "127.0.0.1"],
      pollMs: 1,
      spec: specs("/shared/logs"),
      cleanup: () => Promise.resolve(),
    });
  },
});

/** A copy of the cluster's config whose controller port nothing listens on. */
async function unreachableConf(dir: string): Promise<string> {
  const conf = join(dir, "unreachable.conf");
  const text = await Deno.readTextFile(SLURM_CONF);
  await Deno.writeTextFile(conf, text.replace(/^SlurmctldPort=.*$/m, "SlurmctldPort=1"));
  return conf;
}

batchSystemContract({
  name: "real Slurm",
  ignore: slurmNeeds.ignore,
  async setup(): Promise<ContractEnv> {
    slurmNeeds.check();
    await waitForNodesUsable();
    const dir = await Deno.makeTempDir({ prefix: "pvw-contract-" });
    // An unreachable controller makes commands retry for 9 s: a short timeout ends them.
    const down = new ProcessRunner({
      env: { SLURM_CONF: await unreachableConf(dir) },
      timeoutMs: 2000,
    });
    return {
      system: new SlurmBatchSystem(new ProcessRunner({ env: { SLURM_CONF } })),
      unreachable: new SlurmBatchSystem(down),
      nodes: [...SLURM_NODES],
      fullPartition: "tiny",
      fullPartitionMaxMinutes: 10,
      nodeAddress: ["n2", "127.0.0.1"],
      pollMs: 100,
      spec: specs(dir),
      async cleanup(jobs: JobRef[]) {
        try {
          await cancelJobs(jobs.map((j) => j.id));
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      },
    };
  },
});
