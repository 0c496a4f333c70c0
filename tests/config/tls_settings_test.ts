import assert from "node:assert/strict";
import { assertProblems, parse, problemsOf, spec, wslink } from "./test_utils.ts";

const CERT = { cert: "/srv/pv/tls/fullchain.pem", key: "/srv/pv/tls/privkey.pem" };

Deno.test("parseConfig() reads the certificate and key, and redirect_http, in both formats", async (t) => {
  const cases: [string, Record<string, unknown>][] = [
    [`"tls_cert": "tls/fullchain.pem", "tls_key": "tls/privkey.pem"`, { tls: CERT }],
    [`"tls": { "cert": "tls/fullchain.pem", "key": "/srv/pv/tls/privkey.pem" }`, { tls: CERT }],
    [`"tls_cert": "tls/fullchain.pem", "tls_key": "tls/privkey.pem", "redirect_http": 80`, {
      tls: CERT,
      redirectHttp: { port: 80 },
    }],
    [
      `"tls": { "cert": "tls/fullchain.pem", "key": "tls/privkey.pem" }, "redirect_http": "[::]:80"`,
      {
        tls: CERT,
        redirectHttp: { hostname: "::", port: 80 },
      },
    ],
  ];
  for (const [members, expected] of cases) {
    await t.step(members, () => {
      for (const text of [spec(`  ${members},`), wslink(`    ${members},`)]) {
        const { config, warnings } = parse(text);
        assert.deepStrictEqual(warnings, []);
        for (const [key, value] of Object.entries(expected)) {
          assert.deepStrictEqual(config[key as keyof typeof config], value, key);
        }
      }
    });
  }
  await t.step("without them: no TLS, no redirect", () => {
    const { config } = parse(spec(`  "url": "http://localhost:8080/paraview",`));
    assert.equal(config.tls, undefined);
    assert.equal(config.redirectHttp, undefined);
  });
});

Deno.test("parseConfig() takes an https url with the certificate: port 443 unless it names one", async (t) => {
  const pair = `"tls_cert": "tls/fullchain.pem", "tls_key": "tls/privkey.pem"`;
  const cases: [string, { hostname: string; port: number }][] = [
    ["https://viz.example.org/paraview", { hostname: "viz.example.org", port: 443 }],
    ["https://0.0.0.0:8443/paraview", { hostname: "0.0.0.0", port: 8443 }],
    ["https://[::]:8443/paraview", { hostname: "::", port: 8443 }],
  ];
  for (const [url, listen] of cases) {
    await t.step(url, () => {
      const { config } = parse(spec(`  "url": "${url}", ${pair},`));
      assert.deepStrictEqual(config.listen, listen);
      assert.equal(config.endpoint, "/paraview");
      assert.deepStrictEqual(config.tls, CERT);
    });
  }
});

Deno.test("parseConfig() reports what is wrong with the TLS settings at the key", async (t) => {
  const cases: [string, string, [string, RegExp][]][] = [
    ["a certificate without its key", spec(`  "tls_cert": "cert.pem",`), [
      ["4:3 error tls_cert", /^tls_cert needs tls_key: TLS takes a certificate chain and its/],
    ]],
    ["a key without its certificate", wslink(`    "tls_key": "key.pem",`), [
      ["3:5 error configuration.tls_key", /^tls_key needs tls_cert/],
    ]],
    [
      "both forms at once",
      spec(`  "tls": { "cert": "a", "key": "b" }, "tls_cert": "c", "tls_key": "d",`),
      [["4:3 error tls", /^give the certificate and key either as "tls_cert" and "tls_key" or/]],
    ],
    ["a section without its key", spec(`  "tls": { "cert": "a" },`), [
      ["4:10 error tls.key", /^missing required key "key"$/],
    ]],
    ["a section that is a string", spec(`  "tls": "cert.pem",`), [
      ["4:10 error tls", /^expected an object such as \{"cert": /],
    ]],
    ["an empty path", spec(`  "tls_cert": "", "tls_key": "k",`), [
      ["4:15 error tls_cert", /^expected a path, found an empty string$/],
    ]],
    ["redirect_http without TLS", spec(`  "redirect_http": 80,`), [
      ["4:20 error redirect_http", /^redirect_http sends clients to HTTPS, which needs tls_cert/],
    ]],
    [
      "redirect_http on the launcher's own port",
      spec(`  "tls_cert": "c", "tls_key": "k", "redirect_http": 8080,`),
      [[
        "4:53 error redirect_http",
        /^port 8080 is the launcher's own: the redirect listener needs/,
      ]],
    ],
    [
      "redirect_http on the dashboard's port",
      spec(`  "tls_cert": "c", "tls_key": "k", "dashboard_listen": 9090, "redirect_http": 9090,`),
      [["4:79 error redirect_http", /^port 9090 is the dashboard's: the redirect listener needs/]],
    ],
    [
      "redirect_http that is no address",
      spec(`  "tls_cert": "c", "tls_key": "k", "redirect_http": "x"`),
      [
        ["4:53 error redirect_http", /^expected a port such as 9090/],
      ],
    ],
    [
      "an http url with the certificate",
      spec(`  "url": "http://viz.example.org:8443/paraview", "tls_cert": "c", "tls_key": "k",`),
      [[
        "4:10 error url",
        /^with "tls_cert" and "tls_key" the launcher serves HTTPS only: write the url as "https:\/\/viz\.example\.org:8443\/paraview"$/,
      ]],
    ],
  ];
  for (const [name, text, expected] of cases) {
    await t.step(name, () => assertProblems(problemsOf(text), expected));
  }
  await t.step("an unknown key in the section is a warning", () => {
    const { warnings } = parse(spec(`  "tls": { "cert": "a", "key": "b", "chain": "c" },`));
    assertProblems(warnings, [["4:37 warning tls.chain", /unknown key "chain"/]]);
  });
});
