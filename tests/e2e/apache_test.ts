import assert from "node:assert/strict";
import { join } from "node:path";
import {
  DEMO_APP,
  ECHO_APP,
  type Launcher,
  specConfig,
  startLauncher,
  within,
} from "../integration/harness.ts";
import { Apache, mapFolderForApache } from "./apache.ts";
import { APACHE, APACHE_MODULES, Needs } from "./tools.ts";

const needs = new Needs("Apache tests", [APACHE, join(APACHE_MODULES, "mod_proxy_wstunnel.so")]);

const DEMO = [...DEMO_APP, "--timeout", "0"];

/** A WebSocket whose messages queue up until read. */
class Socket {
  readonly ws: WebSocket;
  readonly closed: Promise<CloseEvent>;
  #messages: (string | ArrayBuffer)[] = [];
  #wake = () => {};

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.binaryType = "arraybuffer";
    this.ws.onmessage = (e) => {
      this.#messages.push(e.data);
      this.#wake();
    };
    this.closed = new Promise((resolve) => this.ws.onclose = resolve);
  }

  async opened(): Promise<void> {
    await within(
      10_000,
      `${this.ws.url} to open`,
      new Promise<void>((resolve, reject) => {
        this.ws.onopen = () => resolve();
        this.closed.then((e) => reject(new Error(`closed before opening: ${e.code}`)));
      }),
    );
  }

  async next(): Promise<string | ArrayBuffer> {
    await within(
      10_000,
      "a message",
      new Promise<void>((resolve) => {
        this.#wake = resolve;
        if (this.#messages.length) resolve();
      }),
    );
    return this.#messages.shift()!;
  }

  async close(): Promise<void> {
    if (this.ws.readyState < WebSocket.CLOSING) this.ws.close();
    await within(10_000, "the WebSocket to close", this.closed);
  }
}

/** Authenticates with the demo app through `url` and checks a text and a binary echo. */
async function roundTrip(url: string, secret: string): Promise<Socket> {
  const socket = new Socket(url);
  try {
    await socket.opened();
    socket.ws.send(secret);
    assert.equal(JSON.parse(await socket.next() as string).authenticated, true);
    socket.ws.send("hello through apache");
    assert.equal(await socket.next(), "hello through apache");
    socket.ws.send(new Uint8Array([0, 1, 2, 255]));
    assert.deepEqual(
      new Uint8Array(await socket.next() as ArrayBuffer),
      new Uint8Array([0, 1, 2, 255]),
    );
  } catch (err) {
    await socket.close();
    throw err;
  }
  return socket;
}

async function status(url: string): Promise<number> {
  const res = await fetch(url);
  await res.body?.cancel();
  return res.status;
}

Deno.test({
  name: "Apache with examples/apache/pvw-launcher.conf routes sessions by the launcher's map file",
  ignore: needs.ignore,
  fn: async (t) => {
    needs.check();
    const launcher: Launcher = await startLauncher((dir) =>
      specConfig(dir, { demo: { cmd: DEMO }, echo: { cmd: ECHO_APP } }, {
        proxy_url: "ws://USE_HOST/proxy?sessionId=${id}&path=ws",
        map_file: join(mapFolderForApache(dir), "proxy.map"),
      })
    );
    // Apache's children run as www-data: they must reach the map file's folder.
    await Deno.chmod(launcher.dir, 0o755);
    const apacheDir = await Deno.makeTempDir({ prefix: "pvw-launcher-apache-" });
    let apache: Apache | undefined;
    try {
      apache = await Apache.start(apacheDir, {
        mapFile: join(launcher.dir, "map", "proxy.map"),
        launcher: launcher.base,
      });
      const front = apache.base;
      const ws = front.replace("http:", "ws:");

      let session: Record<string, string> = {};
      await t.step("POST through Apache's ProxyPass starts a session", async () => {
        const res = await fetch(`${front}/paraview/`, {
          method: "POST",
          body: JSON.stringify({ application: "demo" }),
        });
        session = await res.json();
        assert.equal(res.status, 200, JSON.stringify(session));
        assert.equal(
          session.sessionURL,
          `ws://USE_HOST/proxy?sessionId=${session.id}&path=ws`,
        );
      });

      let socket: Socket | undefined;
      try {
        await t.step(
          "a WebSocket reaches the session via /proxy?sessionId=<id>&path=ws",
          async () => {
            socket = await roundTrip(`${ws}/proxy?sessionId=${session.id}&path=ws`, session.secret);
          },
        );

        await t.step("and via the path form /proxy/<id>/ws", async () => {
          const other = await roundTrip(`${ws}/proxy/${session.id}/ws`, session.secret);
          await other.close();
        });

        await t.step("trame's lower-cased session URL reaches the session", async () => {
          const url = `${ws}/proxy?sessionId=${session.id}&path=ws`.toLowerCase();
          const other = await roundTrip(url, session.secret);
          await other.close();
        });

        await t.step(
          "every form of session URL reaches the path the launcher's proxy would",
          async () => {
            const res = await fetch(`${front}/paraview/`, {
              method: "POST",
              body: JSON.stringify({ application: "echo" }),
            });
            const echo = await res.json();
            assert.equal(res.status, 200, JSON.stringify(echo));
            const cases: [url: string, path: string][] = [
              [`${ws}/proxy/${echo.id}`, "/ws"],
              [`${ws}/proxy/${echo.id}/a/b`, "/a/b"],
              [`${ws}/proxy?id=${echo.id}`, "/ws"],
              [`${ws}/proxy?path=x&SessionID=${echo.id.toUpperCase()}`, "/x"],
              [`${ws}/proxy?sessionId=${echo.id}`, "/ws"],
            ];
            try {
              for (const [url, path] of cases) {
                const socket = new Socket(url);
                await socket.opened();
                socket.ws.send("where?");
                assert.equal(JSON.parse(await socket.next() as string).path, path, url);
                await socket.close();
              }
            } finally {
              await launcher.request("DELETE", `${launcher.endpoint}/${echo.id}`);
            }
          },
        );

        await t.step(
          "an unknown id answers 404 JSON (the |NOTFOUND default), both forms",
          async () => {
            for (
              const url of [
                `${front}/proxy?sessionId=nosuchid&path=ws`,
                `${front}/proxy/nosuchid/ws`,
                `${front}/proxy?id=nosuchid`,
                `${front}/proxy?path=ws`,
              ]
            ) {
              const res = await fetch(url);
              assert.equal(res.status, 404, url);
              assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8", url);
              assert.deepEqual(await res.json(), { error: "no session with that id" }, url);
            }
            assert.doesNotMatch(await apache!.errorLog(), /AH02439/);
          },
        );

        await t.step(
          "after DELETE, Apache no longer routes the id: 404, and the open socket closes",
          async () => {
            const stop = await launcher.request("DELETE", `${launcher.endpoint}/${session.id}`);
            assert.equal(stop.status, 200);
            assert.equal(await status(`${front}/proxy?sessionId=${session.id}&path=ws`), 404);
            assert.equal(await status(`${front}/proxy/${session.id}/ws`), 404);
            await within(10_000, "the proxied socket to close", socket!.closed);
          },
        );
      } finally {
        await socket?.close();
      }
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${await apache?.errors() ?? ""}`);
    } finally {
      await apache?.stop();
      await launcher.stop();
      await Deno.remove(launcher.dir, { recursive: true });
      await Deno.remove(apacheDir, { recursive: true });
    }
  },
});
