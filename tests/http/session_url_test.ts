import assert from "node:assert/strict";
import { sessionUrlForScheme } from "../../lib/http/session_url.ts";

Deno.test("sessionUrlForScheme() makes a USE_HOST-style ws:// URL wss:// over TLS, and nothing else", async (t) => {
  const cases: [string, unknown, boolean, unknown][] = [
    ["USE_HOST over TLS", "ws://USE_HOST/proxy/a", true, "wss://USE_HOST/proxy/a"],
    ["USE_HOST in the clear", "ws://USE_HOST/proxy/a", false, "ws://USE_HOST/proxy/a"],
    ["USE_HOSTNAME with a port", "ws://USE_HOSTNAME:9000/ws", true, "wss://USE_HOSTNAME:9000/ws"],
    [
      "trame's query form",
      "ws://USE_HOST/proxy?sessionId=a&path=ws",
      true,
      "wss://USE_HOST/proxy?sessionId=a&path=ws",
    ],
    ["already wss", "wss://USE_HOST/proxy/a", true, "wss://USE_HOST/proxy/a"],
    ["an absolute URL", "ws://viz.example.org/proxy/a", true, "ws://viz.example.org/proxy/a"],
    [
      "USE_HOST elsewhere than the host",
      "ws://viz.example.org/USE_HOST",
      true,
      "ws://viz.example.org/USE_HOST",
    ],
    ["no sessionURL", undefined, true, undefined],
  ]; // deno-fmt-ignore
  for (const [name, url, overTls, expected] of cases) {
    await t.step(name, () => {
      const answer = { id: "a", secret: "s", ...(url === undefined ? {} : { sessionURL: url }) };
      const out = sessionUrlForScheme(answer, overTls);
      assert.equal(out.sessionURL, expected);
      assert.deepEqual({ ...out, sessionURL: undefined }, { ...answer, sessionURL: undefined });
      assert.equal(answer.sessionURL, url, "the answer given is not changed");
    });
  }
});
