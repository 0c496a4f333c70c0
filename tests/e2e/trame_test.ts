import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type Launcher, launchOn, mapLines, processRuns } from "../integration/harness.ts";
import { childrenOf, until } from "../integration/procfs.ts";
import { Apache } from "./apache.ts";
import { launchChromium, type PwContext } from "./browser.ts";
import {
  APP_NAME,
  imageHttpdConf,
  imageMapFile,
  TRAME_APP,
  tramePackages,
  writeImageLauncherConfig,
  writeTrameWww,
} from "./trame.ts";
import { TrameVisit } from "./trame_page.ts";
import { APACHE, APACHE_MODULES, CHROMIUM, Needs, PLAYWRIGHT, PYTHON } from "./tools.ts";

const needs = new Needs("trame tests (trame in .venv, Chromium, playwright-core)", [
  PYTHON,
  TRAME_APP,
  ...tramePackages(),
  CHROMIUM,
  PLAYWRIGHT,
]);
const apacheNeeds = new Needs("trame behind Apache", [
  APACHE,
  join(APACHE_MODULES, "mod_proxy_wstunnel.so"),
]);

/** How the browser reaches the deployment. */
interface Front {
  /** Its name in the printed figures. */
  label: string;
  /** The page the user opens. */
  page: string;
  /** `http://host:port` the browser talks to. */
  origin: string;
  /** The application the page's `data-app-name` names. */
  application: string;
}

/** The session the client started, from the launcher's answer to its POST. */
interface Started {
  visit: TrameVisit;
  id: string;
}

/**
 * The user's whole visit: trame's client starts a session and connects, a click round-trips
 * through the server, and a DELETE of the session (sent where the browser sends its POST)
 * stops the app.
 */
async function visitAndStop(
  t: Deno.TestContext,
  browser: PwContext,
  launcher: Launcher,
  front: Front,
): Promise<void> {
  let started: Started | undefined;
  try {
    await t.step(`trame's client starts a session and connects (${front.label})`, async () => {
      started = await connect(browser, front);
    });
    if (!started) return;
    const { visit, id } = started;

    await t.step("a click runs on the server and its new state comes back", async () => {
      const ms = [await visit.increment(1), await visit.increment(2)];
      const log = join(launcher.dir, "logs", `${id}.log`);
      await until(
        () => /count is now 1\n[^]*count is now 2\n/.test(readOrEmpty(log)),
        10_000,
        () => `the session log ${log} to show both clicks: ${readOrEmpty(log)}`,
      );
      console.log(`  ${front.label}: click to new state ${ms.map(Math.round).join(", ")} ms`);
    });

    await t.step("DELETE of the session stops the app: no process left", async () => {
      const pid = await visit.pid();
      assert.ok(childrenOf(launcher.process.pid).includes(pid), "the page shows the app's pid");
      const res = await fetch(`${front.origin}/paraview/${id}`, { method: "DELETE" });
      const answer = await res.json();
      assert.equal(res.status, 200, JSON.stringify(answer));
      assert.equal(answer.id, id);
      // Gone and reaped: the launcher has no child left, not even a zombie.
      await until(
        () => !processRuns(pid) && childrenOf(launcher.process.pid).length === 0,
        15_000,
        () => `trame app ${pid} to exit; launcher children: ${childrenOf(launcher.process.pid)}`,
      );
      const mapFile = imageMapFile(launcher.dir);
      assert.deepEqual((await mapLines(mapFile)).filter((l) => l.startsWith(`${id} `)), []);
    });
  } finally {
    await started?.visit.page.close();
  }
}

/** Opens the page, waits until it shows the server's state, and checks what the client did. */
async function connect(browser: PwContext, front: Front): Promise<Started> {
  const visit = await TrameVisit.open(browser, front.page);
  const timings = await visit.connected();
  console.log(
    `  ${front.label}: launcher answered ${Math.round(timings.answered)} ms, ` +
      `connected ${Math.round(timings.connected)} ms after navigation`,
  );
  assert.equal(visit.posts.length, 1, await visit.describe());
  const [post] = visit.posts;
  assert.equal(post.url, `${front.origin}/paraview/`);
  assert.equal(post.status, 200);
  assert.equal(post.sent.application, front.application);
  assert.equal(post.sent.useUrl, true);
  const id = String(post.answer.id);
  assert.equal(post.answer.sessionURL, `ws://USE_HOST/proxy?sessionId=${id}&path=ws`);
  // trame's client lower-cases the whole sessionURL before it puts in the page's host.
  const host = new URL(front.origin).host;
  assert.deepEqual(visit.sockets, [`ws://${host}/proxy?sessionid=${id.toLowerCase()}&path=ws`]);
  return { visit, id };
}

function readOrEmpty(file: string): string {
  return existsSync(file) ? Deno.readTextFileSync(file) : "";
}

/** A launcher on the trame image's config, Chromium, and a work folder; cleaned up after. */
async function withDeployment(
  prefix: string,
  serveContent: boolean,
  body: (launcher: Launcher, browser: PwContext, work: string, www: string) => Promise<void>,
): Promise<void> {
  const work = await Deno.makeTempDir({ prefix });
  // As root, Apache's children run as www-data: they must read the web client and the map file.
  await Deno.chmod(work, 0o755);
  const www = await writeTrameWww(join(work, "www"));
  const dir = join(work, "launcher");
  await Deno.mkdir(dir, { mode: 0o755 });
  const config = await writeImageLauncherConfig(dir, serveContent ? www : undefined);
  const launcher = await launchOn(dir, config);
  let browser: PwContext | undefined;
  try {
    browser = await launchChromium(join(work, "profile"));
    await body(launcher, browser, work, www);
  } finally {
    await browser?.close();
    await launcher.stop();
    await Deno.remove(work, { recursive: true });
  }
}

Deno.test({
  name: "trame's own client, served by the launcher's content, connects through the built-in proxy",
  ignore: needs.ignore,
  fn: async (t) => {
    needs.check();
    await withDeployment("pvw-launcher-e2e-trame-", true, async (launcher, browser) => {
      await visitAndStop(t, browser, launcher, {
        label: "built-in proxy",
        page: `${launcher.base}/`,
        origin: launcher.base,
        application: "trame",
      });
    });
  },
});

Deno.test({
  name: "trame's own client connects behind Apache with the trame image's 001-trame.conf",
  ignore: needs.ignore || apacheNeeds.ignore,
  fn: async (t) => {
    needs.check();
    apacheNeeds.check();
    await withDeployment(
      "pvw-launcher-e2e-trame-apache-",
      false,
      async (launcher, browser, work, www) => {
        const dir = join(work, "apache");
        await Deno.mkdir(dir);
        const apache = await Apache.startSite(dir, (port) =>
          imageHttpdConf(dir, port, {
            www,
            logs: dir,
            launcher: launcher.base,
            mapFile: imageMapFile(launcher.dir),
          }));
        try {
          await visitAndStop(t, browser, launcher, {
            label: "Apache, 001-trame.conf",
            page: `${apache.base}/${APP_NAME}.html`,
            origin: apache.base,
            application: APP_NAME,
          });
        } catch (err) {
          throw new Error(`${(err as Error).message}\n${await apache.errors()}`);
        } finally {
          await apache.stop();
        }
      },
    );
  },
});
