/**
 * The stand-in visualization server of the proxy scenarios. Prints `Starting factory` once
 * it listens on 127.0.0.1:--port. On a WebSocket (any path) it echoes every frame as it came,
 * except the text command `more <k>`, which it answers with k binary frames of 1 MiB (the
 * client asks for more as frames arrive, so at most its window is in flight).
 *
 * @module
 */

const port = Number(Deno.args[Deno.args.indexOf("--port") + 1]);
const FRAME = new Uint8Array(1024 * 1024).fill(7);

Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen: () => console.log("Starting factory"),
}, (req) => {
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return new Response("bench ws app\n");
  }
  const { socket, response } = Deno.upgradeWebSocket(req);
  socket.binaryType = "arraybuffer";
  socket.onmessage = (e) => {
    if (typeof e.data === "string" && e.data.startsWith("more ")) {
      for (let k = Number(e.data.slice(5)); k > 0; k--) socket.send(FRAME);
    } else {
      socket.send(e.data);
    }
  };
  socket.onerror = () => {};
  return response;
});
