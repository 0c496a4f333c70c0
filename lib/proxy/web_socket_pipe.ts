/**
 * Relaying one browser's WebSocket to its session's and back, frame by frame, with the
 * session's traffic counted.
 *
 * Memory stays bounded when one side reads slower than the other sends: the WebSocket API
 * cannot pause a sender, so a peer that falls more than `maxBufferedBytes` behind is
 * disconnected (close code 1013, "try again later") and so is its partner. What the app says
 * before the browser's side is open (apps that speak first) waits for it, within the same
 * bound.
 *
 * @module
 */

import type { Traffic } from "../sessions/mod.ts";

/** A frame's data. */
type Frame = string | ArrayBuffer;

/** What a pipe needs besides its two sockets. */
export interface PipeOptions {
  /** The session's counters. */
  traffic: Traffic;
  /** Most bytes queued towards one peer before both sides are closed. */
  maxBufferedBytes: number;
  /** How long the browser's side may take to open before the session's is closed. */
  openTimeoutMs: number;
  /** Told the size of every frame relayed, and which way it went. */
  onFrame: (toSession: boolean, bytes: number) => void;
  /** Told once, when the pipe is over. */
  onEnd: () => void;
}

const OVERFLOW = "proxy buffer limit exceeded";

/**
 * Relays frames between a browser's WebSocket (just upgraded, not yet open) and its
 * session's (open), until either closes.
 *
 * @param client the browser's side
 * @param upstream the session's side
 * @param options the counters, the bounds, and who to tell
 * @returns a function that closes both sides (the session ended)
 */
export function pipeWebSockets(
  client: WebSocket,
  upstream: WebSocket,
  options: PipeOptions,
): () => void {
  const pipe = new Pipe(client, upstream, options);
  return () => pipe.closeBoth();
}

class Pipe {
  readonly #client: WebSocket;
  readonly #upstream: WebSocket;
  readonly #options: PipeOptions;
  readonly #opening: ReturnType<typeof setTimeout>;
  #opened = false;
  #ended = false;
  #early: Frame[] | undefined = [];
  #earlyBytes = 0;

  constructor(client: WebSocket, upstream: WebSocket, options: PipeOptions) {
    this.#client = client;
    this.#upstream = upstream;
    this.#options = options;
    client.binaryType = "arraybuffer";
    // A client that hung up during the upgrade never opens (nor closes): let its partner go.
    this.#opening = setTimeout(() => {
      safeClose(upstream, 1000, "the client never connected");
      this.#end();
    }, options.openTimeoutMs);
    client.onopen = () => this.#clientOpened();
    client.onmessage = (e: MessageEvent<Frame>) => this.#toSession(e.data);
    upstream.onmessage = (e: MessageEvent<Frame>) => this.#fromSession(e.data);
    client.onclose = (e) => {
      clearTimeout(this.#opening);
      safeClose(upstream, clientCloseCode(e.code), e.reason);
      this.#end();
    };
    upstream.onclose = (e) => {
      if (e.code === 1005) safeClose(client);
      else if (e.code === 1006) safeClose(client, 1011, "the session closed the connection");
      else safeClose(client, e.code, e.reason);
      this.#end();
    };
    client.onerror = () => {
      clearTimeout(this.#opening);
      safeClose(upstream);
      if (!this.#opened) this.#end(); // a failed upgrade: no close event follows
    };
    upstream.onerror = () => safeClose(client, 1011, "session connection failed");
  }

  closeBoth(): void {
    safeClose(this.#client, 1001, "session ended");
    safeClose(this.#upstream, 1000, "session ended");
  }

  #clientOpened(): void {
    clearTimeout(this.#opening);
    this.#opened = true;
    this.#options.traffic.opened();
    const queued = this.#early ?? [];
    this.#early = undefined;
    for (const data of queued) if (this.#client.readyState === WebSocket.OPEN) this.#toClient(data);
  }

  #toSession(data: Frame): void {
    if (this.#upstream.readyState === WebSocket.OPEN) this.#relay(data, true);
  }

  #fromSession(data: Frame): void {
    if (this.#early && this.#client.readyState === WebSocket.CONNECTING) {
      this.#early.push(data);
      this.#earlyBytes += frameSize(data);
      if (this.#earlyBytes > this.#options.maxBufferedBytes) {
        safeClose(this.#upstream, 1000, OVERFLOW);
      }
      return;
    }
    if (this.#client.readyState === WebSocket.OPEN) this.#toClient(data);
  }

  #toClient(data: Frame): void {
    this.#relay(data, false);
  }

  /**
   * Sends a frame on and counts it. A side that falls too far behind is closed first, then
   * its partner; the browser is told to try again later (1013).
   */
  #relay(data: Frame, toSession: boolean): void {
    const [to, from] = toSession ? [this.#upstream, this.#client] : [this.#client, this.#upstream];
    to.send(data);
    const size = frameSize(data);
    if (toSession) this.#options.traffic.toSession(size);
    else this.#options.traffic.fromSession(size);
    this.#options.onFrame(toSession, size);
    if (to.bufferedAmount > this.#options.maxBufferedBytes) {
      safeClose(to, toSession ? 1000 : 1013, OVERFLOW);
      safeClose(from, toSession ? 1013 : 1000, OVERFLOW);
    }
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#opened) this.#options.traffic.closed();
    this.#options.onEnd();
  }
}

function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) n += c >= 0x800 && (c < 0xd800 || c > 0xdfff) ? 2 : c < 0x800 ? 1 : 0;
  }
  return n;
}

/** A frame's size in bytes, as it goes on the wire. */
function frameSize(data: Frame): number {
  return typeof data === "string" ? utf8Length(data) : data.byteLength;
}

/** Close codes a WebSocket client may send; others become 1000 with their reason. */
function clientCloseCode(code: number): number | undefined {
  if (code === 1005 || code === 1006) return undefined;
  return code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000;
}

/**
 * Closes a WebSocket unless it is closing already; a code it may not send closes it plainly.
 *
 * @param ws the socket
 * @param code the close code, if any
 * @param reason the close reason, if any
 */
export function safeClose(ws: WebSocket, code?: number, reason?: string): void {
  if (ws.readyState === WebSocket.CLOSING || ws.readyState === WebSocket.CLOSED) return;
  try {
    if (code === undefined) ws.close();
    else ws.close(code, reason);
  } catch {
    ws.close();
  }
}
