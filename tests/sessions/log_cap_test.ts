import assert from "node:assert/strict";
import { LogCap, type ReadPositions } from "../../lib/sessions/log_cap.ts";
import type { LogMeasure, LogTrimmer } from "../../lib/os/mod.ts";

/** Files that exist only in the test; `can` says which ways of trimming the file system has. */
class FakeTrimmer implements LogTrimmer {
  files = new Map<string, LogMeasure>();
  calls: string[] = [];
  can = { collapse: true, punch: true, rewrite: true };
  measure(path: string) {
    const m = this.files.get(path);
    return m && { ...m };
  }
  collapse(path: string, bytes: number) {
    this.calls.push(`collapse ${path} ${bytes}`);
    if (!this.can.collapse) return Promise.resolve(false);
    const m = this.files.get(path)!;
    Object.assign(m, { size: m.size - bytes, disk: m.disk - bytes });
    return Promise.resolve(true);
  }
  punch(path: string, bytes: number) {
    this.calls.push(`punch ${path} ${bytes}`);
    if (!this.can.punch) return Promise.resolve(false);
    const m = this.files.get(path)!;
    m.disk -= bytes;
    return Promise.resolve(true);
  }
  rewrite(path: string, keep: number, marker: string) {
    this.calls.push(`rewrite ${path} ${keep} ${JSON.stringify(marker)}`);
    if (!this.can.rewrite) return false;
    Object.assign(this.files.get(path)!, { size: keep, disk: keep });
    return true;
  }
}

class FakePositions implements ReadPositions {
  read = new Map<string, number>();
  shifts: string[] = [];
  consumed(path: string) {
    return this.read.get(path);
  }
  collapsed(path: string, bytes: number) {
    this.shifts.push(`${path} ${bytes}`);
    if (this.read.has(path)) this.read.set(path, this.read.get(path)! - bytes);
  }
}

const MAX = 64 * 1024;

function setup(live = ["/logs/a.log", "/logs/b.log"]) {
  const trimmer = new FakeTrimmer();
  const positions = new FakePositions();
  const cap = new LogCap({ maxBytes: MAX, files: () => live, trimmer, positions });
  const write = (path: string, size: number) =>
    trimmer.files.set(path, { size, disk: size, block: 4096 });
  return { trimmer, positions, cap, write, live };
}

Deno.test("LogCap leaves a log within the limit alone", async () => {
  const { trimmer, cap, write } = setup();
  write("/logs/a.log", MAX);
  await cap.sweep();
  assert.deepEqual(trimmer.calls, []);
});

Deno.test("LogCap drops the older half of a log past the limit, in whole blocks", async () => {
  const { trimmer, cap, write } = setup();
  write("/logs/a.log", 100_000);
  await cap.sweep();
  // Keep 32 KiB: cut 100000 - 32768 = 67232, down to a multiple of 4096.
  assert.deepEqual(trimmer.calls, ["collapse /logs/a.log 65536"]);
  assert.equal(trimmer.files.get("/logs/a.log")!.size, 34_464);
});

Deno.test("LogCap never drops what the follower of a starting session has not read", async () => {
  const { trimmer, positions, cap, write } = setup();
  write("/logs/a.log", 1_000_000);
  positions.read.set("/logs/a.log", 10_000);
  await cap.sweep();
  assert.deepEqual(trimmer.calls, ["collapse /logs/a.log 8192"]);
  assert.deepEqual(positions.shifts, ["/logs/a.log 8192"], "the follower reads on from 1808");
  trimmer.calls = [];
  positions.read.set("/logs/a.log", 100);
  await cap.sweep();
  assert.deepEqual(trimmer.calls, [], "less than a block read: nothing to drop yet");
});

Deno.test("LogCap punches the start out where the file system cannot collapse, by disk use then", async () => {
  const { trimmer, cap, write } = setup();
  trimmer.can.collapse = false;
  write("/logs/a.log", 100_000);
  await cap.sweep();
  assert.deepEqual(trimmer.calls, ["collapse /logs/a.log 65536", "punch /logs/a.log 65536"]);
  trimmer.calls = [];
  // The size goes on growing over the hole; the disk use is what counts now.
  Object.assign(trimmer.files.get("/logs/a.log")!, { size: 150_000 });
  await cap.sweep();
  assert.deepEqual(trimmer.calls, [], "34 KiB on disk");
  Object.assign(trimmer.files.get("/logs/a.log")!, { size: 300_000, disk: 90_000 });
  await cap.sweep();
  assert.deepEqual(trimmer.calls, ["punch /logs/a.log 266240"], "collapse is not tried again");
});

Deno.test("LogCap rewrites as a last resort, and never a log whose follower still reads", async () => {
  const { trimmer, positions, cap, write } = setup();
  trimmer.can.collapse = false;
  trimmer.can.punch = false;
  write("/logs/a.log", 100_000);
  positions.read.set("/logs/a.log", 100_000);
  await cap.sweep();
  assert.deepEqual(trimmer.calls, ["collapse /logs/a.log 65536", "punch /logs/a.log 65536"]);
  positions.read.delete("/logs/a.log"); // ready: no one follows it any more
  trimmer.calls = [];
  await cap.sweep();
  assert.deepEqual(trimmer.calls, [
    'rewrite /logs/a.log 32768 "[pvw-launcher: older output dropped]\\n"',
  ], "neither collapse nor punch is tried again");
  assert.equal(trimmer.files.get("/logs/a.log")!.size, 32768);
});

Deno.test("LogCap only punches a log written from another host (a Slurm job's), and leaves it uncapped where it cannot", async () => {
  const trimmer = new FakeTrimmer();
  const cap = new LogCap({
    maxBytes: MAX,
    files: () => ["/logs/job.log", "/logs/local.log"],
    trimmer,
    positions: new FakePositions(),
    writtenElsewhere: (path) => path === "/logs/job.log",
  });
  trimmer.files.set("/logs/job.log", { size: 100_000, disk: 100_000, block: 4096 });
  trimmer.files.set("/logs/local.log", { size: 100_000, disk: 100_000, block: 4096 });
  await cap.sweep();
  assert.deepEqual(trimmer.calls.sort(), [
    "collapse /logs/local.log 65536",
    "punch /logs/job.log 65536",
  ], "its size never changes under its writer");

  trimmer.calls = [];
  trimmer.can.collapse = false;
  trimmer.can.punch = false;
  trimmer.files.set("/logs/job.log", { size: 200_000, disk: 200_000, block: 4096 });
  trimmer.files.set("/logs/local.log", { size: 100_000, disk: 100_000, block: 4096 });
  await cap.sweep();
  assert.deepEqual(trimmer.calls.filter((c) => c.includes("job.log")), [
    "punch /logs/job.log 163840",
  ], "never rewritten");
  assert.equal(trimmer.files.get("/logs/job.log")!.size, 200_000);
  trimmer.calls = [];
  await cap.sweep();
  assert.deepEqual(trimmer.calls.filter((c) => c.includes("job.log")), [], "not tried again");
});

Deno.test("LogCap trims only the live sessions' logs", async () => {
  const { trimmer, cap, write, live } = setup();
  write("/logs/other.log", 1_000_000);
  write("/logs/b.log", 1_000_000);
  await cap.sweep();
  assert.deepEqual(trimmer.calls, ["collapse /logs/b.log 966656"]);
  live.push("/logs/other.log"); // a session that started since
  trimmer.calls = [];
  await cap.sweep();
  assert.deepEqual(trimmer.calls, ["collapse /logs/other.log 966656"]);
});

Deno.test("LogCap checks a log it had to trim again soon, until it stops outgrowing the limit, and the others only at the sweep", async () => {
  const { trimmer, cap, write } = setup();
  const trimmed = () => {
    const { promise, resolve } = Promise.withResolvers<void>();
    const collapse = trimmer.collapse.bind(trimmer);
    trimmer.collapse = (path, bytes) => {
      trimmer.collapse = collapse;
      resolve();
      return collapse(path, bytes);
    };
    return promise;
  };
  const hourly = new LogCap({
    maxBytes: MAX,
    files: () => ["/logs/a.log", "/logs/b.log"],
    trimmer,
    positions: new FakePositions(),
    intervalMs: 3_600_000,
    hotIntervalMs: 5,
  });
  hourly.start();
  try {
    write("/logs/a.log", 100_000);
    await hourly.sweep();
    assert.deepEqual(trimmer.calls, ["collapse /logs/a.log 65536"]);
    // It goes on growing: checked again long before the next sweep.
    const again = trimmed();
    write("/logs/a.log", 200_000);
    write("/logs/b.log", 200_000);
    await again;
    assert.deepEqual(trimmer.calls, ["collapse /logs/a.log 65536", "collapse /logs/a.log 163840"]);
  } finally {
    hourly.close();
    cap.close();
  }
});
