import assert from "node:assert/strict";
import { join } from "node:path";
import { readTail } from "../../lib/os/tail.ts";
import { NotRegularFileError } from "../../lib/os/regular_file.ts";

async function withFile(text: string, fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "pvw-launcher-tail-" });
  try {
    const path = join(dir, "s.log");
    await Deno.writeTextFile(path, text);
    await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("readTail() answers a file smaller than the limit whole", async () => {
  await withFile("one\ntwo\n", async (path) => {
    assert.deepEqual(await readTail(path, 100), { text: "one\ntwo\n", size: 8, truncated: false });
  });
});

Deno.test("readTail() reads at most maxBytes and starts at a line boundary", async () => {
  const lines = Array.from({ length: 1000 }, (_, i) => `line ${i}`).join("\n") + "\n";
  await withFile(lines, async (path) => {
    const tail = await readTail(path, 100);
    assert.equal(tail.truncated, true);
    assert.equal(tail.size, new TextEncoder().encode(lines).length);
    assert.ok(tail.text.length <= 100);
    assert.ok(tail.text.endsWith("line 999\n"));
    assert.match(tail.text, /^line \d+\n/, "no partial first line");
  });
});

Deno.test("readTail() keeps a cut line when it is the only one, and cut UTF-8 does not throw", async () => {
  await withFile("é".repeat(100), async (path) => {
    const tail = await readTail(path, 11);
    assert.equal(tail.truncated, true);
    assert.ok(tail.text.endsWith("ééééé"));
  });
});

Deno.test("readTail() answers an empty tail for a file that does not exist", async () => {
  assert.deepEqual(await readTail("/nonexistent/pvw/s.log", 100), {
    text: "",
    size: 0,
    truncated: false,
  });
});

Deno.test("readTail() keeps a first line that the cut happens to start exactly", async () => {
  await withFile("one\ntwo\nthree\n", async (path) => {
    assert.equal((await readTail(path, 10)).text, "two\nthree\n");
    assert.equal((await readTail(path, 9)).text, "three\n");
  });
});

Deno.test("readTail() keeps a first line that the cut happens to start exactly", async () => {
  await withFile("one\ntwo\nthree\n", async (path) => {
    assert.equal((await readTail(path, 10)).text, "two\nthree\n");
    assert.equal((await readTail(path, 9)).text, "three\n");
  });
});

Deno.test("readTail() leaves out the zeros of a punched-out start and what comes before them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/s.log`;
    await Deno.writeFile(
      path,
      new Uint8Array([...new Uint8Array(100), ...new TextEncoder().encode("kept\n")]),
    );
    assert.deepEqual(await readTail(path, 50), { text: "kept\n", size: 105, truncated: true });
    assert.deepEqual(await readTail(path, 1000), { text: "kept\n", size: 105, truncated: true });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readTail() refuses a symbolic link or a FIFO in place of the log", async (t) => {
  await withFile("the log\n", async (path) => {
    const secret = join(path, "..", "secret");
    await Deno.writeTextFile(secret, "root:$6$hash\n");
    await t.step("a symbolic link to another file", async () => {
      await Deno.remove(path);
      await Deno.symlink(secret, path);
      await assert.rejects(readTail(path, 100), NotRegularFileError);
    });
    await t.step("a FIFO, which would hang the read", async () => {
      await Deno.remove(path);
      assert.ok((await new Deno.Command("mkfifo", { args: [path] }).output()).success);
      // A writer waits at the other end, so that a read that opens it does not hang the test.
      const writer = new Deno.Command("sh", { args: ["-c", 'exec sleep 600 > "$0"', path] })
        .spawn();
      try {
        await assert.rejects(readTail(path, 100), NotRegularFileError);
      } finally {
        writer.kill("SIGKILL");
        await writer.status;
      }
    });
  });
});
