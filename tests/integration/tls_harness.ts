/**
 * What the TLS integration tests share: a launcher serving HTTPS with a certificate of a test
 * CA, a client that trusts that CA, and a request sent from another loopback address
 * (127.0.0.2), so that the launcher's idea of who the client is can be told apart from the
 * loopback connections of its own TLS front door.
 *
 * @module
 */

import net from "node:net";
import tls from "node:tls";
import { type Launcher, type LaunchOptions, specConfig, startLauncher } from "./harness.ts";
import type { TestPair, TestPki } from "../tls/pki.ts";

/**
 * Starts a launcher (spec format) serving HTTPS with `pair`; its `client` trusts the CA.
 *
 * @param extra more config keys
 */
export async function startTlsLauncher(
  pki: TestPki,
  pair: TestPair,
  apps: Record<string, Record<string, unknown>>,
  extra: Record<string, unknown> = {},
  args: string[] = [],
  options: LaunchOptions = {},
): Promise<Launcher> {
  const launcher = await startLauncher(
    (dir) =>
      specConfig(dir, apps, {
        url: "https://127.0.0.1:0/paraview",
        proxy_url: "ws://USE_HOST/proxy/${id}",
        tls_cert: pair.certFile,
        tls_key: pair.keyFile,
        ...extra,
      }),
    args,
    options,
  );
  launcher.client = Deno.createHttpClient({ caCerts: [pki.ca] });
  return launcher;
}

/** Stops a launcher started by {@linkcode startTlsLauncher} and removes its folder. */
export async function stopTlsLauncher(launcher: Launcher): Promise<void> {
  launcher.client?.close();
  await launcher.stop();
  await Deno.remove(launcher.dir, { recursive: true });
}

/** An answer read off the wire. */
export interface WireAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends one HTTP/1.1 request over TLS from `source` (a loopback address such as 127.0.0.2),
 * with `connection: close`, and reads the answer.
 */
export function httpsFrom(
  source: string,
  port: number,
  ca: string,
  request: { method: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<WireAnswer> {
  const body = request.body ?? "";
  const head = [
    `${request.method} ${request.path} HTTP/1.1`,
    `host: localhost:${port}`,
    "connection: close",
    `content-length: ${new TextEncoder().encode(body).length}`,
    ...Object.entries(request.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
  ].join("\r\n");
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      socket: net.connect({ host: "127.0.0.1", port, localAddress: source }),
      servername: "localhost",
      ca,
    });
    const chunks: Uint8Array[] = [];
    socket.on("secureConnect", () => socket.write(`${head}\r\n\r\n${body}`));
    socket.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("end", () => {
      const text = new TextDecoder().decode(concat(chunks));
      const split = text.indexOf("\r\n\r\n");
      const [status, ...lines] = text.slice(0, split).split("\r\n");
      const headers = Object.fromEntries(lines.map((l) => {
        const colon = l.indexOf(":");
        return [l.slice(0, colon).toLowerCase(), l.slice(colon + 1).trim()];
      }));
      resolve({ status: Number(status.split(" ")[1]), headers, body: text.slice(split + 4) });
      socket.destroy();
    });
  });
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}
