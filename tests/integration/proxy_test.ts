import assert from "node:assert/strict";
import { join } from "node:path";
import { COMPRESSIBLE } from "../testdata/compressible.ts";
import { ECHO_APP, type Launcher, specConfig, startLauncher, within } from "./harness.ts";
import { RawConnection } from "./raw_http.ts";

const ECHO = ECHO_APP;

/** Opens a WebSocket and collects what arrives. */
async function connect(url: string, protocols?: string[]) {
  const ws = new WebSocket(url, protocols);
  ws.binaryType = "arraybuffer";
  const received: (string | ArrayBuffer)[] = [];
  const waiters = new Set<() => void>();
  ws.onmessage = (e) => {
    received.push(e.data);
    for (const w of [...waiters]) w();
  };
  const closed = new Promise<CloseEvent>((r) => ws.onclose = r);
  await within(
    5000,
    "the WebSocket to open",
    new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error("WebSocket error"));
    }),
  );
  const next = (n: number) =>
    within(
      5000,
      `${n} messages`,
      new Promise<void>((resolve) => {
        const check = () => {
          if (received.length >= n) {
            waiters.delete(check);
            resolve();
          }
        };
        waiters.add(check);
        check();
      }),
    );
  return { ws, received, next, closed };
}

async function withSession(
  launcher: Launcher,
  application: string,
  fn: (id: string) => Promise<void>,
): Promise<void> {
  const post = await launcher.post({ application });
  assert.equal(post.status, 200, JSON.stringify(post.json));
  const id = post.json.id as string;
  try {
    await fn(id);
  } finally {
    await launcher.request("DELETE", `${launcher.endpoint}/${id}`);
  }
}

function logOf(launcher: Launcher, id: string): Promise<string> {
  return Deno.readTextFile(join(launcher.dir, "logs", `${id}.log`));
}

/** Waits until the session's log file matches. */
async function waitForSessionLog(launcher: Launcher, id: string, pattern: RegExp): Promise<string> {
  const path = join(launcher.dir, "logs", `${id}.log`);
  const watcher = Deno.watchFs(join(launcher.dir, "logs"));
  try {
    return await within(
      10_000,
      `${pattern} in the session log`,
      (async () => {
        let text = await Deno.readTextFile(path);
        if (pattern.test(text)) return text;
        for await (const _ of watcher) {
          text = await Deno.readTextFile(path);
          if (pattern.test(text)) return text;
        }
        throw new Error("watcher ended");
      })(),
    );
  } finally {
    watcher.close();
  }
}

Deno.test("the built-in proxy carries WebSockets to the session, byte-exact both ways", async (t) => {
  const launcher = await startLauncher((dir) =>
    specConfig(dir, { echo: { cmd: ECHO } }, { proxy_url: "ws://127.0.0.1/proxy/${id}" })
  );
  const ws = `ws${launcher.base.slice(4)}`;
  try {
    await withSession(launcher, "echo", async (id) => {
      for (
        const [name, url] of [
          ["/proxy/<id>/<path>", `${ws}/proxy/${id}/ws`],
          ["/proxy?sessionId=<id>&path=<path>", `${ws}/proxy?path=ws&sessionId=${id}`],
        ]
      ) {
        await t.step(
          `${name}: text and binary frames echo unchanged, subprotocol chosen upstream`,
          async () => {
            const c = await connect(url, ["wslink", "wslink.v2"]);
            assert.equal(c.ws.protocol, "wslink.v2", "the app's choice reaches the browser");
            const binary = new Uint8Array(70_000).map((_, i) => (i * 31) & 0xff);
            c.ws.send("héllo ✓");
            c.ws.send(binary);
            c.ws.send("");
            await c.next(3);
            assert.equal(c.received[0], "héllo ✓");
            assert.deepEqual(new Uint8Array(c.received[1] as ArrayBuffer), binary);
            assert.equal(c.received[2], "");
            c.ws.close(4000, "client done");
            await c.closed;
            await waitForSessionLog(launcher, id, /closed 4000 client done/);
          },
        );
      }
      await t.step(
        "an app that speaks first is heard: nothing it sends at once is lost",
        async () => {
          for (let i = 0; i < 20; i++) {
            const c = await connect(`${ws}/proxy/${id}/greet`);
            await c.next(3);
            assert.deepEqual(c.received, ["hello 1", "hello 2", "hello 3"]);
            c.ws.close();
            await c.closed;
          }
        },
      );
      await t.step("the app's close code and reason reach the client", async () => {
        const c = await connect(`${ws}/proxy/${id}`);
        c.ws.send("close 4321 app says bye");
        const e = await within(5000, "close", c.closed);
        assert.deepEqual([e.code, e.reason], [4321, "app says bye"]);
      });
      await t.step("GET shows the session's proxied connections and bytes", async () => {
        const c = await connect(`${ws}/proxy/${id}`);
        c.ws.send("12345");
        await c.next(1);
        const get = await launcher.request("GET", `${launcher.endpoint}/${id}`);
        const proxy = get.json.proxy as Record<string, number>;
        assert.equal(proxy.connections, 1);
        assert.ok(proxy.bytesToSession >= 5 && proxy.bytesFromSession >= 5);
        assert.ok(proxy.lastActivityAt > Date.now() - 60_000);
        c.ws.close();
        await c.closed;
      });
    });
    await t.step("DELETE of the session closes its proxied connections promptly", async () => {
      const post = await launcher.post({ application: "echo" });
      const c = await connect(`${ws}/proxy/${post.json.id}`);
      await launcher.request("DELETE", `${launcher.endpoint}/${post.json.id}`);
      const e = await within(5000, "the client side to close", c.closed);
      assert.ok(e.code >= 1000);
    });
  } finally {
    await launcher.stop();
    await Deno.remove(launcher.dir, { recursive: true });
  }
});

Deno.test("session URLs as real clients write them reach the app's WebSocket endpoint", async (t) => {
  const launcher = await startLauncher((dir) =>
    specConfig(dir, { echo: { cmd: ECHO }, pv: { cmd: ECHO, ws_path: "/paraview/ws" } })
  );
  const ws = `ws${launcher.base.slice(4)}`;
  const where = async (url: string) => {
    const c = await connect(url);
    c.ws.send("where?");
    await c.next(1);
    c.ws.close();
    await c.closed;
    return JSON.parse(c.received[0] as string);
  };
  try {
    await withSession(launcher, "echo", async (id) => {
      const cases: [name: string, url: string, path: string, search: string][] = [
        ["the bare /proxy/<id> (the spec's proxy_url)", `${ws}/proxy/${id}`, "/ws", ""],
        ["the bare /proxy/<id> with a query", `${ws}/proxy/${id}?a=1`, "/ws", "?a=1"],
        ["/proxy/<id>/ (an explicit /)", `${ws}/proxy/${id}/`, "/", ""],
        ["/proxy?sessionId=<id> without a path", `${ws}/proxy?sessionId=${id}`, "/ws", ""],
        ["the spec's /proxy?id=<id>", `${ws}/proxy?id=${id}`, "/ws", ""],
        [
          "trame's lower-cased /proxy?sessionid=<id>&path=ws",
          `${ws}/proxy?sessionId=${id}&path=ws`.toLowerCase(),
          "/ws",
          "",
        ],
        ["an upper-cased id", `${ws}/proxy?sessionId=${id.toUpperCase()}&path=x`, "/x", ""],
      ];
      for (const [name, url, path, search] of cases) {
        await t.step(name, async () => assert.deepEqual(await where(url), { path, search }));
      }
      await t.step("plain HTTP to the bare URL still goes to /", async () => {
        const res = await fetch(`${launcher.base}/proxy/${id}`);
        assert.equal((await res.json()).path, "/");
      });
    });
    await withSession(launcher, "pv", async (id) => {
      await t.step("an application's ws_path replaces /ws", async () => {
        assert.deepEqual(await where(`${ws}/proxy/${id}`), { path: "/paraview/ws", search: "" });
      });
    });
  } finally {
    await launcher.stop();
    await Deno.remove(launcher.dir, { recursive: true });
  }
});

Deno.test("the built-in proxy forwards plain HTTP: method, path, query, headers, body, status, streams", async (t) => {
  const launcher = await startLauncher((dir) =>
    specConfig(dir, {
      echo: { cmd: ECHO },
      deaf: { cmd: ["sh", "-c", "echo Starting factory; exec sleep 600"] },
    })
  );
  try {
    await withSession(launcher, "echo", async (id) => {
      await t.step("a POST arrives as sent", async () => {
        const res = await fetch(`${launcher.base}/proxy/${id}/api/x?y=1`, {
          method: "POST",
          body: "payload",
          headers: { "x-custom": "kept" },
        });
        const got = await res.json();
        assert.equal(res.status, 200);
        assert.deepEqual([got.method, got.path, got.search, got.body], [
          "POST",
          "/api/x",
          "?y=1",
          "payload",
        ]);
        assert.equal(got.headers["x-custom"], "kept");
      });
      await t.step("the app's status passes through", async () => {
        const res = await fetch(`${launcher.base}/proxy/${id}/teapot`);
        await res.body?.cancel();
        assert.equal(res.status, 418);
      });
      await t.step("a streamed answer arrives whole", async () => {
        const res = await fetch(`${launcher.base}/proxy?sessionId=${id}&path=stream`);
        assert.equal(await res.text(), "one\ntwo\nthree\n");
      });
    });
    await t.step("an unknown id is 404 JSON", async () => {
      const res = await fetch(`${launcher.base}/proxy/nope/ws`);
      assert.equal(res.status, 404);
      assert.match((await res.json()).error, /no session/);
    });
    await t.step("a session that does not listen is 502 JSON, for HTTP and WebSocket", async () => {
      await withSession(launcher, "deaf", async (id) => {
        const res = await fetch(`${launcher.base}/proxy/${id}/`);
        assert.equal(res.status, 502);
        assert.match((await res.json()).error, /not reachable/);
        const ws = new WebSocket(`ws${launcher.base.slice(4)}/proxy/${id}/ws`);
        const outcome = await within(
          5000,
          "the refused WebSocket",
          new Promise<string>((r) => {
            ws.onerror = () => r("error");
            ws.onopen = () => r("open");
          }),
        );
        assert.equal(outcome, "error");
        if (ws.readyState !== WebSocket.CLOSED) await new Promise((r) => ws.onclose = r);
      });
    });
  } finally {
    await launcher.stop();
    await Deno.remove(launcher.dir, { recursive: true });
  }
});

/** A WebSocket client that completes the handshake and then never reads. */
async function slowReader(launcher: Launcher, id: string): Promise<Deno.TcpConn> {
  const url = new URL(launcher.base);
  const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  await conn.write(new TextEncoder().encode(
    `GET /proxy/${id}/ HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  ));
  const buf = new Uint8Array(1024);
  let head = "";
  while (!head.includes("\r\n\r\n")) {
    const n = await conn.read(buf);
    if (n === null) throw new Error("closed during the handshake");
    head += new TextDecoder().decode(buf.subarray(0, n));
  }
  assert.match(head, /^HTTP\/1\.1 101/);
  const payload = new TextEncoder().encode("flood 256");
  const mask = crypto.getRandomValues(new Uint8Array(4));
  const frame = new Uint8Array([
    0x81,
    0x80 | payload.length,
    ...mask,
    ...payload.map((b, i) => b ^ mask[i % 4]),
  ]);
  await conn.write(frame);
  return conn;
}

Deno.test("a client that reads slower than its session sends is cut off at the buffer limit", async () => {
  const launcher = await startLauncher((dir) => specConfig(dir, { echo: { cmd: ECHO } }));
  try {
    await withSession(launcher, "echo", async (id) => {
      const conn = await slowReader(launcher, id);
      try {
        const log = await waitForSessionLog(launcher, id, /flood (stopped at \d+|done)/);
        const stopped = Number(log.match(/flood stopped at (\d+)/)?.[1] ?? 256);
        assert.ok(stopped < 256, "the proxy stopped the flood instead of buffering 256 MiB");
        assert.match(await logOf(launcher, id), /closed 1000 proxy buffer limit exceeded/);
      } finally {
        conn.close();
      }
    });
  } finally {
    await launcher.stop();
    await Deno.remove(launcher.dir, { recursive: true });
  }
});

/** The SHA-256 of bytes, in hex. */
async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(bytes)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("the built-in proxy passes an app's compressed answers byte-exact, under the headers that describe them", async (t) => {
  const launcher = await startLauncher((dir) => specConfig(dir, { echo: { cmd: ECHO } }));
  const port = Number(new URL(launcher.base).port);
  // A client that decompresses nothing: what arrives is what the proxy sent.
  const raw = async (path: string, acceptEncoding?: string) => {
    const c = await RawConnection.open(port);
    try {
      const ae = acceptEncoding === undefined ? "" : `Accept-Encoding: ${acceptEncoding}\r\n`;
      await c.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${ae}Connection: close\r\n\r\n`);
      return await within(5000, `the answer to ${path}`, c.answer());
    } finally {
      c.close();
    }
  };
  try {
    await withSession(launcher, "echo", async (id) => {
      const cases: [what: string, query: string, ae: string | undefined, encoding?: string][] = [
        ["gzip, asked for", "as=gzip", "gzip, deflate", "gzip"],
        ["br, asked for", "as=br", "br", "br"],
        ["nothing asked for: the app sees no Accept-Encoding, answers plain", "as=gzip", undefined],
        ["gzip asked for, br offered by the app: plain", "as=br", "gzip"],
        ["gzip sent though not asked for", "as=gzip&always", undefined, "gzip"],
      ];
      for (const [what, query, ae, encoding] of cases) {
        await t.step(what, async () => {
          const answer = await raw(`/proxy/${id}/compressed?${query}`, ae);
          assert.equal(answer.status, 200);
          assert.equal(answer.headers["x-seen-accept-encoding"], ae ?? "(none)");
          assert.equal(answer.headers["content-encoding"], encoding);
          assert.equal(await sha256(answer.body), answer.headers["x-body-sha256"], "byte-exact");
          if (answer.headers["content-length"] !== undefined) {
            assert.equal(Number(answer.headers["content-length"]), answer.body.length);
          }
          const stream = new Blob([new Uint8Array(answer.body)]).stream();
          const decoded = encoding === "gzip"
            ? stream.pipeThrough(new DecompressionStream("gzip"))
            : encoding === "br"
            ? stream.pipeThrough(new DecompressionStream("brotli" as CompressionFormat))
            : stream;
          assert.equal(await new Response(decoded).text(), COMPRESSIBLE);
        });
      }
      await t.step("curl --compressed reads it whole", async () => {
        const curl = await new Deno.Command("curl", {
          args: ["-sS", "--compressed", `${launcher.base}/proxy/${id}/compressed?as=gzip`],
        }).output();
        assert.equal(curl.code, 0, new TextDecoder().decode(curl.stderr));
        assert.equal(new TextDecoder().decode(curl.stdout), COMPRESSIBLE);
      });
    });
  } finally {
    await launcher.stop();
    await Deno.remove(launcher.dir, { recursive: true });
  }
});
