/**
 * HTTP over a bare TCP connection, for requests no HTTP client would send: any bytes as the
 * request, cut off wherever the test says, and the answer read back as the server wrote it.
 */

/** What came back on the connection. */
export interface RawAnswer {
  /** The first answer's status, if a status line arrived. */
  status?: number;
  /** Its headers, names in lower case. */
  headers: Record<string, string>;
  /** Its body, de-chunked. */
  body: Uint8Array;
  /** Every byte received. */
  bytes: number;
}

/** How to send a raw request. */
export interface RawOptions {
  /** Close the connection right after writing, without reading (a client that went away). */
  abort?: boolean;
  /** Give up reading after this long. @default 10000 */
  deadlineMs?: number;
}

/**
 * Opens a connection, writes `parts` in order, and reads until a whole answer has arrived or
 * the server hangs up; or, with `abort`, closes the connection once written. The connection
 * is never half-closed: HTTP servers take a half-close for a client that went away and drop
 * the answer they were preparing.
 *
 * @returns the first answer (status undefined if none came)
 */
export async function rawExchange(
  port: number,
  parts: Uint8Array[],
  options: RawOptions = {},
): Promise<RawAnswer> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    conn.close();
  };
  const timer = setTimeout(close, options.deadlineMs ?? 10_000);
  let received: Uint8Array = new Uint8Array();
  try {
    try {
      for (const part of parts) {
        for (let off = 0; off < part.length;) off += await conn.write(part.subarray(off));
      }
      if (options.abort) return { headers: {}, body: new Uint8Array(), bytes: 0 };
    } catch {
      // The server may answer and close before it has read everything (413, a bad request):
      // what it wrote is still there to read.
    }
    const buf = new Uint8Array(64 * 1024);
    while (!complete(received)) {
      let n: number | null;
      try {
        n = await conn.read(buf);
      } catch {
        break; // reset by the server, or closed at the deadline
      }
      if (n === null) break;
      received = concat([received, buf.subarray(0, n)]);
    }
  } finally {
    clearTimeout(timer);
    close();
  }
  return parseAnswer(received);
}

/** Whether `bytes` hold a whole answer: a 1xx head, or a head and its whole body. */
export function complete(bytes: Uint8Array): boolean {
  const end = indexOf(bytes, CRLFCRLF);
  if (end < 0) return false;
  const answer = parseAnswer(bytes);
  if (answer.status === undefined) return false;
  if (answer.status < 200 || answer.status === 204 || answer.status === 304) return true;
  if (answer.headers["transfer-encoding"]?.toLowerCase() === "chunked") {
    return indexOf(bytes, [13, 10, 48, 13, 10, 13, 10], end) >= 0; // "\r\n0\r\n\r\n"
  }
  const length = answer.headers["content-length"];
  return length !== undefined && bytes.length - end - 4 >= Number(length);
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

const CRLFCRLF = [13, 10, 13, 10];

function indexOf(bytes: Uint8Array, pattern: number[], from = 0): number {
  outer: for (let i = from; i <= bytes.length - pattern.length; i++) {
    for (let j = 0; j < pattern.length; j++) if (bytes[i + j] !== pattern[j]) continue outer;
    return i;
  }
  return -1;
}

/** Reads the first HTTP/1.x answer out of what a connection received. */
export function parseAnswer(bytes: Uint8Array): RawAnswer {
  const end = indexOf(bytes, CRLFCRLF);
  const none = { headers: {}, body: new Uint8Array(), bytes: bytes.length };
  if (end < 0) return none;
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, end)).split("\r\n");
  const status = head[0].match(/^HTTP\/1\.[01] (\d{3})/);
  if (!status) return none;
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) {
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
  }
  let body = bytes.subarray(end + 4);
  if (headers["transfer-encoding"]?.toLowerCase() === "chunked") body = dechunk(body);
  else if (headers["content-length"] !== undefined) {
    body = body.subarray(0, Number(headers["content-length"]));
  }
  return { status: Number(status[1]), headers, body, bytes: bytes.length };
}

function dechunk(bytes: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let off = 0;
  for (;;) {
    const eol = indexOf(bytes, [13, 10], off);
    if (eol < 0) break;
    const size = parseInt(new TextDecoder().decode(bytes.subarray(off, eol)), 16);
    if (!(size > 0)) break;
    parts.push(bytes.subarray(eol + 2, eol + 2 + size));
    off = eol + 2 + size + 2;
  }
  return concat(parts);
}

/**
 * One TCP connection held open across requests, as a keep-alive client (or an attacker) holds
 * it: write any bytes, read whole answers, and learn when the server ends the connection.
 */
export class RawConnection {
  readonly conn: Deno.Conn;
  #received: Uint8Array = new Uint8Array();
  #ended = false;

  private constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  /** Connects to 127.0.0.1:`port`. */
  static async open(port: number): Promise<RawConnection> {
    return new RawConnection(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Connects to 127.0.0.1:`port` and makes a TLS handshake, trusting `ca`, for `localhost`. */
  static async openTls(port: number, ca: string): Promise<RawConnection> {
    const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      return new RawConnection(await Deno.startTls(tcp, { hostname: "localhost", caCerts: [ca] }));
    } catch (err) {
      tcp.close();
      throw err;
    }
  }

  /** Writes bytes (text as UTF-8); false when the server has closed the connection. */
  async write(data: string | Uint8Array): Promise<boolean> {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    try {
      for (let off = 0; off < bytes.length;) off += await this.conn.write(bytes.subarray(off));
      return true;
    } catch {
      return false;
    }
  }

  /** Sends a GET and reads its whole answer. */
  async get(path: string): Promise<RawAnswer> {
    await this.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    return await this.answer();
  }

  /** Reads the next whole answer (status undefined if the server ended the connection first). */
  async answer(): Promise<RawAnswer> {
    const buf = new Uint8Array(64 * 1024);
    while (!complete(this.#received)) {
      const n = await this.#read(buf);
      if (n === null) break;
    }
    const answer = parseAnswer(this.#received);
    this.#received = new Uint8Array();
    return answer;
  }

  /** Reads (and drops) what arrives until the server ends the connection. */
  async ended(): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    while (await this.#read(buf) !== null);
  }

  /** Whether the server has ended the connection (as far as reads have shown). */
  get isEnded(): boolean {
    return this.#ended;
  }

  async #read(buf: Uint8Array): Promise<number | null> {
    if (this.#ended) return null;
    let n: number | null;
    try {
      n = await this.conn.read(buf);
    } catch {
      n = null; // reset by the server
    }
    if (n === null) {
      this.#ended = true;
      return null;
    }
    this.#received = concat([this.#received, buf.subarray(0, n)]);
    return n;
  }

  /** Closes the connection (again is fine). */
  close(): void {
    try {
      this.conn.close();
    } catch {
      // closed already
    }
  }
}
