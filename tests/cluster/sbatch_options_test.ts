import assert from "node:assert/strict";
import { checkSbatchArg } from "../../lib/cluster/sbatch_options.ts";

Deno.test("checkSbatchArg() lets through options that neither take more nor break control", () => {
  for (
    const arg of [
      "--constraint=x11",
      "--nodelist=n1",
      "--exclude=n2",
      "--reservation=viz",
      "--comment=a b=c",
      "--mem-bind=local",
      "--gres-flags=enforce-binding",
      "--time-min=10",
      "--no-kill",
      "--licenses=paraview:1",
      "--mail-type=END",
    ]
  ) {
    assert.equal(checkSbatchArg(arg), undefined, arg);
  }
});

Deno.test("checkSbatchArg() refuses each option the launcher or a key sets, and says which", () => {
  const cases: [string, RegExp][] = [
    ["--time=9999", /sets --time: use the slurm\.time key/],
    ["--cpus-per-task=64", /use the slurm\.cpus key/],
    ["--gpus=8", /use the slurm\.gpus key/],
    ["--partition=urgent", /use the slurm\.partition key/],
    ["--output=/etc/passwd", /sets --output, which the launcher sets itself/],
    ["--export=ALL", /which the launcher sets itself/],
    ["--requeue", /sets --requeue/],
    ["--chdir=/", /sets --chdir/],
  ];
  for (const [arg, why] of cases) assert.match(checkSbatchArg(arg) ?? "allowed", why, arg);
});

Deno.test("checkSbatchArg() refuses what would take more than slurm.max or break the launcher's hold", () => {
  for (
    const arg of [
      "--ntasks=64",
      "--ntasks-per-node=8",
      "--exclusive",
      "--mem-per-cpu=100G",
      "--gpus-per-node=8",
      "--cpus-per-gpu=8",
      "--mincpus=64",
      "--array=1-100",
      "--wait",
      "--hold",
      "--test-only",
      "--clusters=other",
      "--uid=0",
      "--help",
    ]
  ) {
    assert.match(checkSbatchArg(arg) ?? "allowed", /not allowed/, arg);
  }
});

Deno.test("checkSbatchArg() refuses abbreviations sbatch would expand to a refused option", () => {
  // sbatch takes any unambiguous prefix of a long option: --ti is --time.
  for (
    const arg of [
      "--ti=9999",
      "--tim=1",
      "--cpus=64",
      "--exclu",
      "--nt=64",
      "--par=urgent",
      "--gpu=8",
    ]
  ) {
    assert.match(checkSbatchArg(arg) ?? "allowed", /not allowed/, arg);
  }
});

Deno.test("checkSbatchArg() refuses short options, separate values and non-options", () => {
  const cases: [string, RegExp][] = [
    ["-t", /short option/],
    ["-vt9999", /short option/],
    ["-N4", /short option/],
    ["9999", /not an option/],
    ["script.sh", /not an option/],
    ["--", /short option|not an option/],
    ["--=x", /not an option/],
    ["--Time=5", /not an option/],
    ["", /not an option/],
  ];
  for (const [arg, why] of cases) {
    assert.match(checkSbatchArg(arg) ?? "allowed", why, JSON.stringify(arg));
  }
});
