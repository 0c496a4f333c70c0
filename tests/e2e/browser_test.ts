import assert from "node:assert/strict";
import { join } from "node:path";
import { type Launcher, startLauncher, within } from "../integration/harness.ts";
import { launchChromium, makeContent, type PwPage } from "./browser.ts";
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

const needs = new Needs(
  "browser tests (Chromium, playwright-core, wslink client and server)",
  [
    CHROMIUM,
    PLAYWRIGHT,
    WSLINK_JS,
    PYTHON,
    WSLINK_APP,
  ],
);

/** The authKey of the `fixedkey` app, set by the admin: the secret a client gets won't match. */
const ADMIN_KEY = "admin-chosen-key";

/** One page load: what the page's state became, and every POST answer it got. */
class Visit {
  readonly posts: number[] = [];
  readonly console: string[] = [];
  #onPost = () => {};

  constructor(readonly page: PwPage) {
    page.on("response", (response) => {
      if (response.request().method() !== "POST") return;
      this.posts.push(response.status());
      this.#onPost();
    });
    page.on(
      "console",
      (message) => this.console.push(`${message.type()}: ${message.text()}`),
    );
  }

  /** Waits until the page's `window.e2e.phase` is `phase`; fails with what the page logged. */
  async phase(phase: string, ms = 20_000): Promise<Record<string, unknown>> {
    try {
      await this.page.waitForFunction(
        `window.e2e && window.e2e.phase === ${JSON.stringify(phase)}`,
        undefined,
        {
          timeout: ms,
        },
      );
    } catch (err) {
      const state = await this.page.evaluate("JSON.stringify(window.e2e)")
        .catch(() => "?");
      throw new Error(
        `page never reached phase ${phase}: ${(err as Error).message}\nstate: ${state}\n` +
          `console:\n${this.console.join("\n")}`,
      );
    }
    return JSON.parse(
      await this.page.evaluate<string>("JSON.stringify(window.e2e)"),
    );
  }

  /** Waits until the page got a POST answer with this status. */
  async post(status: number, ms = 20_000): Promise<void> {
    await within(
      ms,
      `a POST answered ${status}`,
      new Promise<void>((resolve) => {
        this.#onPost = () => this.posts.includes(status) && resolve();
        this.#onPost();
      }),
    );
  }
}

async function deleteSession(launcher: Launcher, id: unknown): Promise<void> {
  assert.equal(typeof id, "string", "the page knows its session id");
  const stop = await launcher.request("DELETE", `${launcher.endpoint}/${id}`);
  assert.equal(stop.status, 200, JSON.stringify(stop.json));
}

Deno.test({
  name:
    "the wslink SmartConnect client in Chromium launches, connects through the proxy and calls an RPC",
  ignore: needs.ignore,
  fn: async (t) => {
    needs.check();
    // The page, Chromium's profile and the screenshots; only the screenshots are kept.
    const work = await Deno.makeTempDir({
      prefix: "pvw-launcher-e2e-browser-",
    });
    const screenshots = join(work, "screenshots");
    const content = await makeContent(join(work, "www"));
    const launcher = await startLauncher((dir) =>
      wslinkConfig(dir, {
        content,
        maxSession: 1,
        apps: {
          wslink: { cmd: wslinkCmd(), ready_line: "Starting factory" },
          fixedkey: {
            cmd: wslinkCmd("${admin_key}"),
            ready_line: "Starting factory",
          },
        },
        properties: { admin_key: ADMIN_KEY },
      })
    );
    const browser = await launchChromium(join(work, "profile"));
    const open = async (query = "") => {
      const visit = new Visit(await browser.newPage());
      await visit.page.goto(`${launcher.base}/index.html${query}`);
      return visit;
    };
    try {
      await t.step(
        "POST, connect via sessionURL through /proxy, hello with the secret, test.add = 3; DELETE closes it",
        async () => {
          const visit = await open();
          const ready = await visit.phase("ready");
          assert.equal(ready.result, 3);
          assert.deepEqual(visit.posts, [200]);
          const url = await visit.page.evaluate<string>(
            "document.getElementById('session').textContent",
          );
          assert.ok(
            url.endsWith(
              `\nws://${new URL(launcher.base).host}/proxy?sessionId=${ready.sessionId}&path=ws`,
            ),
            url,
          );
          await visit.page.screenshot({
            path: join(screenshots, "ready.png"),
            fullPage: true,
          });
          await deleteSession(launcher, ready.sessionId);
          const closed = await visit.phase("closed");
          assert.equal(
            typeof (closed.close as { code: number }).code,
            "number",
          );
          await visit.page.screenshot({
            path: join(screenshots, "closed.png"),
            fullPage: true,
          });
          await visit.page.close();
        },
      );

      await t.step(
        "the page's query parameters survive the redirect of / to index.html",
        async () => {
          const visit = new Visit(await browser.newPage());
          await visit.page.goto(`${launcher.base}/?application=nosuchapp`);
          const failed = await visit.phase("error");
          assert.match(failed.error as string, /nosuchapp/);
          await visit.page.close();
        },
      );

      await t.step(
        "a secret the server does not accept is refused (Authentication failed)",
        async () => {
          const visit = await open("?application=fixedkey");
          const failed = await visit.phase("error");
          assert.match(failed.error as string, /Authentication failed/);
          assert.equal(failed.result, null);
          await visit.page.screenshot({
            path: join(screenshots, "refused.png"),
            fullPage: true,
          });
          await deleteSession(launcher, failed.sessionId);
          await visit.page.close();
        },
      );

      await t.step(
        "a 503 (max_session reached) is retried per launcherRetry and succeeds once a slot frees",
        async () => {
          const held = await launcher.post({ application: "wslink" });
          assert.equal(held.status, 200);
          const visit = await open("?launcherRetry=200,400,800,1600,3200,6400");
          await visit.post(503);
          await deleteSession(launcher, held.json.id);
          const ready = await visit.phase("ready");
          assert.equal(ready.result, 3);
          assert.equal(visit.posts[0], 503);
          assert.equal(visit.posts.at(-1), 200);
          await deleteSession(launcher, ready.sessionId);
          await visit.phase("closed");
          await visit.page.close();
        },
      );
    } finally {
      await browser.close();
      await launcher.stop();
      await Deno.remove(launcher.dir, { recursive: true });
      for (const name of ["www", "profile"]) {
        await Deno.remove(join(work, name), { recursive: true });
      }
      console.log(`screenshots kept in ${screenshots}`);
    }
  },
});
