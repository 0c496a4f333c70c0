import assert from "node:assert/strict";
import { closeSync, constants, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Libc } from "../../lib/os/libc.ts";
import { createLogTrimmer } from "../../lib/os/trim.ts";

/** The file system type of a folder, as `stat -f` names it. */
async function fsType(dir: string): Promise<string> {
  const out = await new Deno.Command("stat", { args: ["-f", "-c", "%T", dir] }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

/** A log as a session's process holds it: opened to append, written line by line. */
function appender(path: string) {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND, 0o600);
  return {
    write: (text: string) => writeSync(fd, new TextEncoder().encode(text)),
    close: () => closeSync(fd),
  };
}

const lines = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => `line ${String(from + i).padStart(6, "0")}\n`).join("");

async function inFolder(base: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ dir: base, prefix: "pvw-trim-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the log trimmer drops a log's start while its writer appends: collapse (ext4, XFS), punch (tmpfs)", async (t) => {
  const libc = Libc.open()!;
  const trimmer = createLogTrimmer(libc);
  try {
    const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
    const collapsing = ["ext2/ext3", "xfs"].includes(await fsType(tmp));
    await t.step(`collapse on ${tmp} (${await fsType(tmp)})`, async () => {
      await inFolder(tmp, async (dir) => {
        const path = join(dir, "s.log");
        const log = appender(path);
        log.write(lines(0, 10_000)); // 12 bytes a line: 120000 bytes
        const done = await trimmer.collapse(path, 65_536);
        assert.equal(done, collapsing, "collapses where the file system can");
        if (done) {
          log.write(lines(10_000, 10));
          const text = await Deno.readTextFile(path);
          assert.equal(text.length, 120_000 - 65_536 + 120);
          assert(text.endsWith(lines(9_990, 20)), "the writer's next lines follow at the end");
          assert(!text.includes("\0"));
        }
        log.close();
      });
    });
    await t.step("a followed log is collapsed before collapse() returns", async () => {
      await inFolder(tmp, async (dir) => {
        const path = join(dir, "s.log");
        const log = appender(path);
        log.write(lines(0, 10_000));
        const done = trimmer.collapse(path, 65_536, true);
        // No turn of the event loop yet: the file is already shorter where it can be.
        const size = Deno.statSync(path).size;
        assert.equal(size, collapsing ? 120_000 - 65_536 : 120_000);
        assert.equal(await done, collapsing);
        log.close();
      });
    });
    await t.step("punch on /dev/shm (tmpfs)", async () => {
      await inFolder("/dev/shm", async (dir) => {
        const path = join(dir, "s.log");
        const log = appender(path);
        log.write(lines(0, 100_000));
        const before = trimmer.measure(path)!;
        assert.equal(await trimmer.collapse(path, 655_360), false, "tmpfs cannot collapse");
        assert(await trimmer.punch(path, 655_360));
        log.write(lines(100_000, 1));
        const after = trimmer.measure(path)!;
        assert.equal(after.size, before.size + 12);
        assert(after.disk <= before.disk - 655_360 + 4096, `${after.disk} on disk`);
        const text = await Deno.readTextFile(path);
        assert(text.startsWith("\0".repeat(655_360)) && text.endsWith(lines(99_999, 2)));
        log.close();
      });
    });
    await t.step("rewrite keeps the marker and the newest bytes", async () => {
      await inFolder(tmp, async (dir) => {
        const path = join(dir, "s.log");
        const log = appender(path);
        log.write(lines(0, 1000));
        assert(trimmer.rewrite(path, 120, "[dropped]\n"));
        log.write(lines(1000, 1));
        assert.equal(await Deno.readTextFile(path), `[dropped]\n${lines(990, 11)}`);
        log.close();
      });
    });
    await t.step("a symlink or a FIFO is not measured nor trimmed, and nothing hangs", async () => {
      await inFolder(tmp, async (dir) => {
        const target = join(dir, "precious");
        await Deno.writeTextFile(target, "x".repeat(200_000));
        await Deno.symlink(target, join(dir, "link.log"));
        assert.equal(trimmer.measure(join(dir, "link.log")), undefined);
        assert.equal(await trimmer.collapse(join(dir, "link.log"), 65_536), false);
        assert.equal(trimmer.rewrite(join(dir, "link.log"), 10, ""), false);
        assert.equal((await Deno.stat(target)).size, 200_000);
        const fifo = await new Deno.Command("mkfifo", { args: [join(dir, "pipe.log")] }).output();
        assert(fifo.success);
        assert.equal(trimmer.measure(join(dir, "pipe.log")), undefined);
        await Deno.link(target, join(dir, "hard.log"));
        assert.equal(trimmer.measure(join(dir, "hard.log")), undefined, "a hard link");
        assert.equal(trimmer.rewrite(join(dir, "hard.log"), 10, ""), false);
        assert.equal((await Deno.stat(target)).size, 200_000);
      });
    });
  } finally {
    libc.close();
  }
});
