/**
 * What the TLS tests share: a plain `Deno.serve` standing in for the launcher behind the TLS
 * front door (it echoes what it received and who the front door says the client is, and
 * refuses connections the front door does not vouch for, as the launcher will), and clients
 * that show what the server presented.
 *
 * @module
 */

import net from "node:net";
import tls from "node:tls";
import { type TlsClient, TlsTerminator } from "../../lib/tls/mod.ts";
import type { TestPair } from "./pki.ts";

/** What `fn` throws. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("nothing was thrown");
}

/** What the stand-in launcher answers to a plain request. */
export interface EchoAnswer {
  method: string;
  path: string;
  body: string;
  /** The front door's word on the client, or null when it does not vouch for it. */
  client: TlsClient | null;
  /** The peer the internal server saw: the front door's own connection. */
  inner: Deno.NetAddr;
}

/**
 * A test page: it opens a WebSocket to its own host, shows the first echo in its title, and
 * offers `echo(text)` for more.
 */
export const ECHO_PAGE = `<!doctype html><title>loading</title><script>
window.ws = new WebSocket("wss://" + location.host + "/ws");
window.echo = (text) => new Promise((resolve, reject) => {
  ws.onmessage = (e) => resolve(e.data);
  ws.onclose = (e) => reject(new Error("closed " + e.code));
  ws.send(text);
});
ws.onopen = () => echo("ping").then((data) => { document.title = "echo:" + data; });
ws.onerror = () => { document.title = "ws:error"; };
</script>`;

/** The stand-in launcher and its front door. */
export class FrontDoorRig {
  readonly inner: Deno.HttpServer<Deno.NetAddr>;
  #terminator: TlsTerminator | undefined;
  /** Bytes of the answer to `GET /big`. */
  bigSize = 8 << 20;

  private constructor() {
    this.inner = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (req, info) => this.#answer(req, info),
    );
  }

  /** Starts the stand-in and a front door for it serving `pair`. */
  static async start(
    pair: TestPair,
    options: { handshakeTimeoutMs?: number; lingerMs?: number } = {},
  ): Promise<FrontDoorRig> {
    const rig = new FrontDoorRig();
    try {
      rig.#terminator = await TlsTerminator.listen({
        hostname: "127.0.0.1",
        port: 0,
        upstream: rig.inner.addr,
        pair,
        ...options,
      });
    } catch (err) {
      await rig.inner.shutdown();
      throw err;
    }
    return rig;
  }

  /** The front door. */
  get terminator(): TlsTerminator {
    return this.#terminator!;
  }

  /** The front door's public port. */
  get port(): number {
    return this.terminator.addr.port;
  }

  /** Stops both, closing whatever is still open. */
  async stop(): Promise<void> {
    this.terminator.close();
    this.terminator.closeConnections();
    await this.terminator.idle();
    await this.inner.shutdown(); // a second shutdown() is harmless
  }

  async #answer(req: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Promise<Response> {
    const client = this.#terminator?.clientOf(info.remoteAddr);
    if (!client) {
      return Response.json({ error: "connect over https" }, { status: 403 });
    }
    const path = new URL(req.url).pathname;
    if (req.headers.get("upgrade") === "websocket") {
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.onmessage = (e) => socket.send(e.data);
      return response;
    }
    if (path === "/page") {
      return new Response(ECHO_PAGE, { headers: { "content-type": "text/html" } });
    }
    if (path === "/big") return new Response(new Uint8Array(this.bigSize).fill(120));
    const answer: EchoAnswer = {
      method: req.method,
      path,
      body: await req.text().catch(() => ""), // the client may hang up mid-body
      client,
      inner: info.remoteAddr,
    };
    return Response.json(answer);
  }
}

/** What the server presented in a handshake, seen from a client trusting `ca`. */
export interface PeerView {
  serial: string;
  authorized: boolean;
  alpn: string | false;
}

/**
 * Makes a handshake with `node:tls` and reports the server's certificate.
 *
 * @param alpn protocols to offer; none by default
 */
export function peerCertificate(
  port: number,
  ca: string,
  alpn?: string[],
): Promise<PeerView> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: "127.0.0.1", port, ca, servername: "localhost", ALPNProtocols: alpn },
      () => {
        const cert = socket.getPeerCertificate();
        const view = {
          serial: cert.serialNumber.toUpperCase().replace(/^0+(?=.)/, ""),
          authorized: socket.authorized,
          alpn: socket.alpnProtocol ?? false,
        };
        socket.once("close", () => resolve(view));
        socket.end();
      },
    );
    socket.once("error", reject);
  });
}

/**
 * Sends one HTTP/1.1 request over a new TLS connection and reads until the server closes.
 *
 * @returns the client's own port and everything the server sent
 */
export async function rawHttps(
  port: number,
  ca: string,
  request: string,
): Promise<{ localPort: number; text: string }> {
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
  const localPort = tcp.localAddr.port;
  const conn = await Deno.startTls(tcp, { hostname: "localhost", caCerts: [ca] });
  try {
    await conn.write(new TextEncoder().encode(request));
    const text = await new Response(conn.readable).text();
    return { localPort, text };
  } finally {
    try {
      conn.close();
    } catch {
      // the readable's end closed it
    }
  }
}

/** A WebSocket through the front door, open, that echoes. */
export async function openEcho(url: string, client: Deno.HttpClient): Promise<WebSocket> {
  const ws = new WebSocket(url, { client });
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error(`WebSocket ${url} failed`));
  });
  return ws;
}

/** Sends `text` and waits for the echo. */
export function echo(ws: WebSocket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    ws.onmessage = (e) => resolve(String(e.data));
    ws.onclose = (e) => reject(new Error(`closed ${e.code} ${e.reason}`));
    ws.send(text);
  });
}

/** Closes a WebSocket and waits until it is closed. */
export async function closeEcho(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return;
  const closed = new Promise((resolve) => ws.onclose = resolve);
  ws.close();
  await closed;
}

/** How many descriptors this process holds. */
export function openFds(): number {
  let n = 0;
  for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
  return n - 1; // less the one that lists them
}

/** The bytes of a real TLS ClientHello, captured from `node:tls` by a plain TCP server. */
export function clientHello(): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => {
      socket.once("data", (data) => {
        resolve(new Uint8Array(data));
        socket.destroy();
        server.close();
      });
    });
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      const client = tls.connect({ host: "127.0.0.1", port, servername: "localhost" });
      client.once("error", () => {}); // the capturing server hangs up on it
    });
    server.once("error", reject);
  });
}

/** Connects with TCP and resets the connection (RST) once `bytes` are sent. */
export function resetAfter(port: number, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port }, () => {
      socket.write(bytes, () => {
        socket.resetAndDestroy();
        resolve();
      });
    });
    socket.once("error", reject);
  });
}
