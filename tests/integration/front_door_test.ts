import assert from "node:assert/strict";
import { join } from "node:path";
import { type Launcher, specConfig, startLauncher } from "./harness.ts";
import { childrenOf, filesIn } from "./procfs.ts";

const READY = ["sh", "-c", "echo Starting factory; exec sleep 600", "viz"];
const ALLOWED = "https://app.example.com";
const EVIL = "https://evil.example";

/** Sends a request with headers and reads the JSON answer (or none, for a 204). */
async function call(
  method: string,
  url: string,
  init: { headers?: Record<string, string>; body?: unknown } = {},
) {
  const res = await fetch(url, {
    method,
    headers: init.body === undefined
      ? init.headers
      : { "content-type": "text/plain;charset=UTF-8", ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    json: (text ? JSON.parse(text) : {}) as Record<string, string>,
  };
}

async function cleanup(launcher: Launcher): Promise<void> {
  await launcher.stop();
  await Deno.remove(launcher.dir, { recursive: true });
}

function randomText(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("a live launcher: a cross-origin POST spawns nothing, the allowed and own origins launch", async (t) => {
  const launcher = await startLauncher((dir) =>
    specConfig(dir, { viz: { cmd: READY } }, { allowed_origins: [ALLOWED] })
  );
  const pid = launcher.process.pid;
  const logs = join(launcher.dir, "logs");
  try {
    const filesBefore = await filesIn(logs);
    assert.deepEqual(childrenOf(pid), []);
    await t.step("a POST from another site's page is 403 JSON and starts no process", async () => {
      for (const origin of [EVIL, "null", `${ALLOWED}.evil.example`]) {
        const res = await call("POST", launcher.endpoint, {
          headers: { origin },
          body: { application: "viz" },
        });
        assert.equal(res.status, 403, origin);
        assert.match(res.json.error, /may not use this launcher/);
        assert.equal(res.headers.get("access-control-allow-origin"), null);
      }
      const preflight = await call("OPTIONS", launcher.endpoint, {
        headers: { origin: EVIL, "access-control-request-method": "POST" },
      });
      assert.equal(preflight.status, 403);
      assert.deepEqual(await filesIn(logs), filesBefore, "no <id>.log was created");
      assert.deepEqual(childrenOf(pid), [], "no process was started");
      assert.doesNotMatch(launcher.log, /session \S+ ready/);
    });
    await t.step("a page of an allowed origin gets its preflight and its session", async () => {
      const preflight = await call("OPTIONS", launcher.endpoint, {
        headers: { origin: ALLOWED, "access-control-request-method": "POST" },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get("access-control-allow-origin"), ALLOWED);
      assert.equal(preflight.headers.get("access-control-allow-methods"), "POST, GET, DELETE");
      const res = await call("POST", launcher.endpoint, {
        headers: { origin: ALLOWED },
        body: { application: "viz" },
      });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(res.headers.get("access-control-allow-origin"), ALLOWED);
      assert.equal(res.headers.get("vary"), "Origin");
      assert.deepEqual(await filesIn(logs), [...filesBefore, `${res.json.id}.log`].sort());
      assert.equal(childrenOf(pid).length, 1);
      const gone = await call("DELETE", `${launcher.endpoint}/${res.json.id}`, {
        headers: { origin: ALLOWED },
      });
      assert.equal(gone.status, 200);
      assert.deepEqual(childrenOf(pid), []);
    });
    await t.step("a page the launcher serves itself (its own origin) launches", async () => {
      const res = await call("POST", launcher.endpoint, {
        headers: { origin: launcher.base },
        body: { application: "viz" },
      });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(res.headers.get("access-control-allow-origin"), launcher.base);
      const evil = await call("DELETE", `${launcher.endpoint}/${res.json.id}`, {
        headers: { origin: EVIL },
      });
      assert.equal(evil.status, 403, "another site cannot stop it");
      assert.equal(childrenOf(pid).length, 1);
      assert.equal((await call("DELETE", `${launcher.endpoint}/${res.json.id}`)).status, 200);
    });
  } finally {
    await cleanup(launcher);
  }
});

Deno.test("no secret, password or token given to a session reaches the launcher's log, even at debug", async (t) => {
  for (const format of ["text", "json"]) {
    await t.step(`--log-format ${format}`, async () => {
      const token = randomText("api-token-");
      const wrongToken = randomText("wrong-token-");
      const secret = randomText("client-secret-");
      const dyingSecret = randomText("dying-secret-");
      const password = randomText("client-password-");
      // A credential under a name no key-name filter knows (the trame client merges the page's
      // query parameters into the POST body).
      const ticket = randomText("client-ticket-");
      const argv = ["--authKey", "$secret", "--password", "$password"];
      const launcher = await startLauncher(
        (dir) =>
          specConfig(dir, {
            viz: { cmd: [...READY, ...argv] },
            dies: { cmd: ["sh", "-c", "exit 3", "dies", ...argv] },
          }, { api_token: token }),
        ["--log-level", "debug", "--log-format", format],
      );
      // The harness reads the endpoint from a text log line; a JSON line ends differently.
      const endpoint = `${launcher.base}/paraview`;
      const auth = { authorization: `Bearer ${token}` };
      const given = [token, wrongToken, secret, dyingSecret, password, ticket];
      const ids: string[] = [];
      try {
        const withSecret = await call("POST", endpoint, {
          headers: auth,
          body: { application: "viz", secret, password },
        });
        assert.equal(withSecret.status, 200, JSON.stringify(withSecret.json));
        assert.equal(withSecret.json.secret, secret, "the session got the client's secret");
        const generated = await call("POST", endpoint, {
          headers: auth,
          body: { application: "viz", password },
        });
        assert.equal(generated.status, 200);
        given.push(generated.json.secret);
        const died = await call("POST", endpoint, {
          headers: auth,
          body: { application: "dies", secret: dyingSecret, password, ticket },
        });
        assert.equal(died.status, 503);
        const refused = await call("POST", endpoint, {
          headers: { authorization: `Bearer ${wrongToken}` },
          body: { application: "viz", secret, password },
        });
        assert.equal(refused.status, 401);
        for (const { json } of [withSecret, generated]) {
          ids.push(json.id);
          assert.equal(
            (await call("GET", `${endpoint}/${json.id}`, { headers: auth }))
              .status,
            200,
          );
          assert.equal(
            (await call("DELETE", `${endpoint}/${json.id}`, { headers: auth }))
              .status,
            200,
          );
        }
      } finally {
        await cleanup(launcher);
      }
      const log = launcher.log;
      for (const id of ids) assert(log.includes(`${id}`), "each session was logged");
      assert.match(log, /exited with code 3/, "the failed launch was logged");
      for (const value of given) {
        assert(!log.includes(value), `the launcher logged ${value}:\n${log}`);
      }
    });
  }
});

Deno.test("session logs are readable by the launcher's user only; the map file by its group", async () => {
  const launcher = await startLauncher((dir) => specConfig(dir, { viz: { cmd: READY } }));
  try {
    const res = await call("POST", launcher.endpoint, { body: { application: "viz" } });
    assert.equal(res.status, 200);
    const mode = async (path: string) => (await Deno.stat(path)).mode! & 0o777;
    assert.equal(await mode(join(launcher.dir, "logs", `${res.json.id}.log`)), 0o600);
    assert.equal(await mode(join(launcher.dir, "proxy.map")), 0o640);
    assert.equal(
      await mode(join(launcher.dir, "pvw-launcher-state.json")),
      0o600,
      "the state file holds the sessions' secrets",
    );
    assert.equal((await call("DELETE", `${launcher.endpoint}/${res.json.id}`)).status, 200);
  } finally {
    await cleanup(launcher);
  }
});
