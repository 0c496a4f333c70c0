/**
 * Drives Debian's Chromium with playwright-core (from tests/e2e/node_modules, loaded with
 * `require` so that type checking needs no node_modules), and copies the test page and the
 * wslink browser bundle into a content folder the launcher serves.
 *
 * @module
 */

import { copyFile, mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { CHROMIUM, E2E, PLAYWRIGHT, WSLINK_JS } from "./tools.ts";

/** The part of playwright's `Response` the tests use. */
export interface PwResponse {
  status(): number;
  url(): string;
  request(): { method(): string; postData(): string | null };
  text(): Promise<string>;
}

/** The part of playwright's `WebSocket` the tests use: a frame's payload is a string (text)
 * or a Node `Buffer` (binary). */
export interface PwWebSocket {
  url(): string;
  on(
    event: "framesent" | "framereceived",
    listener: (frame: { payload: string | Uint8Array }) => void,
  ): void;
}

/** The part of playwright's `Page` the tests use. */
export interface PwPage {
  goto(url: string): Promise<unknown>;
  waitForFunction(
    expression: string,
    arg?: unknown,
    options?: { timeout: number },
  ): Promise<unknown>;
  evaluate<T>(expression: string): Promise<T>;
  click(selector: string): Promise<void>;
  screenshot(options: { path: string; fullPage?: boolean }): Promise<unknown>;
  on(event: "response", listener: (response: PwResponse) => void): void;
  on(event: "websocket", listener: (socket: PwWebSocket) => void): void;
  on(
    event: "console",
    listener: (message: { type(): string; text(): string }) => void,
  ): void;
  close(): Promise<void>;
}

/** The part of playwright's `BrowserContext` the tests use. */
export interface PwContext {
  newPage(): Promise<PwPage>;
  close(): Promise<void>;
}

interface PwChromium {
  launchPersistentContext(
    userDataDir: string,
    options: {
      executablePath: string;
      headless: boolean;
      args: string[];
      timeout: number;
      env?: Record<string, string>;
    },
  ): Promise<PwContext>;
}

/** Chromium flags that work on our headless, offline machines. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Starts headless Chromium with a fresh profile in `profileDir`; `env` replaces its
 * environment (e.g. a `HOME` whose NSS database trusts a test CA).
 */
export async function launchChromium(
  profileDir: string,
  options: { env?: Record<string, string> } = {},
): Promise<PwContext> {
  const require = createRequire(import.meta.url);
  const { chromium } = require(PLAYWRIGHT) as { chromium: PwChromium };
  return await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
    ...(options.env ? { env: options.env } : {}),
  });
}

/** Makes `dir` a content folder with the test page and the wslink bundle it loads. */
export async function makeContent(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await copyFile(join(E2E, "www/index.html"), join(dir, "index.html"));
  await copyFile(WSLINK_JS, join(dir, "wslink.js"));
  return dir;
}
