import assert from "node:assert/strict";
import { join } from "node:path";
import { type Launcher, startLauncher, within } from "../integration/harness.ts";
import { decode, type Packable } from "./msgpack.ts";
import { launchChromium, makeContent, type PwContext, type PwPage } from "./browser.ts";
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

const needs = new Needs("browser tests (Chromium, playwright-core, wslink client and server)", [
  CHROMIUM,
  PLAYWRIGHT,
  WSLINK_JS,
  PYTHON,
  WSLINK_APP,
]);

/** The authKey of the `fixedkey` app, set by the admin: the secret a client gets won't match. */
const ADMIN_KEY = "admin-chosen-key";

/** The page's `window.e2e`. */
interface PageState {
  phase: "starting" | "ready" | "error" | "closed";
  sessionId: string | null;
  result: number | null;
  error: string | null;
  close: { code: number; reason: string; wasClean: boolean } | null;
}

/** One page load: its state, the status of every POST it made, and its console. */
class Visit {
  readonly posts: number[] = [];
  readonly console: string[] = [];
  /** The frames the page's WebSockets sent: strings for text frames. */
  readonly sent: (string | Uint8Array)[] = [];
  #onPost = () => {};

  private constructor(readonly page: PwPage) {
    page.on("response", (response) => {
      if (response.request().method() !== "POST") return;
      this.posts.push(response.status());
      this.#onPost();
    });
    page.on("console", (message) => this.console.push(`${message.type()}: ${message.text()}`));
    page.on("websocket", (socket) => {
      socket.on("framesent", ({ payload }) => this.sent.push(payload));
    });
  }

  static async open(browser: PwContext, url: string): Promise<Visit> {
    const visit = new Visit(await browser.newPage());
    await visit.page.goto(url);
    return visit;
  }

  /** The page's state now. */
  async state(): Promise<PageState> {
    return JSON.parse(await this.page.evaluate<string>("JSON.stringify(window.e2e)"));
  }

  /** Waits until the page's phase is one of `phases`; fails with what the page logged. */
  async phase(...phases: PageState["phase"][]): Promise<PageState> {
    try {
      await this.page.waitForFunction(
        `window.e2e && ${JSON.stringify(phases)}.includes(window.e2e.phase)`,
        undefined,
        { timeout: 20_000 },
      );
    } catch (err) {
      const state = await this.page.evaluate("JSON.stringify(window.e2e)").catch(() => "?");
      throw new Error(
        `the page never reached ${phases.join(" or ")}: ${(err as Error).message}\n` +
          `state: ${state}\nconsole:\n${this.console.join("\n")}`,
      );
    }
    return await this.state();
  }

  /** Waits until one of the page's POSTs was answered with `status`. */
  async post(status: number): Promise<void> {
    await within(
      20_000,
      `a POST answered ${status}`,
      new Promise<void>((resolve) => {
        this.#onPost = () => this.posts.includes(status) && resolve();
        this.#onPost();
      }),
    );
  }

  async screenshot(dir: string, name: string): Promise<void> {
    await this.page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
  }
}

/** The message in a single-frame wslink message: a 12-byte header, then msgpack. */
function unframe(frame: Uint8Array): Packable {
  const size = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(8, true);
  assert.equal(size, frame.length - 12, "one frame holds the whole message");
  return decode(frame.subarray(12));
}

async function deleteSession(launcher: Launcher, id: unknown): Promise<void> {
  assert.equal(typeof id, "string", "a session id");
  const stop = await launcher.request("DELETE", `${launcher.endpoint}/${id}`);
  assert.equal(stop.status, 200, JSON.stringify(stop.json));
}

Deno.test({
  name:
    "the wslink SmartConnect client in Chromium starts a session and calls its RPC via the proxy",
  ignore: needs.ignore,
  fn: async (t) => {
    needs.check();
    // The page's files, Chromium's profile, and the screenshots (which are kept).
    const work = await Deno.makeTempDir({ prefix: "pvw-launcher-e2e-browser-" });
    const screenshots = join(work, "screenshots");
    const content = await makeContent(join(work, "www"));
    const launcher = await startLauncher((dir) =>
      wslinkConfig(dir, {
        content,
        maxSession: 1,
        apps: {
          wslink: { cmd: wslinkCmd(), ready_line: "Starting factory" },
          fixedkey: { cmd: wslinkCmd("${admin_key}"), ready_line: "Starting factory" },
        },
        properties: { admin_key: ADMIN_KEY },
      })
    );
    const browser = await launchChromium(join(work, "profile"));
    const page = `${launcher.base}/index.html`;
    try {
      const visit = await Visit.open(browser, page);
      let ready: PageState | undefined;

      await t.step(
        "POST, sessionURL through /proxy, wslink.hello with the secret, test.add = 3",
        async () => {
          ready = await visit.phase("ready", "error");
          assert.equal(ready.error, null);
          assert.equal(ready.result, 3);
          assert.deepEqual(visit.posts, [200]);
          const shown = await visit.page.evaluate<string>(
            "document.getElementById('session').textContent",
          );
          const host = new URL(launcher.base).host;
          assert.equal(
            shown.split("\n")[1],
            `ws://${host}/proxy?sessionId=${ready.sessionId}&path=ws`,
          );
          await visit.screenshot(screenshots, "ready");
        },
      );

      await t.step(
        "the client sent msgpack binary frames only, the first a wslink.hello with the secret",
        async () => {
          const secret = await visit.page.evaluate<string>(
            "window.smartConnect.getConfig().secret",
          );
          assert.ok(visit.sent.length >= 2, `${visit.sent.length} frames sent`);
          assert.ok(visit.sent.every((frame) => typeof frame !== "string"), "no text frame");
          const [hello, call] = visit.sent.map((frame) => unframe(frame as Uint8Array));
          assert.deepEqual(hello, {
            wslink: "1.0",
            id: "system:c0:0",
            method: "wslink.hello",
            args: [{ secret }],
            kwargs: {},
          });
          assert.deepEqual((call as { method: string; args: number[] }).method, "test.add");
        },
      );

      await t.step("after DELETE of its session the page sees its connection close", async () => {
        await deleteSession(launcher, ready?.sessionId);
        const closed = await visit.phase("closed");
        assert.equal(typeof closed.close?.code, "number");
        await visit.screenshot(screenshots, "closed");
        await visit.page.close();
      });

      await t.step(
        "a secret the server does not accept is refused (Authentication failed)",
        async () => {
          const refused = await Visit.open(browser, `${page}?application=fixedkey`);
          const state = await refused.phase("ready", "error");
          if (state.sessionId) await deleteSession(launcher, state.sessionId);
          assert.match(String(state.error), /Authentication failed/);
          assert.equal(state.result, null);
          await refused.screenshot(screenshots, "refused");
          await refused.page.close();
        },
      );

      await t.step(
        "a 503 is retried per launcherRetry, and succeeds once a slot frees",
        async () => {
          const held = await launcher.post({ application: "wslink" });
          assert.equal(held.status, 200);
          const retried = await Visit.open(browser, `${page}?launcherRetry=200,400,800,1600,3200`);
          await retried.post(503);
          await deleteSession(launcher, held.json.id);
          const state = await retried.phase("ready", "error");
          if (state.sessionId) await deleteSession(launcher, state.sessionId);
          assert.equal(state.result, 3);
          assert.equal(retried.posts[0], 503);
          assert.equal(retried.posts.at(-1), 200);
          await retried.page.close();
        },
      );

      await t.step(
        "the page's query parameters survive the redirect of / to index.html",
        async () => {
          const redirected = await Visit.open(browser, `${launcher.base}/?application=nosuchapp`);
          const state = await redirected.phase("ready", "error");
          // Had the query been dropped, the default app would now hold the only slot.
          if (state.sessionId) await deleteSession(launcher, state.sessionId);
          assert.match(String(state.error), /nosuchapp/);
          await redirected.page.close();
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
