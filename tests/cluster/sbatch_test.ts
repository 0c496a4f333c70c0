import assert from "node:assert/strict";
import { JobSettingsError, type JobSpec } from "../../lib/cluster/mod.ts";
import { errorText, parseSbatch, sbatchCall, shellQuote } from "../../lib/cluster/sbatch.ts";

const spec = (over: Partial<JobSpec> = {}): JobSpec => ({
  name: "pvw-abc",
  argv: ["/usr/bin/pvpython", "server.py", "--port", "9001"],
  outputFile: "/shared/logs/abc.log",
  env: { APP: "1" },
  baseEnv: { PATH: "/usr/bin", HOME: "/home/pvw" },
  resources: { extraArgs: [] },
  ...over,
});

Deno.test("sbatchCall() asks for the job id only, no requeue, the session's log and name", () => {
  const call = sbatchCall(spec({ cwd: "/data" }));
  assert.deepEqual(call.args, [
    "--parsable",
    "--no-requeue",
    "--job-name=pvw-abc",
    "--output=/shared/logs/abc.log",
    "--open-mode=append",
    "--export=ALL",
    "--chdir=/data",
  ]);
});

Deno.test("sbatchCall() turns resources into options, extra arguments last", () => {
  const call = sbatchCall(spec({
    resources: {
      partition: "viz",
      account: "vis",
      qos: "normal",
      timeMinutes: 90,
      cpus: 4,
      memoryMB: 16_384,
      gpus: { count: 1, type: "a100" },
      gres: "license:1",
      nodes: 2,
      extraArgs: ["--constraint=x11"],
    },
  }));
  assert.deepEqual(call.args.slice(6), [
    "--partition=viz",
    "--account=vis",
    "--qos=normal",
    "--time=90",
    "--cpus-per-task=4",
    "--mem=16384M",
    "--gres=gpu:a100:1,license:1",
    "--nodes=2",
    "--constraint=x11",
  ]);
  const unlimited = sbatchCall(
    spec({ resources: { timeMinutes: Infinity, memoryMB: Infinity, extraArgs: [] } }),
  );
  assert.deepEqual(unlimited.args.slice(6), ["--time=UNLIMITED", "--mem=0M"]);
});

Deno.test("sbatchCall() doubles % in the log path so that Slurm keeps it literal", () => {
  assert.ok(
    sbatchCall(spec({ outputFile: "/logs/100%/%j.log" })).args.includes(
      "--output=/logs/100%%/%%j.log",
    ),
  );
  for (const outputFile of ["logs/a.log", "/logs\\x/a.log", "/logs/a\n.log"]) {
    assert.throws(
      () => sbatchCall(spec({ outputFile })),
      JobSettingsError,
      JSON.stringify(outputFile),
    );
  }
  assert.throws(() => sbatchCall(spec({ name: "a\nb" })), JobSettingsError);
  assert.throws(() => sbatchCall(spec({ argv: [] })), JobSettingsError);
});

Deno.test("sbatchCall() with export session gives the job the session's environment, minus sbatch's own variables", () => {
  const { env, args } = sbatchCall(spec({
    baseEnv: {
      PATH: "/usr/bin",
      SBATCH_PARTITION: "urgent",
      SLURM_MEM_PER_CPU: "9",
      SLURM_CONF: "/x",
    },
    env: { APP: "1", PYTHONUNBUFFERED: "0" },
  }));
  assert.ok(args.includes("--export=ALL"));
  assert.deepEqual(env, { PATH: "/usr/bin", APP: "1", PYTHONUNBUFFERED: "0", SLURM_UMASK: "0077" });
  assert.equal(
    sbatchCall(spec()).env.PYTHONUNBUFFERED,
    "1",
    "unbuffered unless the app says otherwise",
  );
});

Deno.test("sbatchCall() with export app passes only the app's variables, by name", () => {
  const { env, args } = sbatchCall(
    spec({ resources: { export: "app", extraArgs: [] }, env: { APP: "a,b", OTHER: "'x'" } }),
  );
  assert.ok(args.includes("--export=NONE,PYTHONUNBUFFERED,APP,OTHER"), args.join(" "));
  assert.deepEqual(env, { PYTHONUNBUFFERED: "1", APP: "a,b", OTHER: "'x'", SLURM_UMASK: "0077" });
  assert.throws(
    () => sbatchCall(spec({ resources: { export: "app", extraArgs: [] }, env: { "A,B": "x" } })),
    /cannot be exported/,
  );
});

Deno.test("sbatchCall()'s script runs the argv as given, through a real /bin/sh", async () => {
  const nasty = ["it's", 'a "b"', "$HOME", "`id`", "a\nb", "; rm -rf /", "\\", "", "*"];
  const { script } = sbatchCall(spec({ argv: ["printf", "%s|", ...nasty], umask: 0o022 }));
  assert.match(script, /^#!\/bin\/sh\numask 0022\nexec 'printf' /);
  const out = await new Deno.Command("/bin/sh", { args: ["-c", script], stdout: "piped" }).output();
  assert.equal(new TextDecoder().decode(out.stdout), nasty.map((a) => `${a}|`).join(""));
  assert.match(sbatchCall(spec()).script, /\numask 0077\n/, "0077 by default");
});

Deno.test("shellQuote() quotes for sh: single quotes, ' as '\\''", () => {
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
});

Deno.test("parseSbatch() reads the id, plain or with its cluster", () => {
  const ok = (stdout: string) => ({ code: 0, stdout, stderr: "", timedOut: false });
  assert.equal(parseSbatch(ok("123\n")), "123");
  assert.equal(parseSbatch(ok("123;cluster\n")), "123");
  assert.throws(() => parseSbatch(ok("Submitted batch job 123\n")), /not a job id/);
});

Deno.test("errorText() keeps Slurm's words without the program's prefix", () => {
  assert.equal(errorText("sbatch: error: Batch job submission failed: X\n"), "X");
  assert.equal(errorText("slurm_load_jobs error: Unable to contact\n"), "Unable to contact");
  assert.equal(errorText(""), "no message");
  assert.equal(errorText("odd text\n"), "odd text");
});
