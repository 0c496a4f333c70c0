import assert from "node:assert/strict";
import { join } from "node:path";
import { DirectoryFollower, type Follow } from "../../lib/os/follower.ts";
import { NotRegularFileError } from "../../lib/os/regular_file.ts";
import { within } from "../integration/harness.ts";

const DEADLINE_MS = 10_000;

/** Collects what a follow delivers and lets a test wait until it holds some text. */
class Received {
  #decoder = new TextDecoder();
  #waiters = new Set<() => void>();
  text = "";
  chunks = 0;

  readonly handler = (chunk: Uint8Array): void => {
    this.chunks++;
    this.text += this.#decoder.decode(chunk, { stream: true });
    for (const w of [...this.#waiters]) w();
  };

  /** Waits until the text delivered so far ends with `expected`. */
  async until(expected: string): Promise<void> {
    let check = () => {};
    try {
      await within(
        DEADLINE_MS,
        `${JSON.stringify(expected)} (got ${JSON.stringify(this.text)})`,
        new Promise<void>((resolve) => {
          check = () => this.text.endsWith(expected) && resolve();
          this.#waiters.add(check);
          check();
        }),
      ).catch((err) => {
        throw new Error(`${err.message}; delivered: ${JSON.stringify(this.text)}`);
      });
    } finally {
      this.#waiters.delete(check);
    }
  }
}

/** A temp log folder with a follower on it; disposing closes everything and awaits reads. */
async function logDir() {
  const dir = await Deno.makeTempDir({ prefix: "pvw-follower-test-" });
  const follower = DirectoryFollower.open(dir);
  const follows: Follow[] = [];
  return {
    dir,
    follower,
    /** Follows `name` in the folder. */
    follow(name: string, received: Received): Follow {
      const f = follower.follow(join(dir, name), received.handler);
      follows.push(f);
      return f;
    },
    /**
     * Follows `name` as the launcher follows a session's log: the file is created (as the
     * spawn creates it), then read once.
     */
    async spawned(name: string, received: Received): Promise<Follow> {
      await Deno.writeTextFile(join(dir, name), "", { append: true });
      const f = this.follow(name, received);
      await f.drain();
      return f;
    },
    async [Symbol.asyncDispose]() {
      follower.close();
      await follower.closed();
      // A drain the last event started may still be reading: let it finish.
      await Promise.all(follows.map((f) => f.drain()));
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Runs a shell script (as a separate writer) with `$1` set to `file`, and awaits it. */
async function sh(script: string, file: string): Promise<void> {
  const status = await new Deno.Command("sh", {
    args: ["-c", script, "sh", file],
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn().status;
  assert.equal(status.code, 0, `sh -c ${script}`);
}

Deno.test("DirectoryFollower delivers what another process appends, in order and completely", async (t) => {
  await t.step("two writes apart", async () => {
    await using logs = await logDir();
    const got = new Received();
    await logs.spawned("a.log", got);
    await sh('printf a >> "$1"; sleep 0.1; printf b >> "$1"', join(logs.dir, "a.log"));
    await got.until("ab");
    assert.equal(got.text, "ab");
  });
  await t.step("a thousand lines through shell redirection", async () => {
    await using logs = await logDir();
    const got = new Received();
    await logs.spawned("b.log", got);
    await sh(
      'i=0; while [ $i -lt 1000 ]; do echo "line $i"; i=$((i+1)); done >> "$1"',
      join(logs.dir, "b.log"),
    );
    const expected = Array.from({ length: 1000 }, (_, i) => `line ${i}\n`).join("");
    await got.until("line 999\n");
    assert.equal(got.text, expected);
  });
  await t.step("more than one read buffer at once", async () => {
    await using logs = await logDir();
    const got = new Received();
    await logs.spawned("c.log", got);
    const big = "0123456789abcdef".repeat(20_000) + "\nend\n"; // 320 KiB, five 64 KiB reads
    await Deno.writeTextFile(join(logs.dir, "c.log"), big);
    await got.until("\nend\n");
    assert.equal(got.text, big);
  });
});

Deno.test("DirectoryFollower picks up a file created after follow(), at its next reading", async () => {
  await using logs = await logDir();
  const got = new Received();
  const f = logs.follow("later.log", got);
  await f.drain();
  assert.equal(got.chunks, 0, "nothing to read before the file exists");
  await Deno.writeTextFile(join(logs.dir, "later.log"), "Starting factory\n");
  await got.until("Starting factory\n");
  assert.equal(got.text, "Starting factory\n");
});

Deno.test("Follow.drain() reads what the file already holds", async () => {
  await using logs = await logDir();
  // Written before the follow and before any event could wake it.
  await Deno.writeTextFile(join(logs.dir, "old.log"), "written earlier\n");
  const got = new Received();
  const f = logs.follow("old.log", got);
  await f.drain();
  assert.equal(got.text, "written earlier\n");
  await f.drain();
  assert.equal(got.text, "written earlier\n", "a second drain delivers nothing twice");
});

Deno.test("Follow.close() stops delivery", async () => {
  await using logs = await logDir();
  const file = join(logs.dir, "s.log");
  const closed = new Received();
  const open = new Received();
  const f = await logs.spawned("s.log", closed);
  await logs.spawned("s.log", open); // a witness on the same file
  await Deno.writeTextFile(file, "first\n");
  await Promise.all([closed.until("first\n"), open.until("first\n")]);
  f.close();
  await Deno.writeTextFile(file, "second\n", { append: true });
  await open.until("second\n");
  await f.drain();
  assert.equal(closed.text, "first\n");
  assert.equal(open.text, "first\nsecond\n");
});

Deno.test("DirectoryFollower keeps the follows of different files apart", async () => {
  await using logs = await logDir();
  const a = new Received();
  const b = new Received();
  await logs.spawned("a.log", a);
  await logs.spawned("b.log", b);
  await Promise.all([
    sh('for i in 1 2 3 4 5; do echo "a$i"; sleep 0.01; done >> "$1"', join(logs.dir, "a.log")),
    sh('for i in 1 2 3 4 5; do echo "b$i"; sleep 0.01; done >> "$1"', join(logs.dir, "b.log")),
    Deno.writeTextFile(join(logs.dir, "c.log"), "nobody follows this\n"),
  ]);
  await Promise.all([a.until("a5\n"), b.until("b5\n")]);
  assert.equal(a.text, "a1\na2\na3\na4\na5\n");
  assert.equal(b.text, "b1\nb2\nb3\nb4\nb5\n");
});

Deno.test("DirectoryFollower.close() closes every follow and ends its watch", async () => {
  await using logs = await logDir();
  const got = new Received();
  logs.follow("x.log", got);
  logs.follow("y.log", got);
  assert.equal(logs.follower.size, 2);
  logs.follower.close();
  await within(DEADLINE_MS, "the watch loop to end", logs.follower.closed());
  assert.equal(logs.follower.size, 0);
});

/** A watch that has gone deaf, as one on a folder replaced since, or whose events were lost. */
class DeafWatch implements AsyncIterable<Deno.FsEvent> {
  #end = Promise.withResolvers<void>();
  events: Deno.FsEvent[] = [];
  #wake = Promise.withResolvers<void>();
  /** Delivers one event, as an overflowed kernel queue does with a rescan flag. */
  emit(event: Deno.FsEvent): void {
    this.events.push(event);
    this.#wake.resolve();
  }
  async *[Symbol.asyncIterator](): AsyncIterator<Deno.FsEvent> {
    for (;;) {
      const ended = await Promise.race([
        this.#end.promise.then(() => true),
        this.#wake.promise.then(() => false),
      ]);
      if (ended) return;
      this.#wake = Promise.withResolvers<void>();
      yield* this.events.splice(0);
    }
  }
  close(): void {
    this.#end.resolve();
  }
}

async function deafFollower(pollMs: number) {
  const dir = await Deno.makeTempDir({ prefix: "pvw-follower-test-" });
  const watch = new DeafWatch();
  const watching = Promise.withResolvers<string[]>();
  const follower = DirectoryFollower.open(dir, {
    watch: (paths) => {
      watching.resolve(paths);
      return watch;
    },
    pollMs,
  });
  return {
    dir,
    watch,
    /** Settles with the paths of the first watch made. */
    watching: watching.promise,
    follower,
    async [Symbol.asyncDispose]() {
      follower.close();
      await follower.closed();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("DirectoryFollower reads followed files now and then, so a lost event delays a ready line only briefly", async () => {
  await using logs = await deafFollower(20);
  const got = new Received();
  const f = logs.follower.follow(join(logs.dir, "s.log"), got.handler);
  try {
    await sh('printf "loading\\nStarting factory" >> "$1"', join(logs.dir, "s.log"));
    await got.until("Starting factory");
    assert.equal(got.text, "loading\nStarting factory");
  } finally {
    f.close();
  }
});

Deno.test("DirectoryFollower reads every followed file when the watch reports an overflow", async () => {
  // Polling far too slow to matter here: only the rescan event can deliver in time.
  await using logs = await deafFollower(3_600_000);
  const got = new Received();
  await Deno.writeTextFile(join(logs.dir, "s.log"), "");
  const f = logs.follower.follow(join(logs.dir, "s.log"), got.handler);
  try {
    await f.drain();
    await logs.watching;
    await Deno.writeTextFile(join(logs.dir, "s.log"), "Starting factory\n");
    logs.watch.emit({ kind: "other", paths: [], flag: "rescan" });
    await got.until("Starting factory\n");
  } finally {
    f.close();
  }
});

Deno.test("DirectoryFollower never reads through a symbolic link put in place of a log", async () => {
  await using logs = await logDir();
  const elsewhere = join(logs.dir, "..", `${crypto.randomUUID()}.txt`);
  await Deno.writeTextFile(elsewhere, "Starting factory\n");
  try {
    await Deno.symlink(elsewhere, join(logs.dir, "s.log"));
    const received = new Received();
    const follow = logs.follow("s.log", received);
    await assert.rejects(follow.drain(), NotRegularFileError);
    assert.equal(received.text, "", "nothing of the other file was delivered");
  } finally {
    await Deno.remove(elsewhere);
  }
});

Deno.test("DirectoryFollower watches the followed files that exist, and nothing once none is followed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pvw-follower-test-" });
  const made: { paths: string[]; closed: boolean; gone: Promise<void> }[] = [];
  let changed = Promise.withResolvers<void>();
  const follower = DirectoryFollower.open(dir, {
    watch: (paths) => {
      const watch = new DeafWatch();
      const gone = Promise.withResolvers<void>();
      const entry = { paths, closed: false, gone: gone.promise };
      const close = watch.close.bind(watch);
      watch.close = () => {
        entry.closed = true;
        gone.resolve();
        close();
      };
      made.push(entry);
      changed.resolve();
      return watch;
    },
    pollMs: 3_600_000,
  });
  const open = () =>
    made.filter((m) => !m.closed).map((m) => m.paths.map((p) => p.slice(dir.length + 1)));
  const spawned = async (name: string) => {
    await Deno.writeTextFile(join(dir, name), "");
    const f = follower.follow(join(dir, name), () => {});
    await f.drain();
    await changed.promise;
    changed = Promise.withResolvers<void>();
    return f;
  };
  try {
    follower.follow(join(dir, "not-yet.log"), () => {});
    const a = await spawned("a.log");
    assert.deepEqual(open(), [["a.log"]], "only a file that exists is watched");
    const b = await spawned("b.log");
    assert.deepEqual(open(), [["a.log", "b.log"]]);
    a.close();
    await changed.promise;
    changed = Promise.withResolvers<void>();
    assert.deepEqual(open(), [["b.log"]], "a file followed no more is watched no more");
    b.close();
    await within(DEADLINE_MS, "the last watch to close", made.at(-1)!.gone);
    assert.deepEqual(open(), []);
  } finally {
    follower.close();
    await follower.closed();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DirectoryFollower watches a new session's log at once, and the logs of a burst with one watch", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pvw-follower-test-" });
  const made: string[][] = [];
  const follower = DirectoryFollower.open(dir, {
    watch: (paths) => {
      made.push(paths.map((p) => p.slice(dir.length + 1)));
      return new DeafWatch();
    },
    pollMs: 3_600_000,
  });
  const microtasks = () => new Promise<void>((resolve) => queueMicrotask(resolve));
  try {
    await Deno.writeTextFile(join(dir, "first.log"), "");
    const first = follower.follow(join(dir, "first.log"), () => {});
    await first.drain();
    await microtasks();
    // No timer has had its turn: a ready line written now is not left to the polling.
    assert.deepEqual(made, [["first.log"]]);
    first.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    made.length = 0;

    const names = Array.from({ length: 20 }, (_, i) => `burst-${String(i).padStart(2, "0")}.log`);
    for (const name of names) await Deno.writeTextFile(join(dir, name), "");
    const follows = names.map((name) => follower.follow(join(dir, name), () => {}));
    await Promise.all(follows.map((f) => f.drain()));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(made, [names], "one watch for the files opened in one turn");
    for (const f of follows) f.close();
  } finally {
    follower.close();
    await follower.closed();
    await Deno.remove(dir, { recursive: true });
  }
});
