import assert from "node:assert/strict";
import {
  formatMemory,
  formatSlurmTime,
  parseCount,
  parseGpus,
  parseSlurmMemory,
  parseSlurmTime,
  toMinutes,
  UnitError,
} from "../../lib/cluster/slurm_units.ts";

Deno.test("parseSlurmTime() reads every form sbatch --time takes", () => {
  const cases: [string, number][] = [
    ["30", 30 * 60],
    ["90", 90 * 60],
    ["0:30", 30],
    ["5:30", 5 * 60 + 30],
    ["1:00:00", 3600],
    ["4:30:15", 4 * 3600 + 30 * 60 + 15],
    ["2-0", 2 * 86_400],
    ["1-12", 86_400 + 12 * 3600],
    ["1-2:30", 86_400 + 2 * 3600 + 30 * 60],
    ["1-2:30:05", 86_400 + 2 * 3600 + 30 * 60 + 5],
    ["0", Infinity],
    ["0:0:0", Infinity],
    ["INFINITE", Infinity],
    ["unlimited", Infinity],
  ];
  for (const [text, seconds] of cases) assert.equal(parseSlurmTime(text), seconds, text);
});

Deno.test("parseSlurmTime() refuses what sbatch would refuse or read otherwise", () => {
  for (
    const text of ["", "abc", "1h", "-5", "1:2:3:4", "1-", "-1:00", " 30", "30 ", "1.5", "1-2-3"]
  ) {
    assert.throws(() => parseSlurmTime(text), UnitError, JSON.stringify(text));
  }
  assert.throws(() => parseSlurmTime("99999999999999999999"), /too long/);
});

Deno.test("toMinutes() rounds seconds up to Slurm's one-minute granularity", () => {
  assert.deepEqual([30, 60, 61, 3600].map(toMinutes), [1, 1, 2, 60]);
});

Deno.test("formatSlurmTime() writes H:MM:SS, D-HH:MM:SS from a day on", () => {
  assert.equal(formatSlurmTime(4 * 3600), "4:00:00");
  assert.equal(formatSlurmTime(65), "0:01:05");
  assert.equal(formatSlurmTime(86_400 + 3661), "1-01:01:01");
  assert.equal(formatSlurmTime(Infinity), "UNLIMITED");
  for (const text of ["4:00:00", "1-01:01:01", "0:01:05"]) {
    assert.equal(formatSlurmTime(parseSlurmTime(text)), text, "round trip");
  }
});

Deno.test("parseSlurmMemory() reads megabytes by default and K, M, G, T in either case", () => {
  const cases: [string, number][] = [
    ["500", 500],
    ["500M", 500],
    ["16G", 16_384],
    ["16g", 16_384],
    ["1T", 1_048_576],
    ["1024K", 1],
    ["1K", 1],
    ["0", Infinity],
  ];
  for (const [text, mb] of cases) assert.equal(parseSlurmMemory(text), mb, text);
  for (const text of ["", "1.5G", "16GB", "G", "-1", "16 G"]) {
    assert.throws(() => parseSlurmMemory(text), UnitError, text);
  }
});

Deno.test("formatMemory() uses the largest whole unit", () => {
  assert.deepEqual([65_536, 500, 1_048_576, 1536].map(formatMemory), [
    "64G",
    "500M",
    "1T",
    "1536M",
  ]);
  assert.equal(formatMemory(Infinity), "all of a node");
});

Deno.test("parseCount() and parseGpus() read whole numbers and type:number", () => {
  assert.equal(parseCount("4", 1), 4);
  for (const text of ["0", "-1", "1.5", "", "x", "1e3", "9999999999"]) {
    assert.throws(() => parseCount(text, 1), UnitError, text);
  }
  assert.deepEqual(parseGpus("2"), { count: 2 });
  assert.deepEqual(parseGpus("a100:1"), { count: 1, type: "a100" });
  assert.deepEqual(parseGpus("0"), { count: 0 });
  for (const text of ["", "a100", "gpu:a100:1", "-1", "a b:1", "1:a100"]) {
    assert.throws(() => parseGpus(text), UnitError, text);
  }
});
