/**
 * trame: what a user of a real trame app waits for, from navigation to the page showing the
 * server's state, in Chromium with trame's own client, cold and from a warm pool. The app and
 * the config are those of the end-to-end tests (`tests/e2e/trame_app.py`, the trame Docker
 * image's launcher config), served by the launcher's `content`.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { join } from "node:path";
import { launchChromium, type PwContext } from "../../tests/e2e/browser.ts";
import { APP_NAME, writeImageLauncherConfig, writeTrameWww } from "../../tests/e2e/trame.ts";
import { TrameVisit } from "../../tests/e2e/trame_page.ts";
import { CHROMIUM, PLAYWRIGHT, PYTHON } from "../../tests/e2e/tools.ts";
import { type Context, interleave, verdict } from "../lib/context.ts";
import { type Launcher, type RestClient, runPvw } from "../lib/launchers.ts";
import { ms, summarize, times } from "../lib/stats.ts";
import { filled } from "./warm.ts";

/** Opens the app's page and measures until it shows the server's state. */
async function visit(browser: PwContext, launcher: Launcher, out: number[]): Promise<void> {
  const v = await TrameVisit.open(browser, `${launcher.base}/${APP_NAME}.html`);
  try {
    const { connected } = await v.connected();
    out.push(connected);
    const id = String(v.posts[0]?.answer.id);
    const d = await launcher.client.delete(id);
    if (d.status !== 200) throw new Error(`DELETE ${id} answered ${d.status}`);
  } finally {
    await v.page.close();
  }
}

/** trame. Recorded, with one target: warm is faster than cold, from navigation to connected. */
export async function trame(ctx: Context): Promise<void> {
  if (![CHROMIUM, PYTHON, PLAYWRIGHT].every((path) => existsSync(path))) {
    ctx.row({
      scenario: "trame",
      subject: "trame's client in Chromium",
      n: "0",
      p50: "–",
      p90: "–",
      p99: "–",
      compared: "needs Chromium and the trame venv (.ci/setup-extra)",
      verdict: "skipped",
    });
    return;
  }
  const root = join(ctx.root, "trame");
  await Deno.mkdir(root, { recursive: true });
  await Deno.chmod(root, 0o755);
  const www = await writeTrameWww(join(root, "www"));
  // Two launchers on the image's config, the second keeping two processes of the app warm.
  const cold = await imageLauncher(ctx, join(root, "cold"), www, 0);
  const warm = await imageLauncher(ctx, join(root, "warm"), www, 2);
  const browser = await launchChromium(join(root, "profile"));
  ctx.cleanup.defer("close Chromium", () => browser.close());
  const rounds = ctx.scale(8, 2);
  const s = { cold: [] as number[], warm: [] as number[] };
  try {
    await filled(warm, APP_NAME, 2, 60_000);
    await visit(browser, cold, []); // warm-up of Chromium and the page's files
    ctx.log(`trame: ${rounds} visits each, cold and warm`);
    await interleave(rounds, [
      { run: () => visit(browser, cold, s.cold) },
      {
        run: async () => {
          await filled(warm, APP_NAME, 1, 60_000);
          await visit(browser, warm, s.warm);
        },
      },
    ]);
  } finally {
    await browser.close();
    await cold.program.stop();
    await warm.program.stop();
  }
  const c = summarize(s.cold);
  const w = summarize(s.warm);
  const row = (subject: string, v: ReturnType<typeof summarize>) => ({
    scenario: "trame",
    subject,
    n: String(v.n),
    p50: ms(v.p50),
    p90: ms(v.p90),
    p99: ms(v.p99),
  });
  ctx.row({ ...row("navigation to connected, cold", c), compared: "the app's start" });
  ctx.row({
    ...row("navigation to connected, warm", w),
    compared: `${times(c.p50, w.p50)} faster than cold (p50)`,
    target: "warm faster than cold",
    verdict: verdict(w.p50 < c.p50),
  });
}

/** A launcher on the trame image's config in `dir`, serving `www`, with `warm` processes. */
async function imageLauncher(
  ctx: Context,
  dir: string,
  www: string,
  warm: number,
): Promise<Launcher> {
  await Deno.mkdir(dir, { mode: 0o755 });
  const configFile = await writeImageLauncherConfig(dir, www);
  const config = JSON.parse(await Deno.readTextFile(configFile));
  config.apps[APP_NAME] = { ...config.apps[APP_NAME], warm };
  await Deno.writeTextFile(configFile, JSON.stringify(config, null, 2));
  const launcher: Launcher = {
    kind: "pvw",
    dir,
    configFile,
    base: "",
    program: undefined as unknown as Launcher["program"],
    client: undefined as unknown as RestClient,
  };
  await runPvw(ctx.cleanup, launcher, `pvw-trame-${warm ? "warm" : "cold"}`);
  return launcher;
}
