import assert from "node:assert/strict";
import { join } from "node:path";
import {
  DEMO_APP,
  type Launcher,
  specConfig,
  startLauncher,
  within,
} from "../integration/harness.ts";
import { launchChromium, type PwPage } from "./browser.ts";
import { CHROMIUM, Needs, PLAYWRIGHT, ROOT } from "./tools.ts";

const needs = new Needs("dashboard browser test (Chromium, playwright-core)", [
  CHROMIUM,
  PLAYWRIGHT,
]);

const TOKEN = `e2e-admin-${crypto.randomUUID()}`;

/** The demo app: prints a line, then `Starting factory`; echoes once sent its secret. */
const DEMO = [...DEMO_APP, "--host", "$host", "--timeout", "0"];

/** An app that fails before it is ready, as a visualization server missing its data would. */
const BROKEN = [
  "sh",
  "-c",
  "echo 'loading /data/run42/state.pvsm'; echo 'error: no such file' >&2; exit 3",
];

/** The part of playwright's `Page` this test uses besides the shared one. */
interface DashboardPage extends PwPage {
  fill(selector: string, value: string): Promise<void>;
  click(selector: string): Promise<void>;
  setViewportSize(size: { width: number; height: number }): Promise<void>;
  waitForSelector(
    selector: string,
    options: { state: "attached" | "detached" | "hidden"; timeout: number },
  ): Promise<unknown>;
}

/**
 * Waits for a selector to match (or, with "detached", to stop matching), failing with `what`
 * and the page's console. Selectors, not `waitForFunction`: the page's CSP rightly forbids the
 * `eval` that a string predicate needs, and selectors run in Playwright's own isolated world.
 */
async function until(
  page: DashboardPage,
  selector: string,
  what: string,
  log: string[],
  state: "attached" | "detached" | "hidden" = "attached",
): Promise<void> {
  try {
    await page.waitForSelector(selector, { state, timeout: 20_000 });
  } catch (err) {
    throw new Error(`${what}: ${(err as Error).message}\nconsole:\n${log.join("\n")}`);
  }
}

/** A WebSocket client of the demo app through the launcher's proxy, holding a connection. */
async function connectThroughProxy(launcher: Launcher, id: string, secret: string) {
  const socket = new WebSocket(`${launcher.base.replace("http", "ws")}/proxy/${id}`);
  const replies: string[] = [];
  const replied = () =>
    new Promise<void>((resolve) =>
      socket.addEventListener("message", () => resolve(), { once: true })
    );
  socket.addEventListener("message", (e) => replies.push(String(e.data)));
  await within(
    10_000,
    "the proxy connection",
    new Promise((r) => socket.addEventListener("open", r, { once: true })),
  );
  socket.send(secret);
  await within(10_000, "the demo app's hello", replied());
  for (let i = 0; i < 20; i++) {
    socket.send(`frame ${i} `.repeat(400));
    await within(10_000, "an echo", replied());
  }
  return {
    close: async () => {
      const closed = new Promise((r) => socket.addEventListener("close", r, { once: true }));
      socket.close();
      await within(10_000, "the proxy connection to close", closed);
    },
  };
}

Deno.test({
  name: "the dashboard in Chromium: log in, see a session appear, read its log, stop it",
  ignore: needs.ignore,
  async fn(t) {
    needs.check();
    const work = await Deno.makeTempDir({ prefix: "pvw-launcher-e2e-dashboard-" });
    const screenshots = join(work, "screenshots");
    await Deno.mkdir(screenshots);
    const launcher = await startLauncher((dir) =>
      specConfig(dir, {
        visualizer: { cmd: DEMO },
        cone: { cmd: DEMO },
        "volume-render": { cmd: BROKEN },
      }, { admin_token: TOKEN, max_session: 8 })
    );
    const browser = await launchChromium(join(work, "profile"));
    const dashboard = `${launcher.base}/_dashboard/`;
    const pageLog: string[] = [];
    let stopped = false;
    try {
      const page = (await browser.newPage()) as DashboardPage;
      page.on("console", (m) => pageLog.push(`${m.type()}: ${m.text()}`));
      await page.setViewportSize({ width: 1280, height: 800 });
      let id = "";

      await t.step("the page sends to the login form, which refuses a wrong token", async () => {
        await page.goto(dashboard);
        await until(page, "form[action=login] #token", "the login form", pageLog);
        await page.fill("#token", "not-the-admin-token");
        await page.click("button[type=submit]");
        await until(page, ".login-error", "the error", pageLog);
        await page.screenshot({ path: join(screenshots, "login-failed.png") });
      });

      await t.step(
        "the right token logs in, with a cookie the page's script cannot read",
        async () => {
          await page.fill("#token", TOKEN);
          await page.click("button[type=submit]");
          await until(page, '#conn[data-status="live"]', "live events", pageLog);
          assert.equal(await page.evaluate<string>("location.pathname"), "/_dashboard/");
          assert.equal(await page.evaluate<string>("document.cookie"), "", "HttpOnly");
        },
      );

      await t.step("a session launched by another client appears", async () => {
        const post = await launcher.post({ application: "visualizer" });
        assert.equal(post.status, 200, JSON.stringify(post.json));
        id = String(post.json.id);
        await until(
          page,
          `tr[data-id="${id}"][data-state="ready"]`,
          "the new session's row",
          pageLog,
        );
        const target = await page.evaluate<string>(
          `document.querySelector('tr[data-id="${id}"] .c-target').textContent`,
        );
        assert.match(target, /^127\.0\.0\.1:\d+$/);
      });

      await t.step("its log opens in a side panel", async () => {
        await page.click(`tr[data-id="${id}"] td.c-application`);
        await until(
          page,
          '#log:has-text("Starting factory")',
          "the log",
          pageLog,
        );
        const log = await page.evaluate<string>(`document.getElementById("log").textContent`);
        assert.match(log, /demo app listening on port \d+/);
        await page.screenshot({ path: join(screenshots, "log.png") });
        await page.click("#drawer-close");
        await until(page, "#drawer", "the panel to close", pageLog, "hidden");
      });

      await t.step("traffic, more sessions and a failed launch show up", async () => {
        const cone = await launcher.post({ application: "cone" });
        const more = await launcher.post({ application: "visualizer" });
        const broken = await launcher.post({ application: "volume-render" });
        assert.deepEqual([cone.status, more.status, broken.status], [200, 200, 503]);
        const held = await connectThroughProxy(
          launcher,
          String(cone.json.id),
          String(cone.json.secret),
        );
        try {
          for (const s of [cone, more]) {
            await until(page, `tr[data-id="${s.json.id}"]`, "the other sessions", pageLog);
          }
          await until(
            page,
            `tr[data-id="${cone.json.id}"] .c-connections:text-is("1")`,
            "the connection through the proxy",
            pageLog,
          );
          await until(page, '#failures .f-outcome:text-is("exited")', "the failure", pageLog);
          const failure = await page.evaluate<string>(
            `document.querySelector("#failures li").textContent`,
          );
          assert.match(failure, /volume-render/);
          assert.match(failure, /exited with code 3/);
          await page.screenshot({ path: join(screenshots, "dashboard.png") });
          // PVW_UPDATE_DOCS=1 refreshes the screenshot in docs/.
          if (Deno.env.get("PVW_UPDATE_DOCS") === "1") {
            await Deno.copyFile(
              join(screenshots, "dashboard.png"),
              join(ROOT, "docs/dashboard.png"),
            );
          }

          await page.setViewportSize({ width: 390, height: 844 });
          await page.screenshot({ path: join(screenshots, "phone.png"), fullPage: true });
          const widths = await page.evaluate<{ scroll: number; inner: number }>(
            "({ scroll: document.documentElement.scrollWidth, inner: innerWidth })",
          );
          assert.ok(
            widths.scroll <= widths.inner,
            `no horizontal scrolling: ${JSON.stringify(widths)}`,
          );
          await page.setViewportSize({ width: 1280, height: 800 });
        } finally {
          await held.close();
        }
        for (const other of [cone, more]) {
          assert.equal(
            (await launcher.request("DELETE", `${launcher.endpoint}/${other.json.id}`)).status,
            200,
          );
        }
        for (const s of [cone, more]) {
          await until(page, `tr[data-id="${s.json.id}"]`, "the others to go", pageLog, "detached");
        }
      });

      await t.step("its stop button, clicked twice, stops it and its row goes", async () => {
        const button = `tr[data-id="${id}"] button[data-action=stop]`;
        await page.click(button);
        assert.equal(
          await page.evaluate<string>(`document.querySelector('${button}').textContent`),
          "Confirm stop",
        );
        await page.click(button);
        await until(page, `tr[data-id="${id}"]`, "the row to go", pageLog, "detached");
        assert.equal((await launcher.request("GET", `${launcher.endpoint}/${id}`)).status, 404);
        assert.match(launcher.log, new RegExp(`session ${id} ended: stopped from the dashboard`));
        await page.screenshot({ path: join(screenshots, "stopped.png") });
      });

      await t.step(
        "the launcher shuts down at once while the page listens to its events",
        async () => {
          const status = await launcher.stop();
          stopped = true;
          assert.equal(status.code, 0, launcher.log);
        },
      );
    } finally {
      await browser.close();
      if (!stopped) await launcher.stop();
      await Deno.remove(launcher.dir, { recursive: true });
      await Deno.remove(join(work, "profile"), { recursive: true });
      console.log(`screenshots kept in ${screenshots}`);
    }
  },
});

/** An app whose page attacks the dashboard from the admin's browser (see the file). */
const HOSTILE = [
  Deno.execPath(),
  "run",
  "--allow-net",
  join(ROOT, "tests/testdata/hostile_page_app.ts"),
  "--port",
  "$port",
];

Deno.test({
  name:
    "the dashboard in Chromium: the logged login URL, and a session's page that cannot use the admin's dashboard on its own port",
  ignore: needs.ignore,
  async fn(t) {
    needs.check();
    const work = await Deno.makeTempDir({ prefix: "pvw-launcher-e2e-dashboard-" });
    // No admin_token: the launcher makes one and logs a login URL, as Jupyter does.
    const launcher = await startLauncher((dir) =>
      specConfig(dir, { visualizer: { cmd: DEMO }, hostile: { cmd: HOSTILE } }, {
        dashboard_listen: "127.0.0.1:0",
      })
    );
    const browser = await launchChromium(join(work, "profile"));
    const pageLog: string[] = [];
    try {
      const page = (await browser.newPage()) as DashboardPage;
      page.on("console", (m) => pageLog.push(`${m.type()}: ${m.text()}`));
      const [, loginUrl] = await launcher.waitForLog(
        /dashboard: log in at (http:\/\/127\.0\.0\.1:\d+\/_dashboard\/login\?token=\S+)/,
      );
      const dashboard = new URL(loginUrl).origin;
      assert.notEqual(dashboard, launcher.base, "the dashboard has a port of its own");

      await t.step("without the login URL the browser gets the login form", async () => {
        await page.goto(`${dashboard}/_dashboard/`);
        await until(page, "form[action=login] #token", "the login form", pageLog);
      });

      await t.step("the login URL from the launcher's log opens the dashboard", async () => {
        await page.goto(loginUrl);
        await until(page, '#conn[data-status="live"]', "live events", pageLog);
        assert.equal(await page.evaluate<string>("location.href"), `${dashboard}/_dashboard/`);
      });

      await t.step(
        "a session's page, opened by the admin, can neither stop a session nor read the state",
        async () => {
          const victim = await launcher.post({ application: "visualizer" });
          const hostile = await launcher.post({ application: "hostile" });
          assert.deepEqual([victim.status, hostile.status], [200, 200]);
          const attacker = (await browser.newPage()) as DashboardPage;
          attacker.on("console", (m) => pageLog.push(`hostile ${m.type()}: ${m.text()}`));
          const query = new URLSearchParams({ dashboard, victim: String(victim.json.id) });
          await attacker.goto(`${launcher.base}/proxy/${hostile.json.id}/?${query}`);
          await until(attacker, "body[data-done]", "the page's attempts", pageLog);
          const results = JSON.parse(
            await attacker.evaluate<string>("document.body.dataset.results"),
          );
          assert.deepEqual(results, {
            stop: "blocked", // the custom header needs a CORS preflight, which is refused
            stopNoCors: "status 0", // sent, but refused without the header: an opaque answer
            state: "blocked", // no CORS: the page cannot read the answer
          });
          await attacker.close();
          const still = await launcher.request("GET", `${launcher.endpoint}/${victim.json.id}`);
          assert.equal(still.status, 200, "the victim session still runs");
          assert.doesNotMatch(launcher.log, /stopped from the dashboard/);
        },
      );

      await t.step("the admin is still logged in, whatever cookies the page set", async () => {
        await page.goto(`${dashboard}/_dashboard/`);
        await until(page, '#conn[data-status="live"]', "live events after the attack", pageLog);
      });
    } finally {
      await browser.close();
      await launcher.stop();
      await Deno.remove(launcher.dir, { recursive: true });
      await Deno.remove(work, { recursive: true });
    }
  },
});
