/**
 * A minimal wslink 2.x client for tests, speaking what the `wslink` npm package's
 * `WebsocketConnection` speaks: every message is a MessagePack map sent as binary frames, each
 * frame a 12-byte little-endian header (message id, offset, total size) and a slice of the
 * message. The first message is `wslink.hello` with the secret, under the id `system:c0:0`;
 * the server answers with the client id that later RPC ids carry (`rpc:<clientID>:<n>`).
 *
 * @module
 */

import { within } from "../integration/harness.ts";
import { decode, encode, type Packable } from "./msgpack.ts";

const HEADER = 12;

/** An error answer of a wslink server (`{code, message}`), e.g. "Authentication failed". */
export class WslinkError extends Error {
  readonly code: number;

  constructor(code: number, message: string) {
    super(message);
    this.name = "WslinkError";
    this.code = code;
  }
}

/** Splits a packed message into wslink frames of at most `maxSize` bytes (header included). */
export function frames(
  message: Uint8Array,
  maxSize = 512 * 1024,
): Uint8Array[] {
  const id = crypto.getRandomValues(new Uint32Array(1))[0];
  const step = Math.max(maxSize - HEADER, 1);
  const out: Uint8Array[] = [];
  for (let offset = 0; offset < message.length; offset += step) {
    const content = message.subarray(offset, offset + step);
    const frame = new Uint8Array(HEADER + content.length);
    const view = new DataView(frame.buffer);
    view.setUint32(0, id, true);
    view.setUint32(4, offset, true);
    view.setUint32(8, message.length, true);
    frame.set(content, HEADER);
    out.push(frame);
  }
  return out;
}

interface Pending<V> {
  resolve: (value: V) => void;
  reject: (err: Error) => void;
}

/** A wslink message that answers a call. */
export interface WslinkAnswer<V> {
  id?: string;
  result?: V;
  error?: { code: number; message: string };
}

/**
 * What wslink clients of both protocol versions share: the socket, the hello, the RPC ids and
 * the pending calls. A version says how a message goes out ({@linkcode transmit}) and how
 * frames come in ({@linkcode receive}, which hands each whole answer to `settle`).
 */
export abstract class WslinkConnection<V> {
  readonly socket: WebSocket;
  /** Resolves with the close event once the socket has closed, whoever closed it. */
  readonly closed: Promise<CloseEvent>;
  readonly #pending = new Map<string, Pending<V>>();
  readonly #callMs: number;
  #clientId = "";
  #count = 0;

  protected constructor(socket: WebSocket, callMs: number) {
    this.socket = socket;
    this.#callMs = callMs;
    this.closed = new Promise((resolve) => {
      socket.addEventListener("close", (event) => {
        for (const p of this.#pending.values()) {
          p.reject(new Error(`connection closed (${event.code})`));
        }
        this.#pending.clear();
        resolve(event);
      });
    });
    socket.addEventListener("message", (event) => this.receive(event.data));
  }

  /** Sends one message. */
  protected abstract transmit(message: Record<string, unknown>): void;

  /** Takes one frame of the server's. */
  protected abstract receive(data: unknown): void;

  /** Settles the call a whole answer is for. */
  protected settle(message: WslinkAnswer<V>): void {
    const pending = message.id ? this.#pending.get(message.id) : undefined;
    if (!pending) return;
    this.#pending.delete(message.id!);
    if (message.error) {
      pending.reject(new WslinkError(message.error.code, message.error.message));
    } else pending.resolve(message.result ?? null as V);
  }

  /**
   * Authenticates as the browser client does.
   *
   * @returns the client id the server assigned
   * @throws WslinkError when the server refuses the secret
   */
  async hello(secret: string): Promise<string> {
    const result = await this.#send("system:c0:0", "wslink.hello", [{ secret }] as V[], 10_000);
    this.#clientId = (result as { clientID: string }).clientID;
    return this.#clientId;
  }

  /** Calls an RPC method and returns its result. @throws WslinkError on an error answer */
  call(method: string, args: V[] = [], ms = this.#callMs): Promise<V> {
    return this.#send(`rpc:${this.#clientId || "c0"}:${this.#count++}`, method, args, ms);
  }

  /** Closes the socket (if open) and waits for it to be closed. */
  async close(): Promise<CloseEvent> {
    if (this.socket.readyState < WebSocket.CLOSING) this.socket.close();
    return await within(5000, "the WebSocket to close", this.closed);
  }

  #send(id: string, method: string, args: V[], ms: number): Promise<V> {
    const answer = new Promise<V>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
    });
    this.transmit({ wslink: "1.0", id, method, args, kwargs: {} });
    return within(ms, `the answer to ${method}`, answer).finally(() => this.#pending.delete(id));
  }
}

/**
 * Waits until a new client's socket is open.
 *
 * @param client the client, its socket just made
 * @param url where the socket goes, for the error
 * @param ms how long to wait
 * @returns the client
 * @throws Error when the socket closes before it opens (a 502 answer), or after `ms`; the
 *   client is closed then
 */
export async function opened<
  T extends { socket: WebSocket; closed: Promise<CloseEvent>; close(): Promise<CloseEvent> },
>(
  client: T,
  url: string,
  ms: number,
): Promise<T> {
  const open = new Promise<void>((resolve, reject) => {
    client.socket.addEventListener("open", () => resolve());
    client.closed.then((e) => reject(new Error(`WebSocket ${url} closed: ${e.code} ${e.reason}`)));
  });
  try {
    await within(ms, `WebSocket ${url} to open`, open);
  } catch (err) {
    await client.close();
    throw err;
  }
  return client;
}

/** A connected wslink client. */
export class WslinkClient extends WslinkConnection<Packable> {
  /** Text frames received: a wslink 2.x server sends none. */
  readonly textFrames: string[] = [];
  #partial = new Map<number, { bytes: Uint8Array; received: number }>();

  private constructor(socket: WebSocket) {
    super(socket, 10_000);
    socket.binaryType = "arraybuffer";
  }

  /**
   * Opens a WebSocket to `url`.
   *
   * @throws Error when the socket closes before it opens, or after `ms`
   */
  static open(url: string, ms = 10_000): Promise<WslinkClient> {
    return opened(new WslinkClient(new WebSocket(url)), url, ms);
  }

  protected transmit(message: Record<string, unknown>): void {
    for (const frame of frames(encode(message as Packable))) this.socket.send(frame);
  }

  protected receive(data: unknown): void {
    if (typeof data === "string") return void this.textFrames.push(data);
    const frame = new Uint8Array(data as ArrayBuffer);
    const view = new DataView(frame.buffer);
    const [id, offset, size] = [0, 4, 8].map((at) => view.getUint32(at, true));
    const partial = this.#partial.get(id) ??
      { bytes: new Uint8Array(size), received: 0 };
    partial.bytes.set(frame.subarray(HEADER), offset);
    partial.received += frame.length - HEADER;
    if (partial.received < size) return void this.#partial.set(id, partial);
    this.#partial.delete(id);
    this.settle(decode(partial.bytes) as WslinkAnswer<Packable>);
  }
}
