/**
 * A stand-in for a visualization server that reports what it received, so proxy tests can
 * assert exactly what arrived. Prints `Starting factory` once it listens on --port.
 *
 * HTTP: answers JSON {method, path, search, headers, body}; `/stream` answers three chunks;
 * `/cookies?c=...&c=...` answers with each `c` as a `Set-Cookie` header.
 * `/compressed?as=gzip|br[&always]` answers a fixed text compressed that way when the request's
 * Accept-Encoding names it (or always), else plain; `x-seen-accept-encoding` says what
 * Accept-Encoding it received, `x-body-sha256` the digest of the bytes it sent.
 * WebSocket: picks the last subprotocol offered (at `/headers`, answers any frame with the
 * handshake's headers as JSON), echoes every frame as it came (text as
 * text, binary as binary), and prints `closed <code> <reason>` when the client closes.
 * Text commands: `close <code> <reason>` closes with that code; `flood <MiB>` sends that many
 * MiB in 1 MiB binary frames and prints `flood done` or `flood stopped at <n>`; `where?` answers
 * JSON {path, search} of the WebSocket's request. A WebSocket at `/greet` speaks first: it sends
 * `hello 1`, `hello 2` and `hello 3` as soon as it opens.
 */

import { brotliCompressSync, gzipSync } from "node:zlib";

const port = Number(Deno.args[Deno.args.indexOf("--port") + 1]);

import { COMPRESSIBLE } from "./compressible.ts";

async function compressed(req: Request, url: URL): Promise<Response> {
  const as = url.searchParams.get("as") ?? "gzip";
  const seen = req.headers.get("accept-encoding");
  const wanted = url.searchParams.has("always") || (seen ?? "").split(",").some((e) => e.trim().split(";")[0] === as);
  const text = new TextEncoder().encode(COMPRESSIBLE);
  const body = new Uint8Array(!wanted ? text : as === "br" ? brotliCompressSync(text) : gzipSync(text));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
  const headers: Record<string, string> = {
    "content-type": "text/plain",
    "x-seen-accept-encoding": seen ?? "(none)",
    "x-body-sha256": Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""),
  };
  if (wanted) headers["content-encoding"] = as;
  return new Response(body, { headers });
}

function onSocket(socket: WebSocket, url: URL): void {
  socket.binaryType = "arraybuffer";
  socket.onmessage = (e) => {
    if (e.data === "where?") return socket.send(JSON.stringify({ path: url.pathname, search: url.search }));
    if (typeof e.data === "string" && e.data.startsWith("close ")) {
      const [, code, ...reason] = e.data.split(" ");
      return socket.close(Number(code), reason.join(" "));
    }
    if (typeof e.data === "string" && e.data.startsWith("flood ")) return flood(socket, Number(e.data.slice(6)));
    socket.send(e.data);
  };
  socket.onclose = (e) => console.log(`closed ${e.code} ${e.reason}`);
}

function flood(socket: WebSocket, mib: number): void {
  const frame = new Uint8Array(1024 * 1024).fill(7);
  let sent = 0;
  const next = () => {
    if (socket.readyState !== WebSocket.OPEN) return console.log(`flood stopped at ${sent}`);
    if (sent === mib) return console.log("flood done");
    socket.send(frame);
    sent++;
    setTimeout(next, 0);
  };
  next();
}

Deno.serve({ hostname: "127.0.0.1", port, onListen: () => console.log("Starting factory") }, async (req) => {
  const url = new URL(req.url);
  if (req.headers.get("upgrade") === "websocket") {
    const offered = (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    const handshake = JSON.stringify(Object.fromEntries(req.headers));
    const { socket, response } = Deno.upgradeWebSocket(req, offered.length ? { protocol: offered.at(-1) } : {});
    onSocket(socket, url);
    if (url.pathname === "/greet") socket.onopen = () => ["hello 1", "hello 2", "hello 3"].forEach((m) => socket.send(m));
    if (url.pathname === "/headers") socket.onmessage = () => socket.send(handshake);
    return response;
  }
  if (url.pathname === "/cookies") {
    const headers = new Headers();
    for (const cookie of url.searchParams.getAll("c")) headers.append("set-cookie", cookie);
    return new Response("cookies", { headers });
  }
  if (url.pathname === "/compressed") return await compressed(req, url);
  if (url.pathname === "/stream") {
    const body = ReadableStream.from(["one\n", "two\n", "three\n"]).pipeThrough(new TextEncoderStream());
    return new Response(body, { headers: { "content-type": "text/plain" } });
  }
  return Response.json({
    method: req.method,
    path: url.pathname,
    search: url.search,
    headers: Object.fromEntries(req.headers),
    body: await req.text(),
  }, { status: url.pathname === "/teapot" ? 418 : 200 });
});
