import assert from "node:assert/strict";
import { join } from "node:path";
import { freePortRange, mapLines, startLauncher } from "./harness.ts";

// Prints its arguments ($$ is a literal $ in templates), then the ready line with no newline.
const READY = ["sh", "-c", "echo args: $$0 $$*; printf 'wslink: Starting factory'; exec sleep 600"];

function wslinkConfig(dir: string): Record<string, unknown> {
  return {
    configuration: {
      host: "localhost",
      port: 9000,
      endpoint: "paraview",
      content: join(dir, "www"),
      proxy_file: join(dir, "proxy-mapping.txt"),
      sessionURL: "ws://USE_HOST/proxy?sessionId=${id}&path=ws",
      timeout: 25,
      log_dir: join(dir, "logs"),
      fields: ["file", "host", "port", "updir", "python_exec"],
      sanitize: {
        file: { type: "regexp", regexp: "^[-\\w./]+$", default: "none" },
        mode: { type: "inList", list: ["a", "b"], default: "a" },
      },
    },
    sessionData: { updir: "/Home/${port}" },
    resources: [{ host: "127.0.0.1", port_range: freePortRange(5) }],
    properties: { python_exec: "/opt/paraview/bin/pvpython" },
    apps: {
      trame: {
        cmd: [
          ...READY,
          ...["--port", "${port}", "--file", "${file}", "--mode", "${mode}"],
          ...["--authKey", "${secret}"],
        ],
      },
    },
  };
}

Deno.test("a wslink-format config works unchanged and answers what the wslink launcher answers", async (t) => {
  const launcher = await startLauncher((dir) => {
    Deno.mkdirSync(join(dir, "www"));
    Deno.writeTextFileSync(join(dir, "www", "index.html"), "<h1>trame</h1>");
    return wslinkConfig(dir);
  });
  try {
    await t.step("it listens on /paraview as configured", () => {
      assert.match(launcher.endpoint, /\/paraview$/);
    });
    const post = await launcher.post({
      application: "trame",
      file: "data/can.ex2",
      mode: "b",
      sessionManagerURL: `${launcher.endpoint}/`,
      secret: "client-secret",
      token: "kept out",
    }, "/");
    const id = post.json.id as string;
    await t.step(
      "POST answers id, sessionURL, secret (its cmd uses it), sessionManagerURL and fields",
      () => {
        assert.equal(post.status, 200);
        const port = post.json.port as number;
        assert.deepEqual(post.json, {
          id,
          sessionURL: `ws://USE_HOST/proxy?sessionId=${id}&path=ws`,
          secret: "client-secret",
          sessionManagerURL: `${launcher.endpoint}/`,
          file: "data/can.ex2",
          host: "127.0.0.1",
          port,
          updir: `/Home/${port}`,
        });
      },
    );
    await t.step("the map file has the session as <id> <host>:<port>", async () => {
      assert.deepEqual(await mapLines(join(launcher.dir, "proxy-mapping.txt")), [
        `${id} 127.0.0.1:${post.json.port}`,
      ]);
    });
    await t.step("sanitize replaces bad client values by the rule's default", async () => {
      const bad = await launcher.post({ application: "trame", file: "x; rm -rf /", mode: "evil" });
      assert.equal(bad.status, 200);
      assert.equal(bad.json.file, "none");
      const log = await Deno.readTextFile(join(launcher.dir, "logs", `${bad.json.id}.log`));
      assert.match(
        log,
        new RegExp(`^args: --port ${bad.json.port} --file none --mode a --authKey \\S+\n`),
      );
      await launcher.request("DELETE", `${launcher.endpoint}/${bad.json.id}`);
    });
    await t.step("GET and DELETE by id work without environment switches", async () => {
      const get = await launcher.request("GET", `${launcher.endpoint}/${id}`);
      assert.equal(get.status, 200);
      const del = await launcher.request("DELETE", `${launcher.endpoint}/${id}`);
      assert.equal(del.status, 200);
      assert.equal(del.json.id, id);
      assert.ok(!JSON.stringify(del.json).includes("pvpython"), "no properties or command line");
    });
    await t.step("content is served, and / redirects to index.html", async () => {
      const root = await fetch(`${launcher.base}/`, { redirect: "manual" });
      await root.body?.cancel();
      assert.equal(root.status, 302);
      assert.equal(root.headers.get("location"), "/index.html");
      const page = await fetch(`${launcher.base}/index.html`);
      assert.equal(await page.text(), "<h1>trame</h1>");
    });
  } finally {
    await launcher.stop();
    await Deno.remove(launcher.dir, { recursive: true });
  }
});

Deno.test("the trame image's base config starts as wslink's does: endpoint \"\", no apps, no content", async (t) => {
  const launcher = await startLauncher((dir) => ({
    configuration: {
      host: "0.0.0.0",
      port: 80,
      endpoint: "",
      content: "",
      proxy_file: join(dir, "proxy-mapping.txt"),
      sessionURL: "ws://USE_HOST/proxy?sessionId=${id}&path=ws",
      timeout: 25,
      log_dir: join(dir, "logs"),
      fields: [],
      sanitize: {},
    },
    resources: [{ host: "0.0.0.0", port_range: freePortRange(2) }],
    properties: {},
    apps: {},
  }));
  try {
    await t.step("it warns and listens, the REST API at //", () => {
      assert.match(launcher.log, /configuration\.endpoint.*at "\/\/"/);
      assert.match(launcher.log, /no applications/);
      assert.ok(launcher.endpoint.endsWith("//"), launcher.endpoint);
    });
    await t.step("a POST gets the usual unknown-application 400", async () => {
      const post = await launcher.post({ application: "trame" }, "");
      assert.equal(post.status, 400);
      assert.equal(
        post.json.error,
        'unknown application "trame"; this launcher has no applications configured',
      );
    });
    await t.step("no static files are served", async () => {
      const res = await fetch(`${launcher.base}/index.html`);
      await res.body?.cancel();
      assert.equal(res.status, 404);
    });
  } finally {
    await launcher.stop();
    await Deno.remove(launcher.dir, { recursive: true });
  }
});

Deno.test("a cmd variable nothing provides reaches the app as written, as in wslink, and is logged", async () => {
  const launcher = await startLauncher((dir) => ({
    configuration: {
      host: "localhost",
      port: 9000,
      endpoint: "paraview",
      proxy_file: join(dir, "proxy-mapping.txt"),
      sessionURL: "ws://USE_HOST/proxy?sessionId=${id}&path=ws",
      timeout: 25,
      log_dir: join(dir, "logs"),
      fields: [],
    },
    resources: [{ host: "127.0.0.1", port_range: freePortRange(2) }],
    properties: {},
    apps: { sandtank: { cmd: [...READY, "--data", "${dataDir}", "--cost", "5$"] } },
  }));
  try {
    assert.match(launcher.log, /apps\.sandtank\.cmd\[4\].*no property gives "dataDir" a value/);
    const post = await launcher.post({ application: "sandtank" });
    assert.equal(post.status, 200, JSON.stringify(post.json));
    const log = await Deno.readTextFile(join(launcher.dir, "logs", `${post.json.id}.log`));
    assert.match(log, /^args: --data \$\{dataDir\} --cost 5\$\n/);
    await launcher.waitForLog(/application "?sandtank"?: nothing gives "?dataDir"? a value/);
    await launcher.request("DELETE", `${launcher.endpoint}/${post.json.id}`);
  } finally {
    await launcher.stop();
    await Deno.remove(launcher.dir, { recursive: true });
  }
});

Deno.test('"endpoint": "/" serves POST at / and GET and DELETE at /<id>, as wslink does; the content is still served', async (t) => {
  const launcher = await startLauncher((dir) => {
    Deno.mkdirSync(join(dir, "www"));
    Deno.writeTextFileSync(join(dir, "www", "index.html"), "<h1>home</h1>");
    Deno.writeTextFileSync(join(dir, "www", "about"), "about us");
    return {
      configuration: {
        host: "localhost",
        port: 9000,
        endpoint: "/",
        content: join(dir, "www"),
        sessionURL: "ws://USE_HOST/proxy?sessionId=${id}&path=ws",
        log_dir: join(dir, "logs"),
      },
      resources: [{ host: "127.0.0.1", port_range: freePortRange(2) }],
      apps: { viz: { cmd: READY } },
    };
  });
  const get = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${launcher.base}${path}`, { redirect: "manual", ...init });
    return { status: res.status, text: await res.text(), location: res.headers.get("location") };
  };
  try {
    await t.step("it says it listens at /", () => {
      assert.equal(launcher.endpoint, `${launcher.base}/`);
    });
    const post = await get("/", { method: "POST", body: JSON.stringify({ application: "viz" }) });
    assert.equal(post.status, 200, post.text);
    const id = JSON.parse(post.text).id as string;
    await t.step("GET /<id> answers the session", async () => {
      const session = await get(`/${id}`);
      assert.equal(session.status, 200, session.text);
      assert.equal(JSON.parse(session.text).id, id);
    });
    await t.step("the content, the metrics and the health check are served as before", async () => {
      assert.deepEqual(await get("/"), { status: 302, text: "", location: "/index.html" });
      assert.equal((await get("/index.html")).text, "<h1>home</h1>");
      assert.equal((await get("/about")).text, "about us");
      assert.equal((await get("/healthz")).status, 200);
      assert.equal((await get("/metrics")).status, 200);
    });
    await t.step("DELETE /<id> stops it", async () => {
      assert.equal((await get(`/${id}`, { method: "DELETE" })).status, 200);
      const gone = await get(`/${id}`);
      assert.equal(gone.status, 404);
      assert.deepEqual(JSON.parse(gone.text), { error: `no session with id "${id}"` });
    });
  } finally {
    await launcher.stop();
    await Deno.remove(launcher.dir, { recursive: true });
  }
});
