import assert from "node:assert/strict";
import { type Launcher, specConfig, startLauncher, within } from "../integration/harness.ts";
import { Needs, PYTHON, WSLINK_APP, wslinkCmd } from "./tools.ts";
import { WslinkClient, WslinkError } from "./wslink_client.ts";

const needs = new Needs("real wslink server tests", [PYTHON, WSLINK_APP]);

/** A launcher whose `wslink` app is the real wslink server, told `sessionURL` by `proxyUrl`. */
async function launch(proxyUrl: string): Promise<Launcher> {
  needs.check();
  return await startLauncher((dir) =>
    specConfig(dir, { wslink: { cmd: wslinkCmd() } }, {
      proxy_url: proxyUrl,
      wait_line: ["Starting factory"],
    })
  );
}

async function cleanup(launcher: Launcher): Promise<void> {
  await launcher.stop();
  await Deno.remove(launcher.dir, { recursive: true });
}

async function startSession(
  launcher: Launcher,
): Promise<Record<string, string>> {
  const post = await launcher.post({ application: "wslink" });
  assert.equal(post.status, 200, JSON.stringify(post.json));
  return post.json as Record<string, string>;
}

/** What the browser client does to `USE_HOST`: the page's host, here the launcher's. */
function useHost(launcher: Launcher, url: string): string {
  return url.replace("USE_HOST", new URL(launcher.base).host);
}

Deno.test({
  name: "the real wslink server is ready on its newline-less ready line and takes its secret",
  ignore: needs.ignore,
  fn: async () => {
    const launcher = await launch("ws://127.0.0.1:${port}/ws");
    try {
      const session = await startSession(launcher);
      const client = await WslinkClient.open(session.sessionURL);
      try {
        assert.match(await client.hello(session.secret), /^c[0-9a-f]+$/);
        assert.equal(await client.call("test.add", [1, 2]), 3);
      } finally {
        await client.close();
      }
      const wrong = await WslinkClient.open(session.sessionURL);
      try {
        await assert.rejects(wrong.hello("not-the-secret"), WslinkError);
      } finally {
        await wrong.close();
      }
    } finally {
      await cleanup(launcher);
    }
  },
});

Deno.test({
  name: "the built-in proxy carries the wslink protocol to a real wslink server",
  ignore: needs.ignore,
  fn: async (t) => {
    const launcher = await launch("ws://USE_HOST/proxy/${id}/ws");
    try {
      const session = await startSession(launcher);
      const url = useHost(launcher, session.sessionURL);
      assert.equal(
        url,
        `ws://${new URL(launcher.base).host}/proxy/${session.id}/ws`,
      );
      const client = await WslinkClient.open(url);
      try {
        await t.step(
          "wslink.hello with the secret, then RPCs, via /proxy/<id>/ws",
          async () => {
            assert.match(await client.hello(session.secret), /^c[0-9a-f]+$/);
            assert.equal(await client.call("test.add", [1, 2]), 3);
            const payload = {
              text: "héllo ✓",
              bytes: new Uint8Array([0, 1, 254, 255]),
            };
            assert.deepEqual(
              await client.call("test.echo", [payload]),
              payload,
            );
            const big = "x".repeat(300_000);
            assert.equal(await client.call("test.echo", [big]), big);
            assert.deepEqual(client.textFrames, []);
          },
        );

        await t.step(
          "the trame form /proxy?sessionId=<id>&path=ws reaches the same process",
          async () => {
            const base = `ws://${new URL(launcher.base).host}/proxy`;
            for (
              const query of [
                `sessionId=${session.id}&path=ws`,
                `path=ws&sessionId=${session.id}`,
              ]
            ) {
              const other = await WslinkClient.open(`${base}?${query}`);
              try {
                await other.hello(session.secret);
                assert.equal(
                  await other.call("test.pid"),
                  await client.call("test.pid"),
                );
              } finally {
                await other.close();
              }
            }
          },
        );

        await t.step(
          "a wrong secret is refused by the server behind the proxy",
          async () => {
            const wrong = await WslinkClient.open(url);
            try {
              await assert.rejects(
                wrong.hello("not-the-secret"),
                /Authentication failed/,
              );
              await assert.rejects(
                wrong.call("test.add", [1, 2]),
                /Unauthorized/,
              );
            } finally {
              await wrong.close();
            }
          },
        );

        await t.step(
          "DELETE closes the proxied connection; the id then answers 404 JSON",
          async () => {
            const stop = await launcher.request(
              "DELETE",
              `${launcher.endpoint}/${session.id}`,
            );
            assert.equal(stop.status, 200);
            await within(
              10_000,
              "the proxied WebSocket to close",
              client.closed,
            );
            const res = await fetch(`${launcher.base}/proxy/${session.id}/ws`);
            assert.equal(res.status, 404);
            assert.equal(typeof (await res.json()).error, "string");
          },
        );
      } finally {
        await client.close();
      }
    } finally {
      await cleanup(launcher);
    }
  },
});
