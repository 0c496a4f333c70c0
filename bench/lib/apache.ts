/**
 * Debian's Apache httpd (mpm_event, mod_proxy_wstunnel) in the foreground on a loopback
 * port, configured by our example vhost `examples/apache/pvw-launcher.conf`, routing by the
 * launcher's map file: the deployment the built-in proxy is compared with. Logging is at
 * `warn`, as in production (the e2e tests trace mod_rewrite; that would slow it down).
 *
 * @module
 */

import { join } from "node:path";
import { httpdConf } from "../../tests/e2e/apache.ts";
import type { Cleanup } from "./cleanup.ts";
import { freePort } from "./ports.ts";
import { Program } from "./program.ts";

/** A running Apache. */
export interface Apache {
  /** `http://127.0.0.1:<port>`. */
  base: string;
  /** Its program. */
  program: Program;
}

/**
 * Starts Apache in `dir` and waits until it serves.
 *
 * @param apache the httpd binary
 * @param mapFile the launcher's map file
 * @param launcher where the launcher listens, `http://host:port`
 */
export async function startApache(
  cleanup: Cleanup,
  apache: string,
  dir: string,
  mapFile: string,
  launcher: string,
): Promise<Apache> {
  const port = freePort();
  const conf = join(dir, "httpd.conf");
  await Deno.writeTextFile(
    conf,
    httpdConf(dir, port, { mapFile, launcher, endpoint: "/paraview" }, "warn"),
  );
  const program = Program.start(
    cleanup,
    "apache",
    [apache, "-d", dir, "-f", conf, "-DFOREGROUND"],
    {
      env: { LANG: "C" },
      stopSignal: "SIGTERM",
      stopGraceMs: 10_000,
    },
  );
  const base = `http://127.0.0.1:${port}`;
  const end = performance.now() + 20_000;
  for (;;) {
    const ok = await fetch(base + "/proxy?sessionId=none&path=ws").then(async (r) => {
      await r.body?.cancel();
      return true;
    }, () => false);
    if (ok) break;
    if (performance.now() > end) {
      const log = await Deno.readTextFile(join(dir, "error.log")).catch(() => "");
      throw new Error(`apache does not serve:\n${program.tail()}\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { base, program };
}
