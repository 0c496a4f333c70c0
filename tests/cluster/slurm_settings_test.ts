import assert from "node:assert/strict";
import {
  JobSettingsError,
  parseSlurmSettings,
  resolveJobResources,
  type SlurmSettings,
} from "../../lib/cluster/mod.ts";

/** Reads settings that must be valid. */
function settings(raw: unknown): SlurmSettings {
  const { settings, problems } = parseSlurmSettings(raw);
  assert.ok(settings, `valid: ${JSON.stringify(problems)}`);
  return settings;
}

/** The problems of `raw`, as `severity path: message`. */
function problems(raw: unknown): string[] {
  return parseSlurmSettings(raw).problems.map((p) => `${p.severity} ${p.path}: ${p.message}`);
}

/** Renders `$name` from `values`, as the launcher's templates would. */
const render = (values: Record<string, string>) => (text: string) =>
  text.replace(/\$\{?(\w+)\}?/g, (_, name: string) => values[name] ?? "");

/** Resolves `raw` for a client that sent `values`. */
const resolve = (raw: unknown, values: Record<string, string> = {}) =>
  resolveJobResources(settings(raw), render(values));

/** Asserts that resolving fails on `key` with a message matching `message`. */
function refused(raw: unknown, values: Record<string, string>, key: string, message: RegExp) {
  assert.throws(() => resolve(raw, values), (err) => {
    assert.ok(err instanceof JobSettingsError, String(err));
    assert.equal(err.key, key);
    assert.match(err.message, message);
    return true;
  });
}

Deno.test("parseSlurmSettings() takes true or {} for Slurm's defaults", () => {
  for (const raw of [true, {}]) {
    assert.deepEqual(settings(raw), { export: "session", sbatchArgs: [], max: {}, choices: {} });
    assert.deepEqual(resolve(raw), { extraArgs: [] });
  }
});

Deno.test("parseSlurmSettings() reads every key; numbers become text", () => {
  const s = settings({
    partition: "viz",
    account: "vis",
    qos: "normal",
    time: "1:00:00",
    cpus: 4,
    mem: "16G",
    gpus: "a100:1",
    gres: "license:1",
    nodes: 1,
    export: "app",
    sbatch_args: ["--constraint=x11"],
    max: { time: "4:00:00", cpus: 16, mem: "64G", gpus: 2, nodes: 2 },
    choices: { partition: ["viz", "gpu"] },
  });
  assert.deepEqual(s.max, { time: 4 * 3600, cpus: 16, mem: 65_536, gpus: 2, nodes: 2 });
  assert.equal(s.cpus, "4");
  assert.equal(s.export, "app");
  assert.deepEqual(resolveJobResources(s, (t) => t), {
    partition: "viz",
    account: "vis",
    qos: "normal",
    timeMinutes: 60,
    cpus: 4,
    memoryMB: 16_384,
    gpus: { count: 1, type: "a100" },
    gres: "license:1",
    nodes: 1,
    extraArgs: ["--constraint=x11"],
    export: "app",
  });
});

Deno.test("parseSlurmSettings() reports each problem at its key", async (t) => {
  const cases: [string, unknown, string][] = [
    ["not an object", "viz", "error : must be true or an object"],
    ["unknown key", { partiton: "viz" }, "error partiton: unknown key; known keys are partition"],
    ["bad type", { cpus: [4] }, "error cpus: must be a string or a number"],
    ["bad time", { time: "1h" }, 'error time: "1h" is not a Slurm time'],
    ["bad memory", { mem: "16GB" }, 'error mem: "16GB" is not a memory size'],
    ["zero cpus", { cpus: 0 }, 'error cpus: "0" is not a whole number of at least 1'],
    ["bad gpus", { gpus: "many" }, 'error gpus: "many" is not a GPU count'],
    [
      "literal above max",
      { time: "8:00:00", max: { time: "4:00:00" } },
      "error time: 8:00:00 is more than the 4:00:00 allowed (slurm.max.time)",
    ],
    [
      "gres GPUs above max",
      { gres: "gpu:4", max: { gpus: 2 } },
      "error gpus: 4 is more than the 2 allowed (slurm.max.gpus)",
    ],
    ["infinite max", { max: { time: "UNLIMITED" } }, "error max.time: must be a finite limit"],
    ["unknown max", { max: { walltime: "1:00:00" } }, "error max.walltime: unknown key"],
    ["bad max", { max: { mem: "lots" } }, 'error max.mem: "lots" is not a memory size'],
    ["bad export", { export: "none" }, 'error export: must be "session" or "app"'],
    ["bad args", { sbatch_args: "--exclusive" }, "error sbatch_args: must be a list of strings"],
    [
      "refused arg",
      { sbatch_args: ["--time=5"] },
      'error sbatch_args[0]: "--time=5" is not allowed: sets --time: use the slurm.time key',
    ],
    [
      "bad choices",
      { choices: { partition: [] } },
      "error choices.partition: must be a non-empty list",
    ],
    [
      "templated time, no max",
      { time: "$hours:00:00" },
      "warning time: is a template but max.time is not set: a client can ask for any time",
    ],
    [
      "templated gres, no max",
      { gres: "gpu:$n" },
      "warning gres: is a template but max.gpus is not set",
    ],
    [
      "templated partition, no choices",
      { partition: "$queue" },
      "warning partition: is a template but choices.partition is not set",
    ],
  ];
  for (const [name, raw, want] of cases) {
    await t.step(name, () => {
      const found = problems(raw);
      assert.ok(found.some((p) => p.startsWith(want)), `${want}\nin ${JSON.stringify(found)}`);
    });
  }
  await t.step("a warning alone leaves the settings usable", () => {
    assert.ok(parseSlurmSettings({ time: "$t" }).settings);
    assert.equal(parseSlurmSettings({ time: "1h" }).settings, undefined);
  });
  await t.step("a templated value is not checked until rendered", () => {
    assert.deepEqual(problems({ time: "$hours", max: { time: "4:00:00" } }), []);
  });
});

Deno.test("resolveJobResources() keeps a client's values within slurm.max", async (t) => {
  const raw = {
    time: "${hours}:00:00",
    cpus: "$cpus",
    mem: "$mem",
    gpus: "$gpus",
    nodes: "$nodes",
    max: { time: "4:00:00", cpus: 16, mem: "64G", gpus: 1, nodes: 2 },
  };
  const ok = { hours: "4", cpus: "16", mem: "64G", gpus: "1", nodes: "2" };
  await t.step("at the limits", () => {
    assert.deepEqual(resolve(raw, ok), {
      timeMinutes: 240,
      cpus: 16,
      memoryMB: 65_536,
      gpus: { count: 1 },
      nodes: 2,
      extraArgs: [],
    });
  });
  const over: [string, Record<string, string>, RegExp][] = [
    ["time", { hours: "5" }, /^slurm\.time: 5:00:00 is more than the 4:00:00 allowed/],
    ["cpus", { cpus: "17" }, /^slurm\.cpus: 17 is more than the 16 allowed \(slurm\.max\.cpus\)$/],
    ["mem", { mem: "65537M" }, /^slurm\.mem: 65537M is more than the 64G allowed/],
    ["mem", { mem: "0" }, /all of a node is more than the 64G allowed/],
    ["gpus", { gpus: "2" }, /^slurm\.gpus: 2 is more than the 1 allowed/],
    ["gpus", { gpus: "a100:2" }, /2 is more than the 1 allowed/],
    ["nodes", { nodes: "3" }, /^slurm\.nodes: 3 is more than the 2 allowed/],
  ];
  for (const [key, values, message] of over) {
    await t.step(`${key} ${JSON.stringify(values)} is refused`, () => {
      refused(raw, { ...ok, ...values }, key, message);
    });
  }
  await t.step("malformed values are refused, naming the key", () => {
    refused(raw, { ...ok, hours: "4;rm" }, "time", /is not a Slurm time/);
    refused(raw, { ...ok, cpus: "-1" }, "cpus", /not a whole number/);
  });
  await t.step("a second over is over: Slurm would round it up to 4:01:00", () => {
    refused({ time: "$t", max: { time: "4:00:00" } }, { t: "4:00:01" }, "time", /4:00:01 is more/);
    assert.equal(
      resolve({ time: "$t", max: { time: "4:00:00" } }, { t: "239:59" }).timeMinutes,
      240,
    );
  });
  await t.step("an unlimited time is refused when a maximum is set", () => {
    refused(
      { time: "$t", max: { time: "4:00:00" } },
      { t: "UNLIMITED" },
      "time",
      /UNLIMITED is more/,
    );
  });
});

Deno.test("resolveJobResources() counts GPUs of gres with those of gpus", () => {
  const raw = { gpus: "$g", gres: "$r", max: { gpus: 2 } };
  assert.deepEqual(resolve(raw, { g: "1", r: "gpu:1,license:1" }).gpus, { count: 1 });
  refused(raw, { g: "1", r: "gpu:a100:2" }, "gpus", /3 is more than the 2 allowed/);
  refused(raw, { g: "2", r: "gpu" }, "gpus", /3 is more than the 2 allowed/);
  assert.equal(resolve(raw, { g: "0", r: "" }).gpus, undefined, "0 GPUs asks for none");
});

Deno.test("resolveJobResources() gives the job max.time when no time is set", () => {
  assert.equal(resolve({ max: { time: "4:00:00" } }).timeMinutes, 240);
  assert.equal(resolve({}).timeMinutes, undefined, "no limit: the partition's default");
  assert.equal(resolve({ time: "$t", max: { time: "2:00:00" } }, { t: "" }).timeMinutes, 120);
});

Deno.test("resolveJobResources() holds templated names to slurm.choices", () => {
  const raw = { partition: "$p", account: "$a", choices: { partition: ["viz", "gpu"] } };
  assert.equal(resolve(raw, { p: "gpu", a: "anyone" }).partition, "gpu");
  refused(
    raw,
    { p: "urgent" },
    "partition",
    /^slurm\.partition: "urgent" is not one of "viz", "gpu"$/,
  );
});

Deno.test("resolveJobResources() checks rendered sbatch_args", () => {
  const raw = { sbatch_args: ["--constraint=$feature", "$extra"] };
  assert.deepEqual(resolve(raw, { feature: "x11", extra: "--comment=hi" }).extraArgs, [
    "--constraint=x11",
    "--comment=hi",
  ]);
  refused(raw, { feature: "x11", extra: "--time=9999" }, "sbatch_args[1]", /sets --time/);
  refused(raw, { feature: "x11", extra: "hostile.sh" }, "sbatch_args[1]", /not an option/);
  // One argument: a value with spaces cannot become a second option.
  assert.deepEqual(
    resolve(raw, { feature: "x --time=9999", extra: "--comment=x" }).extraArgs[0],
    "--constraint=x --time=9999",
  );
});
