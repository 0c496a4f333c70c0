/**
 * Warm processes with the real launcher: started at launch, handed out on POST at once,
 * replaced, adopted as warm after a SIGKILL, and all stopped at shutdown.
 */
import assert from "node:assert/strict";
import {
  type Launcher,
  processRuns,
  restartLauncher,
  specConfig,
  startLauncher,
} from "./harness.ts";

// An app that takes half a second to be ready, as real ones take seconds.
const SLOW = [
  "sh",
  "-c",
  'sleep 0.5; echo "Starting factory on $0"; exec sleep 600',
  "$port",
];

/** The warm processes that began to wait, from the launcher's log: id → pid. */
function waitingIn(launcher: Launcher): Map<string, number> {
  const found = new Map<string, number>();
  for (const m of launcher.log.matchAll(/warm process (\w+) of slow waits on \S+, pid (\d+)/g)) {
    found.set(m[1], Number(m[2]));
  }
  return found;
}

async function waitForWaiting(launcher: Launcher, n: number): Promise<Map<string, number>> {
  await launcher.waitForLog(new RegExp(`(warm process \\w+ of slow waits[^\\n]*\\n[^]*){${n}}`));
  return waitingIn(launcher);
}

Deno.test("warm processes: handed out at once, replaced, adopted after a crash, stopped at the end", async (t) => {
  const first = await startLauncher((dir) => specConfig(dir, { slow: { cmd: SLOW, warm: 2 } }));
  let second: Launcher | undefined;
  const pids = new Set<number>();
  try {
    const warm = await waitForWaiting(first, 2);
    for (const pid of warm.values()) pids.add(pid);
    let handedOut = "";
    await t.step("a POST gets a waiting process: its id, its process", async () => {
      const t0 = performance.now();
      const post = await first.post({ application: "slow" });
      const ms = performance.now() - t0;
      assert.equal(post.status, 200, JSON.stringify(post.json));
      handedOut = post.json.id as string;
      assert.ok(warm.has(handedOut), "one of the waiting processes");
      console.log(`  warm hit answered in ${ms.toFixed(1)} ms (the app takes 500 ms to start)`);
      const get = await first.request("GET", `${first.endpoint}/${handedOut}`);
      assert.equal(get.status, 200);
    });
    await t.step("a replacement starts, and /metrics counts the hit", async () => {
      const after = await waitForWaiting(first, 3);
      for (const pid of after.values()) pids.add(pid);
      const metrics = await (await fetch(`${first.base}/metrics`)).text();
      assert.match(
        metrics,
        /pvw_launcher_warm_requests_total\{application="slow",result="hit"\} 1/,
      );
      assert.match(metrics, /pvw_launcher_warm_processes\{application="slow",state="waiting"\} 2/);
    });
    await first.stop("SIGKILL");
    second = await restartLauncher(first);
    const launcher = second;
    await t.step("after a SIGKILL the next launcher adopts the waiting ones as warm", async () => {
      await launcher.waitForLog(/warm process \w+ adopted: slow/);
      const post = await launcher.post({ application: "slow" });
      assert.equal(post.status, 200);
      const id = post.json.id as string;
      assert.notEqual(id, handedOut);
      assert.ok(waitingIn(first).has(id), "a process the first launcher started");
      const session = await launcher.request("GET", `${launcher.endpoint}/${handedOut}`);
      assert.equal(session.status, 200, "the session handed out before is adopted too");
    });
    await launcher.stop("SIGTERM");
    await t.step("a clean stop leaves no process, warm or not", () => {
      for (const pid of waitingIn(launcher).values()) pids.add(pid);
      for (const pid of pids) assert.equal(processRuns(pid), false, `pid ${pid} still runs`);
    });
  } finally {
    await second?.stop();
    await first.stop();
    await Deno.remove(first.dir, { recursive: true });
  }
});
