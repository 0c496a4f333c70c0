/**
 * A small server-sent events client over fetch: reads `event:`/`data:` blocks as they come,
 * so that a test waits for each event (with a deadline) rather than for time to pass.
 */

import { within } from "./harness.ts";

/** One event: its name and its data, parsed as JSON. */
export interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

/** An open event stream. */
export class EventReader {
  readonly status: number;
  readonly headers: Headers;
  readonly #reader: ReadableStreamDefaultReader<string> | undefined;
  readonly #queue: SseEvent[] = [];
  #buffer = "";
  #ended = false;

  private constructor(res: Response) {
    this.status = res.status;
    this.headers = res.headers;
    this.#reader = res.body?.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** Opens `url` (GET); the answer's status and headers are read at once. */
  static async open(url: string, headers: Record<string, string> = {}): Promise<EventReader> {
    return new EventReader(await fetch(url, { headers }));
  }

  /** The next event, failing after `ms`; undefined once the stream ended. */
  async next(ms = 10_000): Promise<SseEvent | undefined> {
    return await within(ms, "the next server-sent event", this.#next());
  }

  /** Every event until the stream ends, failing after `ms`. */
  async rest(ms = 10_000): Promise<SseEvent[]> {
    const all: SseEvent[] = [];
    await within(
      ms,
      "the end of the event stream",
      (async () => {
        for (let e = await this.#next(); e; e = await this.#next()) all.push(e);
      })(),
    );
    return all;
  }

  async #next(): Promise<SseEvent | undefined> {
    while (this.#queue.length === 0 && !this.#ended) {
      const { value, done } = await this.#reader!.read();
      if (done) this.#ended = true;
      else this.#parse(value);
    }
    return this.#queue.shift();
  }

  #parse(text: string): void {
    this.#buffer += text;
    let end: number;
    while ((end = this.#buffer.indexOf("\n\n")) >= 0) {
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      const lines = block.split("\n").filter((l) => !l.startsWith(":"));
      const event = lines.find((l) => l.startsWith("event: "))?.slice(7);
      const data = lines.find((l) => l.startsWith("data: "))?.slice(6);
      if (event && data !== undefined) this.#queue.push({ event, data: JSON.parse(data) });
    }
  }

  /** Stops reading (the server sees the client go). */
  async close(): Promise<void> {
    await this.#reader?.cancel().catch(() => {});
  }
}
