/**
 * The launcher serving HTTPS itself (`tls_cert`, `tls_key`): the REST API, the built-in proxy
 * over `wss://`, the content, `/metrics` and `/healthz`; the plain-HTTP redirect; SIGHUP
 * reloading the certificate while a WebSocket stays open; a bad pair refused at reload and
 * at `--check`. Certificates come from a test CA made with openssl.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { ECHO_APP, ENTRY, type Launcher, portOf, waitForFile, within } from "./harness.ts";
import { RawConnection } from "./raw_http.ts";
import { startTlsLauncher, stopTlsLauncher } from "./tls_harness.ts";
import { PKI_NEEDS, type TestPair, TestPki } from "../tls/pki.ts";
import { closeEcho, echo, openEcho, peerCertificate } from "../tls/support.ts";

const DAY = 86_400_000;

/** The content folder: one page. */
async function content(dir: string): Promise<string> {
  const www = join(dir, "www");
  await Deno.mkdir(www);
  await Deno.writeTextFile(join(www, "index.html"), "<title>over TLS</title>");
  return www;
}

/** Copies a pair's files over the ones the launcher was started with (as certbot renews). */
async function install(pair: TestPair, into: TestPair): Promise<void> {
  await Deno.writeTextFile(into.certFile, await Deno.readTextFile(pair.certFile));
  await Deno.writeTextFile(into.keyFile, await Deno.readTextFile(pair.keyFile));
}

async function expiryGauge(launcher: Launcher): Promise<number> {
  const res = await fetch(`${launcher.base}/metrics`, { client: launcher.client });
  const m = (await res.text()).match(
    /^pvw_launcher_tls_certificate_expiry_seconds\{[^}]*\} (\d+)$/m,
  );
  return Number(m?.[1]);
}

Deno.test({
  name:
    "a launcher with tls_cert serves everything over HTTPS and reloads its certificate on SIGHUP",
  ignore: PKI_NEEDS.ignore,
  async fn(t) {
    PKI_NEEDS.check();
    const pki = await TestPki.create();
    // Installed in files of its own, which the renewals overwrite.
    const firstEnd = new Date(Date.now() + 10 * DAY);
    const first = await pki.leaf({ end: firstEnd });
    const live: TestPair = {
      ...first,
      certFile: join(pki.dir, "live.pem"),
      keyFile: join(pki.dir, "live.key"),
    };
    await install(first, live);
    await Deno.chmod(live.keyFile, 0o600);
    const launcher = await startTlsLauncher(pki, live, { echo: { cmd: ECHO_APP } }, {
      content: await content(pki.dir),
      redirect_http: "127.0.0.1:0",
      dashboard_listen: "127.0.0.1:0",
    });
    const client = launcher.client!;
    const port = portOf(launcher);
    let id = "";
    let ws: WebSocket | undefined;
    try {
      assert.match(launcher.base, /^https:\/\/127\.0\.0\.1:\d+$/);
      await t.step("the expiry is logged at start, a warning within 14 days", async () => {
        await launcher.waitForLog(
          /\[WRN\] pvw-launcher·tls: the TLS certificate for 127\.0\.0\.1, localhost expires in (9|10) days/,
        );
      });

      await t.step("REST over https: POST answers a wss:// sessionURL, GET the same", async () => {
        const post = await launcher.post({ application: "echo" });
        assert.equal(post.status, 200, JSON.stringify(post.json));
        id = String(post.json.id);
        assert.equal(post.json.sessionURL, `wss://USE_HOST/proxy/${id}`);
        const get = await launcher.request("GET", `${launcher.endpoint}/${id}`);
        assert.equal(get.json.sessionURL, `wss://USE_HOST/proxy/${id}`);
      });

      await t.step(
        "its own https page may POST; the http page of the same host may not",
        async () => {
          const from = (origin: string) =>
            fetch(launcher.endpoint, {
              method: "POST",
              body: JSON.stringify({ application: "nosuchapp" }),
              headers: { origin },
              client,
            }).then(async (res) => ({ status: res.status, body: await res.json() }));
          const own = await from(`https://127.0.0.1:${port}`);
          assert.equal(own.status, 400, JSON.stringify(own.body)); // past the origin check
          assert.equal((await from(`http://127.0.0.1:${port}`)).status, 403);
        },
      );

      await t.step("/healthz, /metrics with the certificate's end, and the content", async () => {
        const health = await launcher.request("GET", `${launcher.base}/healthz`);
        assert.equal(health.json.status, "ok");
        assert.equal(await expiryGauge(launcher), Math.floor(firstEnd.getTime() / 1000));
        const page = await fetch(`${launcher.base}/index.html`, { client });
        assert.equal(await page.text(), "<title>over TLS</title>");
      });

      await t.step("the built-in proxy over wss://, the app told https", async () => {
        ws = await openEcho(`wss://localhost:${port}/proxy/${id}`, client);
        assert.equal(await echo(ws, "through TLS"), "through TLS");
        const http = await fetch(`${launcher.base}/proxy/${id}/x`, { client });
        const seen = await http.json();
        assert.equal(seen.headers["x-forwarded-proto"], "https");
      });

      await t.step(
        "the dashboard's own listener serves HTTPS; its login cookie is Secure",
        async () => {
          const m = await launcher.waitForLog(/log in at (https:\/\/127\.0\.0\.1:(\d+)\/\S+)/);
          assert.notEqual(Number(m[2]), port);
          const login = await fetch(m[1], { client, redirect: "manual" });
          await login.body?.cancel();
          assert.equal(login.status, 303);
          assert.match(login.headers.get("set-cookie") ?? "", /; Secure$/);
        },
      );

      await t.step("plain HTTP on the TLS port gets no HTTP answer", async () => {
        const conn = await RawConnection.open(port);
        try {
          const answer = await within(10_000, "the TLS port to hang up", conn.get("/healthz"));
          assert.equal(answer.status, undefined, "nothing served in the clear");
        } finally {
          conn.close();
        }
      });

      await t.step(
        "redirect_http answers everything with 308 to the same path over https",
        async () => {
          const m = launcher.log.match(/redirecting http:\/\/127\.0\.0\.1:(\d+)\/ to https/);
          const redirect = `http://127.0.0.1:${m![1]}`;
          for (const [method, path] of [["GET", "/paraview/x?y=1"], ["POST", "/healthz"]]) {
            const body = method === "POST" ? "{}" : undefined;
            const res = await fetch(redirect + path, { method, redirect: "manual", body });
            await res.body?.cancel();
            assert.equal(res.status, 308);
            assert.equal(res.headers.get("location"), `https://127.0.0.1:${port}${path}`);
          }
        },
      );

      const keptAlive = await RawConnection.openTls(port, pki.ca);
      try {
        assert.equal((await keptAlive.get("/healthz")).status, 200);
        await t.step("SIGHUP with a renewed certificate: new connections get it", async () => {
          const renewedEnd = new Date(Date.now() + 60 * DAY);
          const renewed = await pki.leaf({ end: renewedEnd });
          await install(renewed, live);
          launcher.process.kill("SIGHUP");
          await launcher.waitForLog(/reloaded: the TLS certificate for .* valid until/);
          assert.equal((await peerCertificate(port, pki.ca)).serial, renewed.serial);
          assert.equal(await expiryGauge(launcher), Math.floor(renewedEnd.getTime() / 1000));
        });
        await t.step("...while the open WebSocket and keep-alive connection go on", async () => {
          assert.equal(await echo(ws!, "after the reload"), "after the reload");
          assert.equal((await keptAlive.get("/healthz")).status, 200);
          assert.equal(keptAlive.isEnded, false);
        });
      } finally {
        keptAlive.close();
      }

      await t.step(
        "SIGHUP with a mismatched key: refused, logged, the old pair stays",
        async () => {
          const serial = (await peerCertificate(port, pki.ca)).serial;
          await Deno.writeTextFile(live.keyFile, await Deno.readTextFile(await pki.key()));
          launcher.process.kill("SIGHUP");
          await launcher.waitForLog(
            /\[ERR\] pvw-launcher·tls: TLS certificate not reloaded, keeping the one in service .*the private key does not match the certificate/,
          );
          assert.equal((await peerCertificate(port, pki.ca)).serial, serial);
          assert.equal(await echo(ws!, "still here"), "still here");
          const metrics = await (await fetch(`${launcher.base}/metrics`, { client })).text();
          assert.match(metrics, /^pvw_launcher_tls_reloads_total\{outcome="refused"\} 1$/m);
          assert.match(metrics, /^pvw_launcher_tls_reloads_total\{outcome="reloaded"\} 1$/m);
        },
      );

      await t.step("the session was never touched: DELETE stops it", async () => {
        await closeEcho(ws!);
        const stop = await launcher.request("DELETE", `${launcher.endpoint}/${id}`);
        assert.equal(stop.status, 200);
      });
    } finally {
      if (ws) await closeEcho(ws);
      await stopTlsLauncher(launcher);
      await pki.remove();
    }
  },
});

/** Runs `--check` on a config naming the pair; returns its exit code and output. */
async function check(dir: string, cert: string, key: string) {
  const file = join(dir, `check-${crypto.randomUUID()}.config`);
  await Deno.writeTextFile(
    file,
    JSON.stringify(
      {
        url: "https://0.0.0.0:8443/paraview",
        tls_cert: cert,
        tls_key: key,
        log: join(dir, "logs"),
        resources: [{ host: "localhost", port: [9001, 9002] }],
        applications: { viz: { cmd: ["viz"] } },
      },
      null,
      2,
    ),
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-all", ENTRY, file, "--check"],
    stdin: "null",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr), file };
}

Deno.test({
  name: "--check reports the certificate's names and expiry, and refuses a mismatched key",
  ignore: PKI_NEEDS.ignore,
  async fn() {
    PKI_NEEDS.check();
    const pki = await TestPki.create();
    try {
      const leaf = await pki.leaf({ end: new Date(Date.now() + 90 * DAY) });
      const good = await check(pki.dir, leaf.certFile, leaf.keyFile);
      assert.equal(good.code, 0, good.stderr);
      assert.match(good.stdout, /TLS names: 127\.0\.0\.1, localhost/);
      assert.match(
        good.stdout,
        /TLS expiry: the TLS certificate for .* is valid until .*\(89 days left\)/,
      );
      assert.match(good.stdout, new RegExp(`serial ${leaf.serial}`));

      const bad = await check(pki.dir, leaf.certFile, await pki.key());
      assert.equal(bad.code, 1);
      assert.match(
        bad.stderr,
        new RegExp(`${bad.file}:4:3: error: tls_key: .*the private key does not match`),
      );
    } finally {
      await pki.remove();
    }
  },
});

Deno.test({
  name: "with --log-file, SIGHUP both re-opens the log file and reloads the certificate",
  ignore: PKI_NEEDS.ignore,
  async fn() {
    PKI_NEEDS.check();
    const pki = await TestPki.create();
    const leaf = await pki.leaf();
    const config = join(pki.dir, "launcher.config");
    const logFile = join(pki.dir, "launcher.log");
    await Deno.writeTextFile(
      config,
      JSON.stringify({
        url: "https://127.0.0.1:0/paraview",
        tls_cert: leaf.certFile,
        tls_key: leaf.keyFile,
        log: join(pki.dir, "logs"),
        resources: [{ host: "127.0.0.1", port: [9001, 9002] }],
        applications: { viz: { cmd: ["viz"] } },
      }),
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", ENTRY, config, "--log-file", logFile],
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      const [, port] = await waitForFile(logFile, /listening on https:\/\/127\.0\.0\.1:(\d+)/);
      await Deno.rename(logFile, `${logFile}.1`);
      const renewed = await pki.leaf();
      await Deno.writeTextFile(leaf.certFile, renewed.cert);
      await Deno.writeTextFile(leaf.keyFile, renewed.key);
      child.kill("SIGHUP");
      await waitForFile(logFile, /SIGHUP: re-opened/);
      await waitForFile(logFile, new RegExp(`reloaded: .*serial 0*${renewed.serial}`));
      assert.equal((await peerCertificate(Number(port), pki.ca)).serial, renewed.serial);
    } finally {
      child.kill("SIGTERM");
      await child.status;
      await pki.remove();
    }
  },
});
