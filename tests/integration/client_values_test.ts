import assert from "node:assert/strict";
import { join } from "node:path";
import { specConfig, startLauncher } from "./harness.ts";
import { childrenOf, filesIn } from "./procfs.ts";

const READY = ["sh", "-c", "echo Starting factory; exec sleep 600", "viz", "$file"];

Deno.test("a live launcher refuses client values with C1 controls, bidi controls or lone surrogates and starts nothing", async (t) => {
  const launcher = await startLauncher((dir) => specConfig(dir, { viz: { cmd: READY } }));
  const logs = join(launcher.dir, "logs");
  try {
    const hostile: [name: string, text: string][] = [
      ["NEL (U+0085), a line break to some log readers", "report\u0085FAKE LOG LINE"],
      ["CSI (U+009B), a terminal escape", "x\u009b31m"],
      ["the first C1 control, U+0080", "\u0080"],
      ["the last C1 control, U+009F", "\u009f"],
      ["a right-to-left override (U+202E)", "invoice\u202Etxt.exe"],
      ["a left-to-right embedding (U+202A)", "a\u202Ab"],
      ["a pop directional formatting (U+202C)", "a\u202Cb"],
      ["a right-to-left isolate (U+2067)", "a\u2067b\u2069"],
      ["a first strong isolate (U+2068)", "\u2068x"],
      ["a line separator (U+2028)", "a\u2028b"],
      ["a left-to-right mark (U+200E)", "a\u200Eb"],
      ["a right-to-left mark (U+200F)", "a\u200Fb"],
      ["an Arabic letter mark (U+061C)", "a\u061Cb"],
      ["a lone high surrogate", "a\uD800b"],
      ["a lone low surrogate", "\uDC00"],
    ];
    for (const [name, text] of hostile) {
      await t.step(name, async () => {
        for (
          const body of [{ application: "viz", file: text }, { application: "viz", [text]: 1 }]
        ) {
          const res = await launcher.post(body);
          assert.equal(res.status, 400, JSON.stringify(body));
          assert.match(res.json.error as string, /control characters/);
        }
      });
    }
    await t.step("nothing was started and no log was made", async () => {
      assert.deepEqual(childrenOf(launcher.process.pid), []);
      assert.deepEqual(await filesIn(logs), []);
    });
    await t.step("plain non-ASCII text still launches", async () => {
      const res = await launcher.post({ application: "viz", file: "données-中文-🙂.vtu" });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(
        (await launcher.request("DELETE", `${launcher.endpoint}/${res.json.id}`)).status,
        200,
      );
    });
  } finally {
    await launcher.stop();
    await Deno.remove(launcher.dir, { recursive: true });
  }
});
