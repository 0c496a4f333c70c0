/**
 * Ready lines are found even when the log folder's watch misses events: here the folder the
 * launcher watches is replaced by a new one of the same name (as a clean-up script or a
 * restore might do), so its inotify watch sees nothing of the new sessions' logs.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { specConfig, startLauncher } from "./harness.ts";

Deno.test("a session whose log the folder's watch no longer sees still becomes ready, well before its timeout", async () => {
  const launcher = await startLauncher((dir) =>
    specConfig(dir, {
      // Ready a moment after it started, when the launcher has read what it printed first.
      viz: { cmd: ["sh", "-c", "echo loading; sleep 0.3; echo Starting factory; exec sleep 600"] },
    }, { timeout: 10 })
  );
  try {
    const logs = join(launcher.dir, "logs");
    await Deno.rename(logs, join(launcher.dir, "logs.old"));
    await Deno.mkdir(logs, { mode: 0o700 });
    const started = performance.now();
    const post = await launcher.post({ application: "viz" });
    const ms = performance.now() - started;
    assert.equal(post.status, 200, JSON.stringify(post.json));
    console.log(`ready in ${Math.round(ms)} ms with a deaf watch`);
    assert.equal(
      await Deno.readTextFile(join(logs, `${post.json.id}.log`)),
      "loading\nStarting factory\n",
    );
    assert.equal(
      (await launcher.request("DELETE", `${launcher.endpoint}/${post.json.id}`)).status,
      200,
    );
  } finally {
    await launcher.stop();
    await Deno.remove(launcher.dir, { recursive: true });
  }
});
