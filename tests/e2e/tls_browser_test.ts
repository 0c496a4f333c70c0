import assert from "node:assert/strict";
import { OPENSSL, TestPki } from "../tls/pki.ts";
import { FrontDoorRig } from "../tls/support.ts";
import type { PwContext, PwPage } from "./browser.ts";
import { CERTUTIL, withChromium } from "./tls_chromium.ts";
import { CHROMIUM, Needs, PLAYWRIGHT } from "./tools.ts";

const needs = new Needs("TLS browser tests (Chromium, playwright-core, certutil, openssl)", [
  CHROMIUM,
  PLAYWRIGHT,
  CERTUTIL,
  OPENSSL,
]);

/** What playwright's `Response` says of the connection's certificate. */
interface SecureResponse {
  status(): number;
  securityDetails(): Promise<{ issuer?: string; subjectName?: string; validTo?: number } | null>;
}

/** Loads the echo page and waits for its WebSocket's first echo. */
async function visit(browser: PwContext, url: string): Promise<[PwPage, SecureResponse]> {
  const page = await browser.newPage();
  const response = await page.goto(url) as SecureResponse;
  await page.waitForFunction("document.title.startsWith('echo:')", undefined, { timeout: 10_000 });
  assert.equal(await page.evaluate<string>("document.title"), "echo:ping");
  return [page, response];
}

Deno.test({
  name: "Chromium trusting the test CA loads https and wss through the front door, across a reload",
  ignore: needs.ignore,
  async fn() {
    needs.check();
    const pki = await TestPki.create();
    const leaf = await pki.leaf();
    const rig = await FrontDoorRig.start(leaf);
    const untrusted = await FrontDoorRig.start(await pki.untrusted());
    try {
      await withChromium(pki.caFile, async (browser) => {
        const [page, response] = await visit(browser, `https://localhost:${rig.port}/page`);
        assert.equal(response.status(), 200);
        const details = await response.securityDetails();
        assert.equal(details?.issuer, "pvw test CA");
        assert.equal(details?.subjectName, "localhost");
        assert.equal(
          details?.validTo,
          Math.floor(rig.terminator.certificate.notAfter.getTime() / 1000),
        );

        const renewed = await pki.leaf({ end: new Date(Date.now() + 24 * 3600_000) });
        const info = rig.terminator.reload(renewed);
        // The open WebSocket goes on with the old certificate...
        assert.equal(await page.evaluate<string>("echo('after the reload')"), "after the reload");
        // ...and a new connection gets the new one (the other host name: Chromium would reuse
        // its open connection to localhost).
        const [, fresh] = await visit(browser, `https://127.0.0.1:${rig.port}/page`);
        const freshDetails = await fresh.securityDetails();
        assert.equal(freshDetails?.validTo, Math.floor(info.notAfter.getTime() / 1000));
        assert.notEqual(freshDetails?.validTo, details?.validTo);

        const refused = await browser.newPage();
        await assert.rejects(
          refused.goto(`https://localhost:${untrusted.port}/page`),
          /ERR_CERT_AUTHORITY_INVALID/,
        );
      });
    } finally {
      await untrusted.stop();
      await rig.stop();
      await pki.remove();
    }
  },
});

Deno.test({
  name: "Chromium without the test CA in its NSS database refuses the same front door",
  ignore: needs.ignore,
  async fn() {
    needs.check();
    const pki = await TestPki.create();
    const rig = await FrontDoorRig.start(await pki.leaf());
    try {
      await withChromium(undefined, async (browser) => {
        const page = await browser.newPage();
        await assert.rejects(
          page.goto(`https://localhost:${rig.port}/page`),
          /ERR_CERT_AUTHORITY_INVALID/,
        );
      });
    } finally {
      await rig.stop();
      await pki.remove();
    }
  },
});
