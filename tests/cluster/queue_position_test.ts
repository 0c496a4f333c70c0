import assert from "node:assert/strict";
import { queuePositions } from "../../lib/cluster/queue_position.ts";
import type { PendingRow } from "../../lib/cluster/squeue.ts";

const row = (
  id: string,
  priority: number,
  partitions = ["viz"],
  reason = "Priority",
): PendingRow => ({
  id,
  partitions,
  priority,
  reason,
});

Deno.test("queuePositions() ranks by priority, ties by id, among jobs sharing a partition", () => {
  // 14 (gpu and viz) waits behind 13 (gpu) and 11 (viz); 10 behind 11 and 14, not 13.
  const pending = [
    row("10", 100),
    row("11", 300),
    row("12", 100),
    row("13", 500, ["gpu"]),
    row("14", 200, ["gpu", "viz"]),
  ];
  assert.deepEqual(
    queuePositions(["10", "11", "12", "13", "14"], pending),
    new Map([["11", 1], ["14", 3], ["10", 3], ["12", 4], ["13", 1]]),
  );
});

Deno.test("queuePositions() passes over jobs that can never start, and leaves out jobs not pending", () => {
  const pending = [row("1", 900, ["viz"], "PartitionTimeLimit"), row("2", 100), row("3", 50)];
  assert.deepEqual(queuePositions(["2", "3", "4", "1"], pending), new Map([["2", 1], ["3", 2]]));
});
