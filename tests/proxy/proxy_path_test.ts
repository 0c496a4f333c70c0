import assert from "node:assert/strict";
import { parseProxyPath, type ProxyPath } from "../../lib/proxy/proxy_path.ts";

const parse = (pathAndQuery: string) =>
  parseProxyPath(new URL(`http://127.0.0.1:8080${pathAndQuery}`));

Deno.test("parseProxyPath() reads the id, path and query of /proxy/<id>[/<path>]", async (t) => {
  const cases: [url: string, expected: ProxyPath][] = [
    ["/proxy/abc", { id: "abc", search: "" }],
    ["/proxy/abc/", { id: "abc", path: "/", search: "" }],
    ["/proxy/abc/ws", { id: "abc", path: "/ws", search: "" }],
    ["/proxy/abc/a/b?x=1", { id: "abc", path: "/a/b", search: "?x=1" }],
    ["/proxy/abc/a/b/?x=1&y=2", { id: "abc", path: "/a/b/", search: "?x=1&y=2" }],
    ["/proxy/abc?x=1", { id: "abc", search: "?x=1" }],
    ["/proxy/abc/?sessionId=other", { id: "abc", path: "/", search: "?sessionId=other" }],
    ["/proxy/a_b-C9/ws", { id: "a_b-C9", path: "/ws", search: "" }],
    ["/proxy/a%20b/ws", { id: "a b", path: "/ws", search: "" }],
    ["/proxy/a%2Fb/ws", { id: "a/b", path: "/ws", search: "" }],
    ["/proxy/%C3%A9t%C3%A9", { id: "été", search: "" }],
    ["/proxy/abc/x%2Fy", { id: "abc", path: "/x%2Fy", search: "" }],
  ];
  for (const [url, expected] of cases) {
    await t.step(url, () => assert.deepEqual(parse(url), expected));
  }
});

Deno.test("parseProxyPath() reads the trame style /proxy?sessionId=<id>&path=<path>", async (t) => {
  const cases: [url: string, expected: ProxyPath][] = [
    ["/proxy?sessionId=abc&path=ws", { id: "abc", path: "/ws", search: "" }],
    ["/proxy?path=ws&sessionId=abc", { id: "abc", path: "/ws", search: "" }],
    ["/proxy/?sessionId=abc&path=ws", { id: "abc", path: "/ws", search: "" }],
    ["/proxy?sessionId=abc", { id: "abc", search: "" }],
    ["/proxy?sessionId=abc&path=", { id: "abc", search: "" }],
    ["/proxy?sessionId=abc&path=/ws", { id: "abc", path: "/ws", search: "" }],
    ["/proxy?sessionId=abc&path=%2F%2Fws", { id: "abc", path: "/ws", search: "" }],
    ["/proxy?sessionId=abc&path=a/b", { id: "abc", path: "/a/b", search: "" }],
    ["/proxy?sessionId=abc&path=ws&x=1", { id: "abc", path: "/ws", search: "?x=1" }],
    ["/proxy?x=1&path=ws&sessionId=abc&y=2", { id: "abc", path: "/ws", search: "?x=1&y=2" }],
    ["/proxy?sessionId=a%20b&path=ws", { id: "a b", path: "/ws", search: "" }],
    ["/proxy?sessionId=a%2Fb&path=ws", { id: "a/b", path: "/ws", search: "" }],
    // trame's client lower-cases the whole session URL; ids themselves are matched elsewhere.
    ["/proxy?sessionid=abc&path=ws", { id: "abc", path: "/ws", search: "" }],
    ["/proxy?SESSIONID=AbC&PATH=ws", { id: "AbC", path: "/ws", search: "" }],
    // The spec's own form.
    ["/proxy?id=abc", { id: "abc", search: "" }],
    ["/proxy?id=abc&path=ws&x=1", { id: "abc", path: "/ws", search: "?x=1" }],
    ["/proxy?id=other&sessionId=abc", { id: "abc", search: "?id=other" }],
  ];
  for (const [url, expected] of cases) {
    await t.step(url, () => assert.deepEqual(parse(url), expected));
  }
});

Deno.test("parseProxyPath() answers undefined for anything else", async (t) => {
  const cases: [reason: string, urls: string[]][] = [
    ["no sessionId", [
      "/proxy",
      "/proxy/",
      "/proxy?path=ws",
      "/proxy?sessionId=&path=ws",
      "/proxy?session=abc",
      "/proxy?ids=abc",
    ]],
    ["another path", ["/", "/paraview", "/paraview/abc", "/index.html", "/a/proxy/abc"]],
    ["a look-alike prefix", ["/proxyx/abc", "/proxy-abc", "/proxies/abc", "/PROXY/abc"]],
    ["an empty id", ["/proxy//ws"]],
    ["a malformed percent-escape in the id", ["/proxy/%E0/ws", "/proxy/%zz", "/proxy/%"]],
  ];
  for (const [reason, urls] of cases) {
    await t.step(reason, () => {
      for (const url of urls) assert.equal(parse(url), undefined, url);
    });
  }
});
