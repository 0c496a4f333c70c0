import assert from "node:assert/strict";
import { Progress, ProgressBoard, type ProgressEvent } from "../../lib/sessions/progress.ts";

const queued = (reason: string, position?: number): ProgressEvent => ({
  type: "queued",
  data: { id: "s", job: "1", reason, ...(position === undefined ? {} : { position }) },
});

Deno.test("Progress keeps the latest event of each kind and tells followers only what is new", () => {
  const progress = new Progress();
  const heard: string[] = [];
  progress.follow((e) => heard.push(`${e.type}:${JSON.stringify(e.data)}`));
  progress.emit(queued("submitted"));
  progress.emit(queued("waiting for resources", 2));
  progress.emit(queued("waiting for resources", 2));
  progress.emit(queued("waiting for resources", 1));
  assert.equal(heard.length, 3, "the repeated event is not told again");
  assert.deepEqual(progress.events(), [queued("waiting for resources", 1)]);
  progress.emit({ type: "starting", data: { id: "s", node: "n1", host: "h", port: 1 } });
  progress.emit({ type: "ready", data: { id: "s", sessionURL: "ws://h/" } });
  assert.ok(progress.done);
  assert.deepEqual(progress.events().map((e) => e.type), ["queued", "starting", "ready"]);
  progress.emit({ type: "failed", data: { id: "s", error: "late", status: 503 } });
  assert.deepEqual(progress.events().map((e) => e.type), ["queued", "starting", "ready"]);
  assert.equal(heard.length, 5, "nothing after the end");
});

Deno.test("Progress: a follower that throws does not stop the others, and one that leaves hears nothing more", () => {
  const progress = new Progress();
  const heard: string[] = [];
  progress.follow(() => {
    throw new Error("a broken client");
  });
  const leave = progress.follow((e) => heard.push(`a ${e.type}`));
  progress.follow((e) => heard.push(`b ${e.type}`));
  progress.emit(queued("submitted"));
  leave();
  progress.emit({ type: "failed", data: { id: "s", error: "x", status: 503 } });
  assert.deepEqual(heard, ["a queued", "b queued", "b failed"]);
  const late = () => heard.push("late");
  progress.follow(late)();
  assert.deepEqual(heard, ["a queued", "b queued", "b failed"]);
});

Deno.test("ProgressBoard keeps ended progress for a while, and at most so many", () => {
  let now = 0;
  const board = new ProgressBoard({ keepMs: 100, max: 2, now: () => now });
  const [a, b, c] = [new Progress(), new Progress(), new Progress()];
  board.keep("a", a);
  now = 50;
  board.keep("b", b);
  assert.equal(board.find("a"), a);
  now = 120;
  assert.equal(board.find("a"), undefined, "older than keepMs");
  assert.equal(board.find("b"), b);
  board.keep("c", c);
  board.keep("d", new Progress());
  assert.deepEqual([board.find("b"), board.find("c") === c], [undefined, true], "at most max");
});
