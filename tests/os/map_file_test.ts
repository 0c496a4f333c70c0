import assert from "node:assert/strict";
import { join } from "node:path";
import { MAP_FILE_HEADER, MapFile, writeFileAtomic } from "../../lib/os/map_file.ts";

/** A writer that records every write and lets the test decide when each one finishes. */
class HeldWriter {
  readonly texts: string[] = [];
  #pending: PromiseWithResolvers<void>[] = [];
  #waiters: { n: number; resolve: () => void }[] = [];
  inFlight = 0;
  maxInFlight = 0;

  write = (_path: string, text: string): Promise<void> => {
    this.texts.push(text);
    for (const w of this.#waiters.filter((w) => w.n <= this.texts.length)) w.resolve();
    this.#waiters = this.#waiters.filter((w) => w.n > this.texts.length);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const done = Promise.withResolvers<void>();
    this.#pending.push(done);
    return done.promise.finally(() => this.inFlight--);
  };

  /** Waits until `n` writes have started. */
  started(n: number): Promise<void> {
    if (this.texts.length >= n) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#waiters.push({ n, resolve });
    return promise;
  }

  /** Finishes the oldest unfinished write, with `error` when given. */
  finish(error?: Error): void {
    const done = this.#pending.shift();
    assert(done, "no write in flight");
    if (error) done.reject(error);
    else done.resolve();
  }
}

/** A writer that finishes every write at once and records it. */
function countingWriter(): { texts: string[]; write: (p: string, t: string) => Promise<void> } {
  const texts: string[] = [];
  return { texts, write: (_p, text) => (texts.push(text), Promise.resolve()) };
}

/** Checks that `text` is a whole map file and returns its entries. */
function parseMap(text: string): Map<string, string> {
  const lines = text.split("\n");
  assert.equal(lines[0], MAP_FILE_HEADER);
  assert.equal(lines.pop(), "", "the file ends with a newline");
  const entries = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const m = /^(s\d+) (127\.0\.0\.1:\d+)$/.exec(line);
    assert(m, `malformed line ${JSON.stringify(line)}`);
    entries.set(m[1], m[2]);
  }
  return entries;
}

async function tempFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.name.endsWith(".tmp")) names.push(e.name);
  return names;
}

Deno.test("MapFile.set() writes one '<id> <host>:<port>' line per session under a header", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "proxy-mapping.txt");
    const map = new MapFile(path);
    await map.set("s1", "127.0.0.1:9001");
    await map.set("s2", "127.0.0.1:9002");
    assert.equal(
      await Deno.readTextFile(path),
      `${MAP_FILE_HEADER}\ns1 127.0.0.1:9001\ns2 127.0.0.1:9002\n`,
    );
    await map.set("s1", "127.0.0.1:9003");
    assert.deepStrictEqual(
      parseMap(await Deno.readTextFile(path)),
      new Map([["s1", "127.0.0.1:9003"], ["s2", "127.0.0.1:9002"]]),
    );
    assert.equal(map.size, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("MapFile lists an id with capitals lower-cased too, for lower-cased lookups", async () => {
  const { texts, write } = countingWriter();
  const map = new MapFile("map.txt", { write });
  await map.set("kX2-Old_Id9", "127.0.0.1:9001");
  await map.set("abc", "127.0.0.1:9002");
  assert.equal(
    texts.at(-1),
    `${MAP_FILE_HEADER}\nkX2-Old_Id9 127.0.0.1:9001\nkx2-old_id9 127.0.0.1:9001\nabc 127.0.0.1:9002\n`,
  );
  await map.delete("kX2-Old_Id9");
  assert.equal(texts.at(-1), `${MAP_FILE_HEADER}\nabc 127.0.0.1:9002\n`);
});

Deno.test("MapFile writes the file with mode 0o640 and leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "map.txt");
    await new MapFile(path).set("s1", "127.0.0.1:9001");
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o640);
    assert.deepStrictEqual(await tempFiles(dir), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("MapFile.delete() removes the session's line", async () => {
  const { texts, write } = countingWriter();
  const map = new MapFile("map.txt", { write });
  await Promise.all([map.set("s1", "127.0.0.1:9001"), map.set("s2", "127.0.0.1:9002")]);
  await map.delete("s1");
  assert.deepStrictEqual(parseMap(texts.at(-1)!), new Map([["s2", "127.0.0.1:9002"]]));
  assert.equal(map.size, 1);
});

Deno.test("MapFile.clear() leaves only the header", async () => {
  const { texts, write } = countingWriter();
  const map = new MapFile("map.txt", { write });
  await map.set("s1", "127.0.0.1:9001");
  await map.clear();
  assert.equal(texts.at(-1), `${MAP_FILE_HEADER}\n`);
  assert.equal(map.size, 0);
});

Deno.test("MapFile gathers 200 concurrent set() calls into far fewer writes", async () => {
  const { texts, write } = countingWriter();
  const map = new MapFile("map.txt", { write });
  const ids = Array.from({ length: 200 }, (_, i) => `s${i}`);
  await Promise.all(ids.map((id, i) => map.set(id, `127.0.0.1:${9000 + i}`)));
  assert(texts.length <= 2, `${texts.length} writes`);
  assert.deepStrictEqual([...parseMap(texts.at(-1)!).keys()], ids);
});

Deno.test("MapFile runs at most one write and queues at most one more", async () => {
  const writer = new HeldWriter();
  const map = new MapFile("map.txt", { write: writer.write });
  const first = map.set("s0", "127.0.0.1:9000");
  await writer.started(1);
  // Arrive while the first write is in flight: all wait for one second write.
  const rest = Array.from({ length: 50 }, (_, i) => map.set(`s${i + 1}`, `127.0.0.1:${9001 + i}`));
  writer.finish();
  await first;
  await writer.started(2);
  assert.equal(writer.texts.length, 2);
  writer.finish();
  await Promise.all(rest);
  assert.equal(writer.maxInFlight, 1);
  assert.equal(parseMap(writer.texts[1]).size, 51);
});

Deno.test("MapFile.set() resolves only after a write that contains its change", async () => {
  const writer = new HeldWriter();
  const map = new MapFile("map.txt", { write: writer.write });
  const first = map.set("s1", "127.0.0.1:9001");
  await writer.started(1);
  let secondDone = false;
  const second = map.set("s2", "127.0.0.1:9002").then(() => secondDone = true);
  writer.finish();
  await first;
  assert.equal(secondDone, false, "the first write did not contain s2");
  assert(!parseMap(writer.texts[0]).has("s2"));
  await writer.started(2);
  writer.finish();
  await second;
  assert(parseMap(writer.texts[1]).has("s2"));
});

Deno.test("MapFile rejects the calls of a failed write, and a later call writes again", async () => {
  const writer = new HeldWriter();
  const map = new MapFile("map.txt", { write: writer.write });
  const failed = map.set("s1", "127.0.0.1:9001");
  await writer.started(1);
  writer.finish(new Error("disk full"));
  await assert.rejects(failed, /disk full/);
  const retried = map.set("s2", "127.0.0.1:9002");
  await writer.started(2);
  writer.finish();
  await retried;
  assert.deepStrictEqual([...parseMap(writer.texts[1]).keys()], ["s1", "s2"]);
});

Deno.test("MapFile.set() rejects ids and targets that would break the map", async (t) => {
  const { texts, write } = countingWriter();
  const map = new MapFile("map.txt", { write });
  const cases: [name: string, id: string, target: string][] = [
    ["empty id", "", "127.0.0.1:9001"],
    ["id with a space", "a b", "127.0.0.1:9001"],
    ["id with a newline", "a\nb", "127.0.0.1:9001"],
    ["id that starts a comment", "#a", "127.0.0.1:9001"],
    ["empty target", "s1", ""],
    ["target with a tab", "s1", "127.0.0.1:9001\tx"],
  ];
  for (const [name, id, target] of cases) {
    await t.step(name, () => assert.rejects(map.set(id, target), RangeError));
  }
  assert.equal(map.size, 0);
  assert.equal(texts.length, 0);
});

/**
 * Reads the map file in a loop in another process (a real concurrent reader, as Apache is)
 * until `stop` exists; exits 1 at the first read that is not a whole map.
 */
const READER = `
const [path, stop] = Deno.args;
let reads = 0;
for (;;) {
  let text;
  try { text = Deno.readTextFileSync(path); } catch { if (exists(stop)) break; continue; }
  const lines = text.split("\\n");
  if (!text.endsWith("\\n") || !lines[0].startsWith("#")) Deno.exit(1);
  for (const line of lines.slice(1, -1)) if (!/^s\\d+ 127\\.0\\.0\\.1:\\d+$/.test(line)) Deno.exit(1);
  reads++;
  if (exists(stop)) break;
}
console.log(reads);
function exists(p) { try { Deno.statSync(p); return true; } catch { return false; } }
`;

Deno.test("a reader of the map file only ever sees complete files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "map.txt");
    const stop = join(dir, "stop");
    const map = new MapFile(path);
    await map.clear();
    const reader = new Deno.Command(Deno.execPath(), {
      args: ["eval", READER, path, stop],
      stdout: "piped",
    }).spawn();
    for (let round = 0; round < 200; round++) {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => {
          const id = `s${(round * 7 + i) % 300}`;
          return i % 4 === 3 ? map.delete(id) : map.set(id, `127.0.0.1:${9000 + round}`);
        }),
      );
      // Let the event loop breathe, as the launcher's does between requests.
      await new Promise((r) => setTimeout(r, 0));
    }
    await Deno.writeTextFile(stop, "");
    const { code, stdout } = await reader.output();
    assert.equal(code, 0, "every read was a whole map");
    assert.ok(Number(new TextDecoder().decode(stdout)) > 0, "the reader read");
    assert.deepStrictEqual(await tempFiles(dir), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic() rejects and leaves no temporary file when it cannot rename", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // A non-empty folder where the map should be: the rename fails after the temp file exists.
    const path = join(dir, "map.txt");
    await Deno.mkdir(path);
    await Deno.writeTextFile(join(path, "keep"), "");
    const map = new MapFile(path);
    await assert.rejects(map.set("s1", "127.0.0.1:9001"));
    assert.deepStrictEqual(await tempFiles(dir), []);
    await Deno.remove(path, { recursive: true });
    await map.set("s2", "127.0.0.1:9002");
    assert.deepStrictEqual(
      [...parseMap(await Deno.readTextFile(path)).keys()],
      ["s1", "s2"],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic() rejects when the folder does not exist", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(writeFileAtomic(join(dir, "none", "map.txt"), "x"), Deno.errors.NotFound);
    assert.deepStrictEqual(await tempFiles(dir), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("MapFile gives every new map a later modification time, however fast the writes come", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/proxy.map`;
    const map = new MapFile(path);
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      await map.set(`s${i}`, `localhost:${9000 + i}`);
      times.push((await Deno.stat(path)).mtime!.getTime());
    }
    for (let i = 1; i < times.length; i++) {
      assert.ok(times[i] > times[i - 1], `write ${i} has a later time (Apache re-reads on change)`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("MapFile with retry writes a failed change again until the file is true, and says so meanwhile", async () => {
  const texts: string[] = [];
  let full = true;
  const changes: (string | undefined)[] = [];
  const map = new MapFile("map.txt", {
    write: (_p, text) => {
      if (full) return Promise.reject(new Error("No space left on device (os error 28)"));
      texts.push(text);
      return Promise.resolve();
    },
    retry: { firstMs: 1, maxMs: 4, onChange: (err) => changes.push(err?.message) },
  });
  await assert.rejects(map.set("s1", "127.0.0.1:9001"), /No space left/);
  assert.notEqual(map.health.failingSince, undefined, "behind the sessions");
  const settled = map.settled();
  await assert.rejects(map.delete("s1"), /No space left/);
  const failures = map.health.failures;
  assert.ok(failures >= 2);
  full = false;
  await settled;
  assert.deepEqual(parseMap(texts.at(-1)!), new Map(), "the file holds the latest change");
  assert.deepEqual(map.health.failingSince, undefined);
  assert.deepEqual(changes, ["No space left on device (os error 28)", undefined]);
  map.close();
});
