/**
 * The real browser clients against a launcher that serves HTTPS itself, in Chromium that
 * trusts the test CA (errors never ignored): wslink's `SmartConnect` (the npm package's
 * bundle, on the test page) and trame's own client (its `www`, with the trame image's launcher
 * config). Each page is loaded over `https://`, POSTs to the launcher, and connects through
 * `wss://` on the built-in proxy: a `ws://` sessionURL would be blocked as mixed content.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type Launcher, launchOn, startLauncher } from "../integration/harness.ts";
import { OPENSSL, type TestPair, TestPki } from "../tls/pki.ts";
import type { PwContext } from "./browser.ts";
import { makeContent } from "./browser.ts";
import { CERTUTIL, withChromium } from "./tls_chromium.ts";
import { TRAME_APP, tramePackages, writeImageLauncherConfig, writeTrameWww } from "./trame.ts";
import { TrameVisit } from "./trame_page.ts";
import {
  CHROMIUM,
  Needs,
  PLAYWRIGHT,
  PYTHON,
  WSLINK_APP,
  WSLINK_JS,
  wslinkCmd,
  wslinkConfig,
} from "./tools.ts";

const BROWSER = [CHROMIUM, PLAYWRIGHT, CERTUTIL, OPENSSL];
const wslinkNeeds = new Needs("wslink SmartConnect over TLS (Chromium, certutil, wslink)", [
  ...BROWSER,
  WSLINK_JS,
  PYTHON,
  WSLINK_APP,
]);
const trameNeeds = new Needs("trame's client over TLS (Chromium, certutil, trame in .venv)", [
  ...BROWSER,
  PYTHON,
  TRAME_APP,
  ...tramePackages(),
]);

/** What the test page (tests/e2e/www/index.html) says once SmartConnect is done. */
interface PageState {
  phase: string;
  sessionId: string | null;
  result: number | null;
  error: string | null;
}

/** Gives a launcher's config the pair, in its `configuration` (the wslink format). */
async function withPair(configFile: string, pair: TestPair): Promise<void> {
  const config = JSON.parse(await Deno.readTextFile(configFile));
  config.configuration.tls_cert = pair.certFile;
  config.configuration.tls_key = pair.keyFile;
  await Deno.writeTextFile(configFile, JSON.stringify(config, null, 2));
}

/** Stops the launcher and removes its folder. */
async function stop(launcher: Launcher): Promise<void> {
  launcher.client?.close();
  await launcher.stop();
  await Deno.remove(launcher.dir, { recursive: true });
}

/** Loads the SmartConnect test page over https and waits until it is connected or failed. */
async function smartConnect(browser: PwContext, url: string) {
  const page = await browser.newPage();
  const console: string[] = [];
  const sockets: string[] = [];
  page.on("console", (m) => console.push(`${m.type()}: ${m.text()}`));
  page.on("websocket", (ws) => sockets.push(ws.url()));
  await page.goto(url);
  try {
    await page.waitForFunction(
      `window.e2e && ["ready", "error"].includes(window.e2e.phase)`,
      undefined,
      { timeout: 20_000 },
    );
  } catch (err) {
    throw new Error(`the page never connected: ${(err as Error).message}\n${console.join("\n")}`);
  }
  const state: PageState = JSON.parse(await page.evaluate<string>("JSON.stringify(window.e2e)"));
  const shown = await page.evaluate<string>("document.getElementById('session').textContent");
  return { page, state, shown, sockets, console };
}

Deno.test({
  name:
    "wslink's SmartConnect in Chromium connects over https and wss:// through the built-in proxy",
  ignore: wslinkNeeds.ignore,
  async fn() {
    wslinkNeeds.check();
    const pki = await TestPki.create();
    const work = await Deno.makeTempDir({ prefix: "pvw-launcher-e2e-tls-wslink-" });
    const content = await makeContent(join(work, "www"));
    const pair = await pki.leaf();
    const launcher = await startLauncher((dir) => {
      const config = wslinkConfig(dir, {
        content,
        apps: { wslink: { cmd: wslinkCmd(), ready_line: "Starting factory" } },
      });
      Object.assign(config.configuration as object, {
        tls_cert: pair.certFile,
        tls_key: pair.keyFile,
      });
      return config;
    });
    launcher.client = Deno.createHttpClient({ caCerts: [pki.ca] });
    try {
      assert.match(launcher.base, /^https:/);
      const origin = launcher.base.replace("127.0.0.1", "localhost");
      await withChromium(pki.caFile, async (browser) => {
        const visit = await smartConnect(browser, `${origin}/index.html`);
        assert.equal(visit.state.error, null, visit.console.join("\n"));
        assert.equal(visit.state.phase, "ready");
        assert.equal(visit.state.result, 3, "test.add(1, 2) through the proxy");
        const id = visit.state.sessionId;
        const url = `wss://${new URL(origin).host}/proxy?sessionId=${id}&path=ws`;
        assert.equal(visit.shown.split("\n")[1], url);
        assert.deepEqual(visit.sockets, [url]);
        assert.doesNotMatch(visit.console.join("\n"), /Mixed Content|ERR_CERT/);
        const stopped = await launcher.request("DELETE", `${launcher.endpoint}/${id}`);
        assert.equal(stopped.status, 200);
        await visit.page.close();
      });
    } finally {
      await stop(launcher);
      await Deno.remove(work, { recursive: true });
      await pki.remove();
    }
  },
});

Deno.test({
  name: "trame's own client in Chromium connects over https and wss:// through the built-in proxy",
  ignore: trameNeeds.ignore,
  async fn() {
    trameNeeds.check();
    const pki = await TestPki.create();
    const work = await Deno.makeTempDir({ prefix: "pvw-launcher-e2e-tls-trame-" });
    const www = await writeTrameWww(join(work, "www"));
    const dir = join(work, "launcher");
    await Deno.mkdir(dir, { mode: 0o755 });
    const configFile = await writeImageLauncherConfig(dir, www);
    await withPair(configFile, await pki.leaf());
    const launcher = await launchOn(dir, configFile);
    launcher.client = Deno.createHttpClient({ caCerts: [pki.ca] });
    try {
      assert.match(launcher.base, /^https:/);
      await withChromium(pki.caFile, async (browser) => {
        const visit = await TrameVisit.open(browser, `${launcher.base}/`);
        try {
          await visit.connected();
          assert.equal(visit.posts.length, 1, await visit.describe());
          const [post] = visit.posts;
          assert.equal(post.url, `${launcher.base}/paraview/`);
          assert.equal(post.status, 200);
          const id = String(post.answer.id);
          assert.equal(post.answer.sessionURL, `wss://USE_HOST/proxy?sessionId=${id}&path=ws`);
          const host = new URL(launcher.base).host;
          const socket = `wss://${host}/proxy?sessionid=${id.toLowerCase()}&path=ws`;
          assert.deepEqual(visit.sockets, [socket]);
          await visit.increment(1); // a round trip through the server
          assert.doesNotMatch(visit.console.join("\n"), /Mixed Content|ERR_CERT/);
          const stopped = await launcher.request("DELETE", `${launcher.endpoint}/${id}`);
          assert.equal(stopped.status, 200);
        } finally {
          await visit.page.close();
        }
      });
    } finally {
      await stop(launcher);
      await Deno.remove(work, { recursive: true });
      await pki.remove();
    }
  },
});
