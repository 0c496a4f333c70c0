/**
 * A session app that floods its output: its log must stay within `max_log_size` while its
 * ready line is still found and the dashboard still shows its latest output.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { specConfig, startLauncher } from "./harness.ts";
import { until } from "./procfs.ts";

const CAP = 256 * 1024;
const FLOOD = 20_000_000;

Deno.test("an app that floods its output keeps a log within max_log_size; its ready line and latest output are kept", async (t) => {
  // 20 MB before the ready line, 20 MB after it, a last line, then quiet.
  const app = [
    "sh",
    "-c",
    `yes flood-before-the-ready-line | head -c ${FLOOD}; echo; echo Starting factory; ` +
    `yes flood-after-the-ready-line | head -c ${FLOOD}; echo; echo the-last-line; exec sleep 600`,
  ];
  const launcher = await startLauncher((dir) =>
    specConfig(dir, { flood: { cmd: app } }, {
      max_log_size: "256K",
      admin_token: "admin-0123456789abcdef",
    })
  );
  try {
    const post = await launcher.post({ application: "flood" });
    await t.step("the ready line after 20 MB of output is found", () => {
      assert.equal(post.status, 200, JSON.stringify(post.json));
    });
    const log = join(launcher.dir, "logs", `${post.json.id}.log`);
    const stat = () => Deno.statSync(log);
    const tail = () => {
      const file = Deno.openSync(log);
      try {
        const size = file.statSync().size;
        file.seekSync(Math.max(0, size - 64), Deno.SeekMode.Start);
        const buf = new Uint8Array(64);
        const n = file.readSync(buf) ?? 0;
        return new TextDecoder().decode(buf.subarray(0, n));
      } finally {
        file.close();
      }
    };
    await t.step("once the flood is over the log holds at most max_log_size", async () => {
      await until(
        () => tail().endsWith("the-last-line\n") && stat().size <= CAP,
        30_000,
        () => `the log is ${stat().size} bytes, ending ${JSON.stringify(tail())}`,
      );
      const { size, blocks } = stat();
      assert(size <= CAP, `${size} bytes`);
      assert(blocks! * 512 <= CAP + 64 * 1024, `${blocks} blocks on disk`);
      assert(size >= CAP / 4, `the newest output is kept, not all dropped: ${size} bytes`);
    });
    await t.step("the dashboard shows the latest output", async () => {
      const res = await fetch(
        `${launcher.base}/_dashboard/api/sessions/${post.json.id}/log?bytes=4096`,
        {
          headers: { authorization: "Bearer admin-0123456789abcdef" },
        },
      );
      const text = await res.text();
      assert.equal(res.status, 200);
      assert.match(text, /flood-after-the-ready-line\n[a-z-]*\nthe-last-line\n$/);
      assert.doesNotMatch(text, /\0/);
    });
    await t.step("the launcher says so, once", () => {
      const said = launcher.log.match(new RegExp(`session ${post.json.id}'s log passed`, "g")) ??
        [];
      assert.equal(said.length, 1, launcher.log);
    });
    assert.equal(
      (await launcher.request("DELETE", `${launcher.endpoint}/${post.json.id}`)).status,
      200,
    );
  } finally {
    await launcher.stop();
    await Deno.remove(launcher.dir, { recursive: true });
  }
});
