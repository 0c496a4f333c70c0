/**
 * A tiny visualization-server stand-in for the demo: a WebSocket server that behaves like a
 * wslink server as far as the launcher can tell. It takes `--host`, `--port`, `--authKey` and
 * `--timeout`, prints `Starting factory` once it listens, requires the secret as the first
 * message, then echoes every message. With no client connected for `--timeout` seconds it
 * exits, as wslink servers do.
 *
 * Run: `deno run --allow-net examples/demo_app.ts --port 9001 --authKey s3cret`
 *
 * @module
 */

import { parseArgs } from "node:util";

/** Options of the demo app. */
export interface DemoOptions {
  /** Address to listen on. @default "127.0.0.1" */
  hostname: string;
  /** Port to listen on. */
  port: number;
  /** The secret a client must send first. */
  authKey: string;
  /** Seconds without any client before it exits; 0 never. @default 300 */
  timeout: number;
}

/**
 * Serves the demo app until no client came for `timeout` seconds.
 *
 * @param options where to listen and the secret
 * @returns when the server has stopped
 */
export async function runDemoApp(options: DemoOptions): Promise<void> {
  let clients = 0;
  let port = options.port;
  let idle: ReturnType<typeof setTimeout> | undefined;
  const server = Deno.serve({
    hostname: options.hostname,
    port: options.port,
    onListen: (addr) => {
      port = addr.port;
      console.log(`demo app listening on port ${port}`);
      console.log("Starting factory");
    },
  }, (req) => {
    if (req.headers.get("upgrade") !== "websocket") {
      return new Response("pvw-launcher demo app: connect with a WebSocket\n");
    }
    const { socket, response } = Deno.upgradeWebSocket(req);
    let authenticated = false;
    socket.onopen = () => {
      clients++;
      clearTimeout(idle);
    };
    socket.onmessage = (event) => {
      if (authenticated) return socket.send(event.data);
      if (event.data !== options.authKey) return socket.close(4003, "wrong secret");
      authenticated = true;
      socket.send(
        JSON.stringify({ authenticated: true, pid: Deno.pid, host: options.hostname, port }),
      );
    };
    socket.onclose = () => {
      clients--;
      armIdle();
    };
    return response;
  });
  const armIdle = () => {
    if (options.timeout <= 0 || clients > 0) return;
    clearTimeout(idle);
    idle = setTimeout(() => {
      console.log(`no client for ${options.timeout} s: exiting`);
      server.shutdown();
    }, options.timeout * 1000);
  };
  armIdle();
  Deno.addSignalListener("SIGTERM", () => server.shutdown());
  await server.finished;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string" },
      authKey: { type: "string" },
      timeout: { type: "string", default: "300" },
    },
  });
  if (!values.port || !values.authKey) {
    console.error("usage: demo_app.ts --port PORT --authKey SECRET [--host H] [--timeout S]");
    Deno.exit(2);
  }
  await runDemoApp({
    hostname: values.host === "localhost" ? "127.0.0.1" : values.host!,
    port: Number(values.port),
    authKey: values.authKey,
    timeout: Number(values.timeout),
  });
  Deno.exit(0);
}
