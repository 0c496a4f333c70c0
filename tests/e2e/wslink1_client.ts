/**
 * A minimal wslink 1.x client for tests, speaking what ParaView 5.11's web server (wslink 1.x)
 * speaks: every message is a JSON text frame `{"wslink": "1.0", id, method, args, kwargs}`,
 * answered by `{"wslink": "1.0", id, "result": ...}` or `{..., "error": {code, message}}`.
 * The first message is `wslink.hello` with the secret, under the id `system:c0:0`; the answer
 * carries the client id that later RPC ids carry (`rpc:<clientID>:<n>`).
 *
 * @module
 */

import { within } from "../integration/harness.ts";
import { WslinkError } from "./wslink_client.ts";

export { WslinkError };

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

/** A connected wslink 1.x client. */
export class Wslink1Client {
  readonly socket: WebSocket;
  /** Resolves with the close event once the socket has closed, whoever closed it. */
  readonly closed: Promise<CloseEvent>;
  #pending = new Map<string, Pending>();
  #clientId = "";
  #count = 0;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => {
      socket.addEventListener("close", (event) => {
        for (const p of this.#pending.values()) {
          p.reject(new Error(`connection closed (${event.code})`));
        }
        this.#pending.clear();
        resolve(event);
      });
    });
    socket.addEventListener("message", (event) => this.#receive(event.data));
  }

  /**
   * Opens a WebSocket to `url`.
   *
   * @throws Error when the socket closes before it opens (e.g. a 502 answer), or after `ms`
   */
  static async open(url: string, ms = 10_000): Promise<Wslink1Client> {
    const client = new Wslink1Client(new WebSocket(url));
    const opened = new Promise<void>((resolve, reject) => {
      client.socket.addEventListener("open", () => resolve());
      client.closed.then((e) =>
        reject(new Error(`WebSocket ${url} closed: ${e.code} ${e.reason}`))
      );
    });
    try {
      await within(ms, `WebSocket ${url} to open`, opened);
    } catch (err) {
      await client.close();
      throw err;
    }
    return client;
  }

  /**
   * Authenticates as ParaViewWeb's browser client does.
   *
   * @returns the client id the server assigned
   * @throws WslinkError when the server refuses the secret
   */
  async hello(secret: string): Promise<string> {
    const result = await this.#send("system:c0:0", "wslink.hello", [{ secret }]) as {
      clientID: string;
    };
    this.#clientId = result.clientID;
    return this.#clientId;
  }

  /** Calls an RPC method and returns its result. @throws WslinkError on an error answer */
  call(method: string, args: unknown[] = [], ms = 30_000): Promise<unknown> {
    return this.#send(`rpc:${this.#clientId || "c0"}:${this.#count++}`, method, args, ms);
  }

  /** Closes the socket (if open) and waits for it to be closed. */
  async close(): Promise<CloseEvent> {
    if (this.socket.readyState < WebSocket.CLOSING) this.socket.close();
    return await within(5000, "the WebSocket to close", this.closed);
  }

  #send(id: string, method: string, args: unknown[], ms = 10_000): Promise<unknown> {
    const answer = new Promise<unknown>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
    });
    this.socket.send(JSON.stringify({ wslink: "1.0", id, method, args, kwargs: {} }));
    return within(ms, `the answer to ${method}`, answer).finally(() => this.#pending.delete(id));
  }

  #receive(data: unknown): void {
    // Binary frames are wslink 1.x attachments, which the calls made here never ask for.
    if (typeof data !== "string") return;
    const message = JSON.parse(data) as {
      id?: string;
      result?: unknown;
      error?: { code: number; message: string };
    };
    const pending = message.id ? this.#pending.get(message.id) : undefined;
    if (!pending) return;
    this.#pending.delete(message.id!);
    if (message.error) {
      pending.reject(new WslinkError(message.error.code, message.error.message));
    } else pending.resolve(message.result ?? null);
  }
}
