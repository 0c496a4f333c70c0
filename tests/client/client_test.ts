import assert from "node:assert/strict";
import {
  cameOverTls,
  isOwnOrigin,
  ownOrigins,
  SecretToken,
  TrustedProxies,
  viaHttps,
} from "../../lib/client/mod.ts";

const TOKEN = "0123456789abcdef0123456789abcdef";

/** One request, as the launcher receives it. */
interface Case {
  url?: string;
  headers?: Record<string, string>;
  peer?: string;
  /** It came over the launcher's own TLS listener (whose internal server sees `http:`). */
  tls?: boolean;
}

/** Everything the launcher decides about who sent it. */
interface Verdict {
  /** The launcher's own origins for this request. */
  own: string[];
  /** Whether its `Origin` is one of them; null without an `Origin`. */
  ownPage: boolean | null;
  /** Whether the browser came over HTTPS (a cookie is then `Secure`). */
  https: boolean;
  /** Whether the launcher knows it came over TLS (its `sessionURL` is then `wss://`). */
  overTls: boolean;
  /** The client's address, behind the default trusted proxies (this machine). */
  client: string;
  /** What its `Authorization` says of the token. */
  bearer: "missing" | "invalid" | "valid";
}

function verdict(c: Case): Verdict {
  const req = new Request(c.url ?? "http://launcher.test:8080/paraview", { headers: c.headers });
  const origin = req.headers.get("origin");
  const peer = c.peer ?? "203.0.113.7";
  const tls = c.tls ?? false;
  return {
    own: ownOrigins(req, tls),
    ownPage: origin === null ? null : isOwnOrigin(req, origin, tls),
    https: viaHttps(req, tls),
    overTls: cameOverTls(req, { tls, peer }, new TrustedProxies()),
    client: new TrustedProxies().client(req.headers, peer),
    bearer: new SecretToken(TOKEN).checkBearer(req.headers.get("authorization")) ?? "valid",
  };
}

const DIRECT = "http://launcher.test:8080";
const PLAIN: Verdict = {
  own: [DIRECT, DIRECT],
  ownPage: null,
  https: false,
  overTls: false,
  client: "203.0.113.7",
  bearer: "missing",
};

Deno.test("who a client is: every header case through the one place that decides", async (t) => {
  const cases: [string, Case, Partial<Verdict>][] = [
    ["no header at all (curl, a server)", {}, {}],
    ["the launcher's own page", { headers: { origin: DIRECT } }, { ownPage: true }],
    ["its own page, origin written with capitals", {
      headers: { origin: "HTTP://Launcher.Test:8080" },
    }, {
      ownPage: true,
    }],
    ["a page of another site", { headers: { origin: "https://evil.example" } }, { ownPage: false }],
    ["a page of another port of the host", { headers: { origin: "http://launcher.test:9000" } }, {
      ownPage: false,
    }],
    ["the same host over the other scheme", { headers: { origin: "https://launcher.test:8080" } }, {
      ownPage: false,
    }],
    ["a sandboxed page or a file (origin null)", { headers: { origin: "null" } }, {
      ownPage: false,
    }],
    ["an origin that is no URL", { headers: { origin: "launcher.test:8080" } }, { ownPage: false }],
    ["an origin of another scheme", { headers: { origin: "ftp://launcher.test:8080" } }, {
      ownPage: false,
    }],
    ["Host names the launcher as the browser does", {
      url: "http://127.0.0.1:8080/paraview",
      headers: { host: "viz.example.org", origin: "http://viz.example.org" },
    }, { own: ["http://viz.example.org", "http://viz.example.org"], ownPage: true }],
    ["a Host that is no host is no origin", {
      headers: { host: "evil.example/x@launcher.test", origin: "http://evil.example" },
    }, { own: [], ownPage: false }],
    ["behind a TLS terminator (X-Forwarded-Proto and -Host)", {
      headers: {
        origin: "https://viz.example.org",
        "x-forwarded-host": "viz.example.org",
        "x-forwarded-proto": "https",
      },
    }, { own: [DIRECT, "https://viz.example.org"], ownPage: true, https: true }],
    ["behind two proxies: the outermost's values count", {
      headers: {
        origin: "https://viz.example.org",
        "x-forwarded-host": "viz.example.org, internal.example:8080",
        "x-forwarded-proto": "HTTPS, http",
      },
    }, { own: [DIRECT, "https://viz.example.org"], ownPage: true, https: true }],
    ["X-Forwarded-Proto alone keeps the host", { headers: { "x-forwarded-proto": "https" } }, {
      own: [DIRECT, "https://launcher.test:8080"],
      https: true,
    }],
    ["X-Forwarded-Host alone keeps the scheme", {
      headers: { "x-forwarded-host": "viz.example.org" },
    }, {
      own: [DIRECT, "http://viz.example.org"],
    }],
    ["a forwarded host of another site does not make its page the launcher's", {
      headers: { origin: "https://app.evil.example", "x-forwarded-host": "app.evil.example" },
    }, { own: [DIRECT, "http://app.evil.example"], ownPage: false }],
    ["a forwarded scheme that is not http(s) adds no origin", {
      headers: { "x-forwarded-proto": "gopher" },
    }, { own: [DIRECT] }],
    ["HTTPS to the launcher itself", { url: "https://launcher.test:8443/paraview" }, {
      own: ["https://launcher.test:8443", "https://launcher.test:8443"],
      https: true,
      overTls: true,
    }],
    ["over the launcher's own TLS listener: its https page is its own", {
      tls: true,
      headers: { origin: "https://launcher.test:8080" },
    }, {
      own: ["https://launcher.test:8080", "https://launcher.test:8080"],
      ownPage: true,
      https: true,
      overTls: true,
    }],
    ["over the launcher's own TLS listener, an http page of the host is not its own", {
      tls: true,
      headers: { origin: DIRECT },
    }, {
      own: ["https://launcher.test:8080", "https://launcher.test:8080"],
      ownPage: false,
      https: true,
      overTls: true,
    }],
    ["X-Forwarded-Proto from a trusted TLS terminator: the browser came over TLS", {
      peer: "127.0.0.1",
      headers: { "x-forwarded-proto": "https" },
    }, {
      own: [DIRECT, "https://launcher.test:8080"],
      https: true,
      overTls: true,
      client: "127.0.0.1",
    }],
    ["X-Forwarded-Proto from any other peer does not make the sessionURL wss", {
      headers: { "x-forwarded-proto": "https" },
    }, { own: [DIRECT, "https://launcher.test:8080"], https: true }],
    ["X-Forwarded-Proto http from a trusted terminator: plain", {
      peer: "127.0.0.1",
      headers: { "x-forwarded-proto": "http, https" },
    }, { client: "127.0.0.1" }],
    ["X-Forwarded-For from a peer that is no proxy is its own word", {
      headers: { "x-forwarded-for": "6.6.6.6" },
    }, {}],
    ["X-Forwarded-For from a proxy on this machine names the client", {
      peer: "127.0.0.1",
      headers: { "x-forwarded-for": "6.6.6.6, 198.51.100.4" },
    }, { client: "198.51.100.4" }],
    ["the right bearer token", { headers: { authorization: `Bearer ${TOKEN}` } }, {
      bearer: "valid",
    }],
    ["the scheme in any case, spaces or a tab around the token", {
      headers: { authorization: `bearer \t${TOKEN}  ` },
    }, { bearer: "valid" }],
    ["a wrong token", { headers: { authorization: "Bearer wrong" } }, { bearer: "invalid" }],
    ["the token with one character more", { headers: { authorization: `Bearer ${TOKEN}0` } }, {
      bearer: "invalid",
    }],
    ["another scheme", { headers: { authorization: `Basic ${btoa(`admin:${TOKEN}`)}` } }, {
      bearer: "invalid",
    }],
    ["no token after Bearer", { headers: { authorization: "Bearer" } }, { bearer: "invalid" }],
    ["two tokens", { headers: { authorization: `Bearer ${TOKEN} ${TOKEN}` } }, {
      bearer: "invalid",
    }],
  ];
  for (const [name, c, expected] of cases) {
    await t.step(name, () => assert.deepEqual(verdict(c), { ...PLAIN, ...expected }));
  }
});

Deno.test("SecretToken.matches() compares whole tokens, whatever their lengths", () => {
  const token = new SecretToken(TOKEN);
  assert.equal(token.matches(TOKEN), true);
  for (const other of ["", TOKEN.slice(0, -1), `${TOKEN}x`, TOKEN.toUpperCase()]) {
    assert.equal(token.matches(other), false, other);
  }
});
