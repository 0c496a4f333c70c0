import assert from "node:assert/strict";
import { join } from "node:path";
import {
  DEMO_APP,
  freePortRange,
  type Launcher,
  mapLines,
  processRuns,
  specConfig,
  startLauncher,
  within,
} from "./harness.ts";

const READY = ["sh", "-c", "echo Starting factory; exec sleep 600"];
const DEMO = DEMO_APP;

async function cleanup(launcher: Launcher): Promise<void> {
  await launcher.stop();
  await Deno.remove(launcher.dir, { recursive: true });
}

Deno.test("a session round trip: POST starts the demo app, GET returns it, DELETE stops it", async (t) => {
  const launcher = await startLauncher((dir) =>
    specConfig(dir, { demo: { cmd: [...DEMO, "--timeout", "0"] } })
  );
  try {
    const post = await launcher.post({
      application: "demo",
      sessionManagerURL: launcher.endpoint,
      node: 1024,
    });
    await t.step("POST answers 200 with the config plus id, sessionURL and secret", () => {
      assert.deepEqual(post.status, 200);
      assert.deepEqual(post.json.application, "demo");
      assert.deepEqual(post.json.node, 1024);
      assert.match(post.json.id as string, /^[a-z2-7]{26}$/, "lower-case base32 ids");
      assert.match(post.json.secret as string, /^[A-Za-z0-9_-]{32,}$/);
      assert.match(post.json.sessionURL as string, /^ws:\/\/127\.0\.0\.1:\d+\/$/);
      assert(!JSON.stringify(post.json).includes("demo_app.ts"), "no command line in the answer");
    });
    const id = post.json.id as string;
    await t.step(
      "the session's process takes the secret over its WebSocket and echoes",
      async () => {
        const ws = new WebSocket(post.json.sessionURL as string);
        const messages: string[] = [];
        const got = (n: number) =>
          within(
            5000,
            `${n} messages`,
            new Promise<void>((resolve) => {
              ws.onmessage = (e) => {
                messages.push(e.data);
                if (messages.length >= n) resolve();
              };
            }),
          );
        await within(5000, "open", new Promise((r) => ws.onopen = r));
        ws.send(post.json.secret as string);
        await got(1);
        ws.send("hello");
        await got(2);
        assert.deepEqual(JSON.parse(messages[0]).authenticated, true);
        assert.deepEqual(messages[1], "hello");
        const closed = new Promise((r) => ws.onclose = r);
        ws.close();
        await closed;
      },
    );
    await t.step("its output is in <log>/<id>.log and the map file has its line", async () => {
      const log = await Deno.readTextFile(join(launcher.dir, "logs", `${id}.log`));
      assert.match(log, /Starting factory/);
      const port = new URL(post.json.sessionURL as string).port;
      assert.deepEqual(await mapLines(join(launcher.dir, "proxy.map")), [
        `${id} 127.0.0.1:${port}`,
      ]);
    });
    await t.step("GET by id returns the same answer", async () => {
      const get = await launcher.request("GET", `${launcher.endpoint}/${id}`);
      assert.deepEqual(get.status, 200);
      const { proxy, stops, ...answer } = get.json;
      assert.deepEqual(answer, post.json);
      assert.equal(
        (proxy as Record<string, number>).connectionsTotal,
        0,
        "GET shows proxy counters",
      );
      assert.deepEqual(stops, { idleAt: null, lifetimeAt: null }, "and when it stops");
    });
    await t.step("DELETE stops it, returns the same answer, and the map line goes", async () => {
      const del = await launcher.request("DELETE", `${launcher.endpoint}/${id}`);
      assert.deepEqual(del.status, 200);
      assert.deepEqual(del.json, post.json);
      assert.deepEqual(await mapLines(join(launcher.dir, "proxy.map")), []);
      const again = await launcher.request("GET", `${launcher.endpoint}/${id}`);
      assert.deepEqual(again.status, 404);
      assert.match(again.json.error as string, /no session/);
    });
    await t.step("the launch was logged with id, app, host:port, pid and time to ready", () => {
      assert.match(
        launcher.log,
        new RegExp(
          `session ${id} ready: demo on 127\\.0\\.0\\.1:\\d+, pid \\d+, ready in [\\d.]+ ms`,
        ),
      );
      assert(!launcher.log.includes(post.json.secret as string), "the secret is never logged");
    });
  } finally {
    await cleanup(launcher);
  }
});

Deno.test("the ready line is found on stdout, on stderr, and without a final newline", async (t) => {
  const launcher = await startLauncher((dir) =>
    specConfig(dir, {
      stdout: { cmd: READY },
      stderr: { cmd: ["sh", "-c", "echo Starting factory >&2; exec sleep 600"] },
      nonewline: { cmd: ["sh", "-c", "printf 'wslink: Starting factory'; exec sleep 600"] },
      custom: {
        cmd: ["sh", "-c", "echo noise; echo 'App running at: x'; exec sleep 600"],
        ready_line: "App running at",
      },
    })
  );
  try {
    for (const application of ["stdout", "stderr", "nonewline", "custom"]) {
      await t.step(application, async () => {
        const post = await within(10_000, "the answer", launcher.post({ application }));
        assert.deepEqual(post.status, 200, JSON.stringify(post.json));
        assert.deepEqual(
          (await launcher.request("DELETE", `${launcher.endpoint}/${post.json.id}`)).status,
          200,
        );
      });
    }
  } finally {
    await cleanup(launcher);
  }
});

Deno.test("failures answer 503 JSON and leak no port: timeout, early exit, missing executable", async (t) => {
  const launcher = await startLauncher((dir) => ({
    ...specConfig(dir, {
      ready: { cmd: READY },
      silent: { cmd: ["sh", "-c", "exec sleep 600"], timeout: 0.3 },
      crash: { cmd: ["sh", "-c", "echo failing; exit 3"], timeout: 3600 },
      missing: { cmd: ["/nonexistent/pvpython", "$port"] },
      notexec: { cmd: [join(dir, "launcher.config")] },
      needs: { cmd: ["echo", "$node"] },
    }),
    resources: [{ host: "127.0.0.1", port: freePortRange(2) }],
  }));
  try {
    await t.step("an app that never prints its ready line times out and is stopped", async () => {
      const r = await launcher.post({ application: "silent" });
      assert.deepEqual(r.status, 503);
      assert.match(
        r.json.error as string,
        /printed no ready line \("Starting factory" or "App running at"\) within 0\.3 s/,
      );
    });
    await t.step("an app that exits early is answered at once, with its exit code", async () => {
      const r = await within(
        10_000,
        "the early-exit answer",
        launcher.post({ application: "crash" }),
      );
      assert.deepEqual(r.status, 503);
      assert.match(r.json.error as string, /exited with code 3 before it was ready/);
    });
    await t.step("a missing or non-executable command is a clear 503", async () => {
      const missing = await launcher.post({ application: "missing" });
      assert.deepEqual(missing.status, 503);
      assert.match(missing.json.error as string, /"\/nonexistent\/pvpython" was not found/);
      const notexec = await launcher.post({ application: "notexec" });
      assert.deepEqual(notexec.status, 503);
      assert.match(notexec.json.error as string, /not executable/);
    });
    await t.step("unknown or missing application is a 400 listing the known ones", async () => {
      const r = await launcher.post({ application: "nope" });
      assert.deepEqual(r.status, 400);
      assert.match(
        r.json.error as string,
        /unknown application "nope"; known applications: ready, silent/,
      );
      assert.deepEqual((await launcher.post({ app: "x" })).status, 400);
    });
    await t.step("a template variable without a value is a 400 naming app and key", async () => {
      const r = await launcher.post({ application: "needs" });
      assert.deepEqual(r.status, 400);
      assert.match(r.json.error as string, /application "needs" needs a value for "node"/);
    });
    await t.step("after every failure path, the whole range can still be allocated", async () => {
      const a = await launcher.post({ application: "ready" });
      const b = await launcher.post({ application: "ready" });
      assert.deepEqual([a.status, b.status], [200, 200]);
      assert.notDeepEqual(a.json.sessionURL, b.json.sessionURL);
      const c = await launcher.post({ application: "ready" });
      assert.deepEqual(c.status, 503);
      assert(c.headers.get("retry-after"));
      for (const s of [a, b]) await launcher.request("DELETE", `${launcher.endpoint}/${s.json.id}`);
    });
  } finally {
    await cleanup(launcher);
  }
});

Deno.test("max_session holds under 50 simultaneous POSTs: exactly 10 start, 40 get 503", async () => {
  const launcher = await startLauncher((dir) =>
    specConfig(dir, { ready: { cmd: READY } }, { max_session: 10 })
  );
  try {
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => launcher.post({ application: "ready" })),
    );
    const ok = answers.filter((a) => a.status === 200);
    const busy = answers.filter((a) => a.status === 503);
    assert.deepEqual([ok.length, busy.length], [10, 40]);
    assert(busy.every((a) => a.headers.get("retry-after") !== null));
    assert.deepEqual(new Set(ok.map((a) => a.json.sessionURL)).size, 10);
    assert.deepEqual((await mapLines(join(launcher.dir, "proxy.map"))).length, 10);
    await Promise.all(
      ok.map((a) => launcher.request("DELETE", `${launcher.endpoint}/${a.json.id}`)),
    );
    assert.deepEqual(await mapLines(join(launcher.dir, "proxy.map")), []);
  } finally {
    await cleanup(launcher);
  }
});

Deno.test("DELETE stops the whole process tree, grandchildren included", async () => {
  const launcher = await startLauncher((dir) =>
    specConfig(dir, {
      tree: {
        cmd: ["sh", "-c", "sleep 600 & echo child $$!; echo Starting factory; wait"],
      },
      stubborn: {
        cmd: [
          "sh",
          "-c",
          "trap '' TERM; sleep 600 & echo child $$!; echo Starting factory; while :; do wait; done",
        ],
      },
    }, { stop_grace: 0.5 })
  );
  try {
    for (const application of ["tree", "stubborn"]) {
      const post = await launcher.post({ application });
      assert.deepEqual(post.status, 200);
      const log = await Deno.readTextFile(join(launcher.dir, "logs", `${post.json.id}.log`));
      const child = Number(log.match(/child (\d+)/)![1]);
      assert(processRuns(child), "the grandchild runs before DELETE");
      const del = await launcher.request("DELETE", `${launcher.endpoint}/${post.json.id}`);
      assert.deepEqual(del.status, 200);
      assert(!processRuns(child), `the grandchild of ${application} is gone after DELETE`);
    }
    await launcher.waitForLog(/did not stop within its grace period; it was killed/);
  } finally {
    await cleanup(launcher);
  }
});

Deno.test("a session whose process exits by itself is removed at once", async () => {
  const launcher = await startLauncher((dir) =>
    specConfig(dir, { demo: { cmd: [...DEMO, "--timeout", "0.2"] } }, {
      resources: [{ host: "127.0.0.1", port: freePortRange(1) }],
    })
  );
  try {
    const post = await launcher.post({ application: "demo" });
    assert.deepEqual(post.status, 200);
    const id = post.json.id as string;
    await launcher.waitForLog(new RegExp(`session ${id}: its process exited with code 0`));
    await launcher.waitForLog(new RegExp(`session ${id} ended: its process ended`));
    assert.deepEqual((await launcher.request("GET", `${launcher.endpoint}/${id}`)).status, 404);
    assert.deepEqual(await mapLines(join(launcher.dir, "proxy.map")), []);
    const next = await launcher.post({ application: "demo" });
    assert.deepEqual(next.status, 200, "the only port was freed");
    await launcher.request("DELETE", `${launcher.endpoint}/${next.json.id}`);
  } finally {
    await cleanup(launcher);
  }
});

Deno.test("SIGTERM to the launcher stops every session, empties the map file, exits 0", async () => {
  const launcher = await startLauncher((dir) =>
    specConfig(dir, {
      tree: { cmd: ["sh", "-c", "sleep 600 & echo child $$!; echo Starting factory; wait"] },
    })
  );
  try {
    const posts = await Promise.all([1, 2, 3].map(() => launcher.post({ application: "tree" })));
    const pids: number[] = [];
    for (const p of posts) {
      assert.deepEqual(p.status, 200);
      const log = await Deno.readTextFile(join(launcher.dir, "logs", `${p.json.id}.log`));
      pids.push(Number(log.match(/child (\d+)/)![1]));
    }
    assert.deepEqual((await mapLines(join(launcher.dir, "proxy.map"))).length, 3);
    const status = await launcher.stop("SIGTERM");
    assert.deepEqual(status.code, 0);
    assert.deepEqual(pids.filter(processRuns), []);
    assert.deepEqual(await mapLines(join(launcher.dir, "proxy.map")), []);
  } finally {
    await Deno.remove(launcher.dir, { recursive: true });
  }
});

Deno.test("HTTP errors are JSON: 400, 404, 405 with Allow, 413", async (t) => {
  const launcher = await startLauncher((dir) => specConfig(dir, { ready: { cmd: READY } }));
  try {
    const cases: [string, string, string | undefined, number][] = [
      ["bad JSON", "POST", "{nope", 400],
      ["not an object", "POST", "[1,2]", 400],
      ["control characters", "POST", JSON.stringify({ application: "ready", x: "a\u0001b" }), 400],
      [
        "a value over 4 KiB",
        "POST",
        JSON.stringify({ application: "ready", x: "a".repeat(5000) }),
        400,
      ],
      [
        "too many keys",
        "POST",
        JSON.stringify(Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`k${i}`, i]))),
        400,
      ],
      ["a body over 1 MiB", "POST", JSON.stringify({ x: "a".repeat(1024 * 1024 + 10) }), 413],
    ];
    for (const [name, method, body, status] of cases) {
      await t.step(`${name} → ${status}`, async () => {
        const r = await launcher.request(method, launcher.endpoint, body);
        assert.deepEqual(r.status, status);
        assert.deepEqual(typeof r.json.error, "string");
      });
    }
    await t.step("an unknown path is 404 JSON", async () => {
      const r = await launcher.request("GET", `${launcher.base}/elsewhere`);
      assert.deepEqual(r.status, 404);
      assert.deepEqual(typeof r.json.error, "string");
    });
    await t.step("a wrong method is 405 JSON with Allow", async () => {
      const r = await launcher.request("PUT", launcher.endpoint);
      assert.deepEqual(r.status, 405);
      assert.deepEqual(r.headers.get("allow"), "POST, OPTIONS");
      const s = await launcher.request("POST", `${launcher.endpoint}/abc`, "{}");
      assert.deepEqual(s.status, 405);
      assert.deepEqual(s.headers.get("allow"), "GET, DELETE, OPTIONS");
    });
    await t.step("an unknown id is 404 JSON for GET and DELETE", async () => {
      for (const method of ["GET", "DELETE"]) {
        const r = await launcher.request(method, `${launcher.endpoint}/..%2F..%2Fetc`);
        assert.deepEqual(r.status, 404);
      }
    });
    await t.step("the endpoint answers with and without a trailing slash", async () => {
      for (const path of ["", "/"]) {
        const r = await launcher.request(
          "POST",
          launcher.endpoint + path,
          JSON.stringify({ application: "ready" }),
        );
        assert.deepEqual(r.status, 200);
        await launcher.request("DELETE", `${launcher.endpoint}/${r.json.id}`);
      }
    });
  } finally {
    await cleanup(launcher);
  }
});
