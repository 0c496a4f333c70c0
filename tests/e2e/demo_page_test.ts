import assert from "node:assert/strict";
import { join } from "node:path";
import { type Launcher, launchOn } from "../integration/harness.ts";
import { launchChromium } from "./browser.ts";
import { CHROMIUM, Needs, PLAYWRIGHT, ROOT } from "./tools.ts";

const needs = new Needs("demo page test (Chromium, playwright-core)", [CHROMIUM, PLAYWRIGHT]);

/** The shipped demo config, copied into `dir` with its relative paths made absolute. */
async function demoConfig(dir: string): Promise<string> {
  const examples = join(ROOT, "examples");
  const text = (await Deno.readTextFile(join(examples, "launcher.config")))
    .replace('"dir": "."', `"dir": ${JSON.stringify(examples)}`)
    .replace('"content": "www"', `"content": ${JSON.stringify(join(examples, "www"))}`);
  const file = join(dir, "launcher.config");
  await Deno.writeTextFile(file, text);
  return file;
}

Deno.test({
  name: "the demo page starts a session, echoes through the built-in proxy, and stops it",
  ignore: needs.ignore,
  async fn() {
    needs.check();
    const dir = await Deno.makeTempDir({ prefix: "pvw-launcher-demo-" });
    let launcher: Launcher | undefined;
    const browser = await launchChromium(join(dir, "profile"));
    try {
      // Its logs go to the default folder, in the state folder systemd would give it.
      launcher = await launchOn(dir, await demoConfig(dir), [], {
        env: { STATE_DIRECTORY: join(dir, "state") },
      });
      const page = await browser.newPage();
      await page.goto(`${launcher.base}/`);
      const text = (id: string) =>
        page.evaluate<string>(`document.getElementById("${id}").textContent`);
      await page.evaluate(`document.getElementById("start").click()`);
      await page.waitForFunction(
        `document.getElementById("status").textContent === "connected"`,
        undefined,
        {
          timeout: 20_000,
        },
      );
      const id = await text("id");
      assert.match(id, /^[a-z2-7]{26}$/);
      assert.match(await text("target"), /^127\.0\.0\.1:\d+ \(pid \d+\)$/);
      assert.match(await text("echo"), /^\d+\.\d+ ms$/);
      assert.match(await text("url"), new RegExp(`/proxy/${id}$`));
      const steps = await text("log");
      assert.match(steps, new RegExp(`session ${id} accepted`), "the POST did not wait");
      assert.match(steps, /starting at localhost:\d+/, "the start's progress, from its events");
      assert.match(steps, new RegExp(`session ${id} ready`));
      const get = await launcher.request("GET", `${launcher.endpoint}/${id}`);
      assert.equal(
        (get.json.proxy as Record<string, number>).connections,
        1,
        "the page is connected through the proxy",
      );
      await page.screenshot({ path: join(dir, "demo.png") });
      // PVW_UPDATE_DOCS=1 refreshes the README's screenshot.
      if (Deno.env.get("PVW_UPDATE_DOCS") === "1") {
        await Deno.copyFile(join(dir, "demo.png"), join(ROOT, "docs", "demo.png"));
      }
      await page.evaluate(`document.getElementById("stop").click()`);
      await page.waitForFunction(
        `document.getElementById("status").textContent === "disconnected"`,
        undefined,
        {
          timeout: 20_000,
        },
      );
      assert.equal((await launcher.request("GET", `${launcher.endpoint}/${id}`)).status, 404);
      console.log(`screenshot: ${join(dir, "demo.png")}`);
    } finally {
      await browser.close();
      await launcher?.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
