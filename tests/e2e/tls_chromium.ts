/**
 * Chromium that trusts a test CA the way a user's browser trusts a real one: the CA in the NSS
 * database of its HOME (`~/.pki/nssdb`, made with Debian's `certutil`). Certificate errors are
 * never ignored (no `ignoreHTTPSErrors`, no `--ignore-certificate-errors`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { launchChromium, type PwContext } from "./browser.ts";

/** Debian's NSS tools (`libnss3-tools`): makes the certificate database Chromium reads. */
export const CERTUTIL = "/usr/bin/certutil";

/** A HOME whose NSS database (`~/.pki/nssdb`, which Chromium reads) trusts `caFile`. */
export async function homeTrusting(caFile: string | undefined): Promise<string> {
  const home = await Deno.makeTempDir({ prefix: "pvw-home-" });
  if (caFile === undefined) return home;
  const db = `sql:${join(home, ".pki/nssdb")}`;
  await Deno.mkdir(join(home, ".pki/nssdb"), { recursive: true });
  for (
    const args of [
      ["-N", "-d", db, "--empty-password"],
      ["-A", "-d", db, "-n", "pvw test CA", "-t", "C,,", "-i", caFile],
    ]
  ) {
    const out = await new Deno.Command(CERTUTIL, { args, stdin: "null" }).output();
    assert.ok(out.success, `certutil ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return home;
}

/** Runs `fn` with Chromium whose HOME trusts `caFile` (or nothing), then closes it. */
export async function withChromium(
  caFile: string | undefined,
  fn: (browser: PwContext) => Promise<void>,
): Promise<void> {
  const home = await homeTrusting(caFile);
  const profile = await Deno.makeTempDir({ prefix: "pvw-profile-" });
  // Never ignoreHTTPSErrors: trust comes from the NSS database alone.
  const browser = await launchChromium(profile, { env: { ...Deno.env.toObject(), HOME: home } });
  try {
    await fn(browser);
  } finally {
    await browser.close();
    await Deno.remove(profile, { recursive: true });
    await Deno.remove(home, { recursive: true });
  }
}
