import assert from "node:assert/strict";
import { ProcessRunner } from "../../lib/cluster/mod.ts";

Deno.test("ProcessRunner.run() returns what the command printed and its exit code", async () => {
  const out = await new ProcessRunner().run("/bin/sh", ["-c", "echo out; echo err >&2; exit 3"]);
  assert.deepEqual(out, { code: 3, stdout: "out\n", stderr: "err\n", timedOut: false });
});

Deno.test("ProcessRunner.run() gives the command only the runner's and the call's variables", async () => {
  assert.ok(Deno.env.get("HOME"), "this process has a HOME to leak");
  const runner = new ProcessRunner({ env: { SLURM_CONF: "/etc/slurm.conf" } });
  const show = 'echo "${HOME-unset} $SLURM_CONF ${APP-unset}"';
  assert.equal((await runner.run("/bin/sh", ["-c", show])).stdout, "unset /etc/slurm.conf unset\n");
  const call = await runner.run("/bin/sh", ["-c", show], {
    env: { APP: "1", SLURM_CONF: "/other" },
  });
  assert.equal(call.stdout, "unset /etc/slurm.conf 1\n", "the runner's own variables win");
});

Deno.test("ProcessRunner.run() feeds stdin; a command that does not read it is no error", async () => {
  const runner = new ProcessRunner();
  assert.equal((await runner.run("/bin/cat", [], { stdin: "a\nb\n" })).stdout, "a\nb\n");
  const ignored = await runner.run("/bin/true", [], { stdin: "x".repeat(1 << 20) });
  assert.equal(ignored.code, 0);
});

Deno.test("ProcessRunner.run() kills a command past its timeout and says so", async () => {
  const runner = new ProcessRunner({ timeoutMs: 200 });
  const out = await runner.run("/bin/sleep", ["30"]);
  assert.equal(out.timedOut, true);
  assert.notEqual(out.code, 0);
});

Deno.test("ProcessRunner.run() finds commands in binDir; a missing one rejects", async () => {
  assert.equal((await new ProcessRunner({ binDir: "/bin" }).run("echo", ["hi"])).stdout, "hi\n");
  await assert.rejects(new ProcessRunner({ binDir: "/nonexistent" }).run("sbatch", []));
});
