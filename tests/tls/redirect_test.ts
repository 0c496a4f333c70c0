import assert from "node:assert/strict";
import { createRedirectHandler } from "../../lib/tls/mod.ts";
import { PKI_NEEDS, TestPki } from "./pki.ts";
import { type EchoAnswer, FrontDoorRig } from "./support.ts";

function ask(
  handler: (req: Request) => Response,
  url: string,
  init: { method?: string; host?: string | null; body?: string } = {},
): Response {
  const req = new Request(url, { method: init.method ?? "GET", body: init.body });
  // A server-side Request carries the Host header the client sent.
  if (init.host !== null) req.headers.set("host", init.host ?? new URL(url).host);
  return handler(req);
}

Deno.test("the redirect handler sends every request to the same path over HTTPS", async (t) => {
  const onPort = createRedirectHandler({ httpsPort: 8443 });
  const on443 = createRedirectHandler({ httpsPort: 443 });
  const cases = [
    { handler: onPort, url: "http://viz.example.org/", location: "https://viz.example.org:8443/" },
    {
      handler: onPort,
      url: "http://viz.example.org:8080/paraview?a=1&b=%20",
      location: "https://viz.example.org:8443/paraview?a=1&b=%20",
    },
    {
      handler: on443,
      url: "http://viz.example.org:80/proxy?sessionId=x&path=ws",
      location: "https://viz.example.org/proxy?sessionId=x&path=ws",
    },
    { handler: on443, url: "http://127.0.0.1:80/", location: "https://127.0.0.1/" },
    { handler: on443, url: "http://[::1]:8080/x", location: "https://[::1]/x" },
    {
      handler: onPort,
      url: "http://viz.example.org//evil.example/x",
      location: "https://viz.example.org:8443//evil.example/x",
    },
  ]; // deno-fmt-ignore
  for (const c of cases) {
    for (const method of ["GET", "POST", "DELETE", "HEAD"]) {
      await t.step(`${method} ${c.url}`, async () => {
        const body = method === "POST" ? "{}" : undefined;
        const res = ask(c.handler, c.url, { method, body });
        assert.equal(res.status, 308);
        assert.equal(res.headers.get("location"), c.location);
        assert.equal(await res.text(), "");
      });
    }
  }
});

Deno.test("the redirect handler uses the configured public host over the client's", () => {
  const handler = createRedirectHandler({ httpsPort: 443, publicHost: "viz.example.org" });
  const res = ask(handler, "http://evil.example/x?y", { host: "evil.example" });
  assert.equal(res.status, 308);
  assert.equal(res.headers.get("location"), "https://viz.example.org/x?y");
});

Deno.test("the redirect handler answers JSON 400 to a request without a valid host", async (t) => {
  const handler = createRedirectHandler({ httpsPort: 443 });
  for (const host of [null, "", "a b", "evil.example/x", "user@evil.example", "-x.example"]) {
    await t.step(`Host: ${JSON.stringify(host)}`, async () => {
      const res = ask(handler, "http://localhost/x", { host });
      assert.equal(res.status, 400);
      assert.equal(res.headers.get("location"), null);
      const body = await res.json();
      assert.match(body.error, /only redirects to HTTPS/);
    });
  }
});

Deno.test({
  name: "the redirect listener sends a real client, its method and its body, to the front door",
  ignore: PKI_NEEDS.ignore,
  async fn() {
    PKI_NEEDS.check();
    const pki = await TestPki.create();
    const rig = await FrontDoorRig.start(await pki.leaf());
    const redirect = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      createRedirectHandler({ httpsPort: rig.port }),
    );
    const client = Deno.createHttpClient({ caCerts: [pki.ca] });
    try {
      const plain = `http://localhost:${redirect.addr.port}/paraview?x=1`;
      const first = await fetch(plain, { method: "POST", body: "{}", redirect: "manual" });
      await first.body?.cancel();
      assert.equal(first.status, 308);
      assert.equal(first.headers.get("location"), `https://localhost:${rig.port}/paraview?x=1`);
      const followed = await fetch(plain, { method: "POST", body: '{"a":1}', client });
      const answer: EchoAnswer = await followed.json();
      assert.equal(followed.url, `https://localhost:${rig.port}/paraview?x=1`);
      assert.equal(answer.method, "POST");
      assert.equal(answer.body, '{"a":1}');
      assert.equal(answer.client?.tls, true);
    } finally {
      client.close();
      await redirect.shutdown();
      await rig.stop();
      await pki.remove();
    }
  },
});
