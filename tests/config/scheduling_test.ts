import assert from "node:assert/strict";
import { parseConfig } from "../../lib/config/load.ts";
import { assertProblems, DEFAULT_LOG_DIR, FILE, problemsOf } from "./test_utils.ts";

const parse = (text: string) => parseConfig(text, FILE, { logDir: DEFAULT_LOG_DIR });

Deno.test("a spec config reads cluster, placement and an application's slurm and queue_timeout", () => {
  const { config, warnings } = parse(`{
  "cluster": { "slurm_conf": "/etc/slurm/slurm.conf", "port_range": [9101, 9200],
               "node_hosts": { "n1": "10.0.0.11" }, "queue_timeout": 120 },
  "placement": "pack",
  "resources": [{ "host": "a", "port": [9001, 9002] }, { "host": "b", "port": [9001, 9002] }],
  "applications": {
    "viz": { "cmd": ["pvpython", "--port", "$port"], "queue_timeout": 30,
             "slurm": { "partition": "viz", "time": "$hours:00:00", "max": { "time": "4:00:00" } } },
    "local": { "cmd": ["demo"] }
  }
}`);
  assert.deepEqual(warnings, []);
  assert.equal(config.placement, "pack");
  assert.deepEqual(config.cluster?.portRange, { first: 9101, last: 9200 });
  assert.equal(config.cluster?.queueTimeoutMs, 120_000);
  assert.deepEqual(config.cluster?.nodeHosts, { n1: "10.0.0.11" });
  assert.equal(config.apps.viz.queueTimeoutMs, 30_000);
  assert.equal(config.apps.viz.slurm?.partition, "viz");
  assert.equal(config.apps.viz.slurm?.max.time, 4 * 3600);
  assert.equal(config.apps.local.slurm, undefined);
  assert.equal(config.maxSessions, 4 + 100, "the cluster's ports count towards the capacity");
});

Deno.test("a wslink config reads cluster in configuration and slurm in an app; resources may be left out", () => {
  const { config } = parse(`{
  "configuration": { "cluster": { "port_range": [9101, 9110] }, "log_dir": "/var/log/pvw" },
  "apps": { "trame": { "cmd": ["app", "--port", "\${port}"], "slurm": true } }
}`);
  assert.equal(config.format, "wslink");
  assert.deepEqual(config.resources, []);
  assert.deepEqual(config.apps.trame.slurm?.sbatchArgs, []);
  assert.equal(config.maxSessions, 10);
});

Deno.test("problems of cluster and slurm settings are reported at their file, line and column", () => {
  assertProblems(
    problemsOf(`{
  "cluster": { "port_range": [9200, 9100],
    "poll_interval": 0 },
  "placement": "wide",
  "resources": [{ "host": "a", "port": [9001, 9002] }],
  "applications": {
    "viz": { "cmd": ["x"], "slurm": { "time": "4:00:00", "max": { "time": "1:00:00" },
      "sbatch_args": ["--constraint=x", "--output=/tmp/x"], "cpus": "$n" } }
  }
}`),
    [
      ["2:30 error cluster.port_range", /port_range: must be a port range/],
      ["3:22 error cluster.poll_interval", /poll_interval: must be a number of seconds/],
      ["4:16 error placement", /expected "spread" or "pack"/],
      ["7:47 error applications.viz.slurm.time", /time: 4:00:00 is more than the 1:00:00 allowed/],
      [
        "8:41 error applications.viz.slurm.sbatch_args[1]",
        /sbatch_args\[1\]: .*--output/,
      ],
      [
        "8:69 warning applications.viz.slurm.cpus",
        /cpus: is a template but max.cpus is not set/,
      ],
    ],
  );
});

Deno.test("an application that runs as a job needs the cluster and its port range", async (t) => {
  await t.step("no cluster", () => {
    assertProblems(
      problemsOf(`{
  "resources": [{ "host": "a", "port": [9001, 9002] }],
  "applications": { "viz": { "cmd": ["x"], "slurm": true } }
}`),
      [["3:44 error applications.viz.slurm", /needs the "cluster" settings/]],
    );
  });
  await t.step("no port range", () => {
    assertProblems(
      problemsOf(`{
  "cluster": {},
  "resources": [{ "host": "a", "port": [9001, 9002] }],
  "applications": { "viz": { "cmd": ["x"], "slurm": {} } }
}`),
      [["4:44 error applications.viz.slurm", /needs "cluster.port_range"/]],
    );
  });
  await t.step("no warm processes for a job", () => {
    assertProblems(
      problemsOf(`{
  "cluster": { "port_range": [9101, 9110] },
  "applications": { "viz": { "cmd": ["x"], "slurm": {}, "warm": 2 } }
}`),
      [["3:65 error applications.viz.warm", /runs as a Slurm job keeps no warm processes/]],
    );
  });
  await t.step("a local application without resources", () => {
    assertProblems(
      problemsOf(`{
  "cluster": { "port_range": [9101, 9110] },
  "applications": { "viz": { "cmd": ["x"], "slurm": {} }, "local": { "cmd": ["y"] } }
}`),
      [["3:3 error applications", /"local" runs on this machine and need ports/]],
    );
  });
});
