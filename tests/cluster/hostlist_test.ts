import assert from "node:assert/strict";
import { expandHostlist } from "../../lib/cluster/hostlist.ts";

Deno.test("expandHostlist() expands Slurm's node lists as scontrol show hostnames does", () => {
  const cases: [string, string[]][] = [
    ["", []],
    ["n1", ["n1"]],
    ["n[2-3]", ["n2", "n3"]],
    ["n[1,3]", ["n1", "n3"]],
    ["n[1-2,5]", ["n1", "n2", "n5"]],
    ["gpu[08-11]", ["gpu08", "gpu09", "gpu10", "gpu11"]],
    ["n[1-2],login1", ["n1", "n2", "login1"]],
    ["a,b", ["a", "b"]],
    ["rack[1-2]-n[1-2]", ["rack1-n1", "rack1-n2", "rack2-n1", "rack2-n2"]],
  ];
  for (const [list, nodes] of cases) assert.deepEqual(expandHostlist(list), nodes, list);
});

Deno.test("expandHostlist() keeps an odd list readable rather than failing", () => {
  assert.deepEqual(expandHostlist("n[x]"), ["nx"]);
  assert.deepEqual(expandHostlist("n[1-"), ["n[1-"]);
  assert.equal(expandHostlist("n[1-999999999]").length, 100_000, "bounded");
});
