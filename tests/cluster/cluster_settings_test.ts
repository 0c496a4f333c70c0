import assert from "node:assert/strict";
import { parseClusterSettings } from "../../lib/cluster/mod.ts";

Deno.test("parseClusterSettings() reads the cluster key with its defaults", () => {
  assert.deepEqual(parseClusterSettings({}).settings, {
    scheduler: "slurm",
    nodeHosts: {},
    queueTimeoutMs: 300_000,
    jobPrefix: "pvw-",
    pollIntervalMs: 1000,
    commandTimeoutMs: 30_000,
    cancelTimeoutMs: 45_000,
  });
  const { settings, problems } = parseClusterSettings({
    scheduler: "slurm",
    slurm_conf: "/etc/slurm/slurm.conf",
    bin: "/opt/slurm/bin",
    node_hosts: { n1: "127.0.0.1" },
    port_range: [9001, 9100],
    queue_timeout: 60,
    job_prefix: "viz.web-",
    poll_interval: 0.5,
    command_timeout: 10,
    cancel_timeout: 60,
  });
  assert.deepEqual(problems, []);
  assert.deepEqual(settings, {
    scheduler: "slurm",
    slurmConf: "/etc/slurm/slurm.conf",
    bin: "/opt/slurm/bin",
    nodeHosts: { n1: "127.0.0.1" },
    portRange: { first: 9001, last: 9100 },
    queueTimeoutMs: 60_000,
    jobPrefix: "viz.web-",
    pollIntervalMs: 500,
    commandTimeoutMs: 10_000,
    cancelTimeoutMs: 60_000,
  });
});

Deno.test("parseClusterSettings() reports each problem at its key", () => {
  const { settings, problems } = parseClusterSettings({
    scheduler: "pbs",
    slurm_conf: "slurm.conf",
    node_hosts: { n1: 1 },
    poll_interval: 0,
    cancel_timeout: "45",
    port_range: [9100, 9001],
    job_prefix: "pvw $x",
    extra: true,
  });
  assert.equal(settings, undefined);
  assert.deepEqual(problems.map((p) => p.path), [
    "extra",
    "scheduler",
    "node_hosts",
    "job_prefix",
    "poll_interval",
    "cancel_timeout",
    "port_range",
    "slurm_conf",
  ]);
  assert.match(problems[1].message, /must be "slurm"/);
  assert.equal(parseClusterSettings([]).settings, undefined);
});
