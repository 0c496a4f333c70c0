import assert from "node:assert/strict";
import { guardStall, StalledReaderError } from "../../lib/http/stall_guard.ts";
import { within } from "../integration/harness.ts";

/** A body of `chunks` chunks, each handed over when asked for, or when `gate` says so. */
function source(chunks: number, gate?: () => Promise<void>): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      await gate?.();
      if (i++ < chunks) controller.enqueue(new Uint8Array([i]));
      else controller.close();
    },
  }, { highWaterMark: 0 });
}

Deno.test("guardStall() abandons a body its reader stopped taking, and errors it when the connection cannot be cut", async (t) => {
  await t.step("abandon is told, the stream is not errored", async () => {
    const told = Promise.withResolvers<void>();
    const body = guardStall(source(10), 20, () => {
      told.resolve();
      return true;
    });
    const reader = body.getReader();
    assert.deepEqual((await reader.read()).value, new Uint8Array([1]));
    await within(5000, "the stall", told.promise); // and nothing read since
    await reader.cancel();
  });
  await t.step("without a way to cut, the stream errors", async () => {
    const body = guardStall(source(10), 20);
    const reader = body.getReader();
    await reader.read();
    const closed = reader.closed.then(() => undefined, (err) => err);
    assert.ok(await within(5000, "the error", closed) instanceof StalledReaderError);
  });
});

Deno.test("guardStall() serves a slow reader, and does not count the source's own slowness", async () => {
  let stalls = 0;
  // Each chunk of the source takes three times the limit to come.
  const slow = () => new Promise<void>((r) => setTimeout(r, 30));
  const body = guardStall(source(4, slow), 10, () => {
    stalls++;
    return true;
  });
  const got: number[] = [];
  for await (const chunk of body) {
    got.push(chunk[0]);
    // A reader that takes its time, within the limit.
    await new Promise((r) => setTimeout(r, 2));
  }
  assert.deepEqual(got, [1, 2, 3, 4]);
  assert.equal(stalls, 0);
});
