/**
 * One visit of a trame page in Chromium: what trame's own client does (its POST to the
 * launcher and the answer, the WebSockets it opens, what it logs) and what the page shows.
 *
 * @module
 */

import { within } from "../integration/harness.ts";
import type { PwContext, PwPage } from "./browser.ts";

/** A POST the page made: what it sent and what it got. */
export interface TramePost {
  url: string;
  status: number;
  sent: Record<string, unknown>;
  answer: Record<string, unknown>;
}

/** How long the page took, in ms after navigation started. */
export interface Timings {
  /** The launcher's answer to the client's POST arrived. */
  answered: number;
  /** The page shows the server's state: the client is connected. */
  connected: number;
}

/** Chromium's console line when a WebSocket handshake fails (404, 400, 502...). */
const WS_FAILED = /WebSocket connection to .* failed/;

/** One page load of a trame client. */
export class TrameVisit {
  readonly posts: TramePost[] = [];
  readonly sockets: string[] = [];
  readonly console: string[] = [];
  #started = 0;
  #answeredAt = 0;
  #pending: Promise<unknown>[] = [];
  #failed: (line: string) => void = () => {};

  private constructor(readonly page: PwPage) {
    page.on("console", (message) => {
      const line = `${message.type()}: ${message.text()}`;
      this.console.push(line);
      if (WS_FAILED.test(line)) this.#failed(line);
    });
    page.on("websocket", (socket) => this.sockets.push(socket.url()));
    page.on("response", (response) => {
      if (response.request().method() !== "POST") return;
      this.#answeredAt ||= performance.now();
      this.#pending.push(
        response.text().then((text) => {
          this.posts.push({
            url: response.url(),
            status: response.status(),
            sent: JSON.parse(response.request().postData() ?? "null"),
            answer: JSON.parse(text),
          });
        }),
      );
    });
  }

  /** Opens `url` in a new page of `browser`, starting the clock. */
  static async open(browser: PwContext, url: string): Promise<TrameVisit> {
    const visit = new TrameVisit(await browser.newPage());
    visit.#started = performance.now();
    await visit.page.goto(url);
    return visit;
  }

  /**
   * Waits until the page shows the server's state (`count: 0`), failing at once when a
   * WebSocket handshake fails and otherwise after `ms`, with what the client did.
   */
  async connected(ms = 40_000): Promise<Timings> {
    const failed = new Promise<never>((_, reject) => {
      this.#failed = (line) => reject(new Error(line));
      const seen = this.console.find((l) => WS_FAILED.test(l));
      if (seen) this.#failed(seen);
    });
    const shown = this.page.waitForFunction(
      `document.querySelector("#count")?.textContent.trim() === "count: 0"`,
      undefined,
      { timeout: ms },
    );
    try {
      await Promise.race([shown, failed]);
    } catch (err) {
      shown.catch(() => {});
      throw new Error(
        `the trame client never connected: ${(err as Error).message}\n` +
          (await this.describe()),
      );
    } finally {
      this.#failed = () => {};
    }
    const connected = performance.now() - this.#started;
    await Promise.all(this.#pending);
    return { answered: this.#answeredAt - this.#started, connected };
  }

  /** Clicks `#increment` and waits until the page shows `count: <expected>`; returns the ms. */
  async increment(expected: number): Promise<number> {
    const start = performance.now();
    await this.page.click("#increment");
    await within(
      20_000,
      `the page to show count: ${expected}`,
      this.page.waitForFunction(
        `document.querySelector("#count")?.textContent.trim() === "count: ${expected}"`,
        undefined,
        { timeout: 20_000 },
      ),
    ).catch(async (err) => {
      throw new Error(`${err.message}\n${await this.describe()}`);
    });
    return performance.now() - start;
  }

  /** The server's process id, as the page shows it. */
  async pid(): Promise<number> {
    const text = await this.page.evaluate<string>(`document.querySelector("#pid").textContent`);
    const pid = Number(text.match(/^\s*pid: (\d+)\s*$/)?.[1]);
    if (!Number.isInteger(pid)) throw new Error(`no pid on the page: ${JSON.stringify(text)}`);
    return pid;
  }

  /** What the client did, for a failure message. */
  async describe(): Promise<string> {
    await Promise.allSettled(this.#pending);
    const body = await this.page.evaluate<string>("document.body.innerText").catch(() => "?");
    return [
      `POSTs: ${JSON.stringify(this.posts)}`,
      `WebSockets: ${JSON.stringify(this.sockets)}`,
      `console:\n${this.console.join("\n")}`,
      `page text: ${JSON.stringify(body.slice(0, 500))}`,
    ].join("\n");
  }
}
