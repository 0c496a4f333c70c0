import assert from "node:assert/strict";
import { BatchSystemUnavailableError, NodeHosts } from "../../lib/cluster/mod.ts";

Deno.test("NodeHosts.host() takes node_hosts first, then the scheduler's address, then the name", async () => {
  const asked: string[] = [];
  const hosts = new NodeHosts({ n1: "10.0.0.1" }, (node) => {
    asked.push(node);
    return Promise.resolve(node === "n2" ? "10.0.0.2" : undefined);
  });
  assert.deepEqual(
    await Promise.all(["n1", "n2", "n3"].map((n) => hosts.host(n))),
    ["10.0.0.1", "10.0.0.2", "n3"],
  );
  assert.deepEqual(asked, ["n2", "n3"], "node_hosts needs no scheduler call");
  assert.equal(await new NodeHosts({}).host("constructor"), "constructor", "no prototype keys");
});

Deno.test("NodeHosts.host() falls back to the name when the scheduler cannot be asked", async () => {
  const hosts = new NodeHosts({}, () => Promise.reject(new BatchSystemUnavailableError("down")));
  assert.equal(await hosts.host("n2"), "n2");
});
