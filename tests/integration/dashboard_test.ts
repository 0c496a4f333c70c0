import assert from "node:assert/strict";
import { processRuns, specConfig, startLauncher, within } from "./harness.ts";

const READY = ["sh", "-c", "echo Starting factory; exec sleep 600"];

Deno.test("the real launcher (or its bundle) serves the built-in dashboard and ends its event streams at shutdown", async (t) => {
  const launcher = await startLauncher((dir) => specConfig(dir, { viz: { cmd: READY } }));
  let stopped = false;
  try {
    const dashboard = `${launcher.base}/_dashboard`;
    // No admin_token in the config: the launcher made one, and logged a URL that carries it.
    const [, token] = await launcher.waitForLog(/_dashboard\/login\?token=([A-Za-z0-9_-]+)/);
    const headers = { authorization: `Bearer ${token}` };
    await t.step("the page comes from the program itself, with its script and CSP", async () => {
      const res = await fetch(`${dashboard}/`, { headers });
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-security-policy") ?? "", /script-src 'sha256-/);
      const html = await res.text();
      assert.match(html, /<script type="module">[^]*new EventSource\("api\/events"\)/);
      assert.match(html, /<style>[^]*\.sessions/);
    });

    const post = await launcher.post({ application: "viz" });
    assert.equal(post.status, 200);
    await t.step("the state lists the session launched over REST", async () => {
      const state = await (await fetch(`${dashboard}/api/state`, { headers })).json();
      assert.deepEqual(state.sessions.map((s: { id: string }) => s.id), [post.json.id]);
    });

    await t.step("its log tail is the session's output", async () => {
      const res = await fetch(`${dashboard}/api/sessions/${post.json.id}/log`, { headers });
      assert.equal(await res.text(), "Starting factory\n");
    });

    await t.step("SIGTERM ends an open event stream, and the launcher exits at once", async () => {
      const events = await fetch(`${dashboard}/api/events`, { headers });
      const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader();
      const first = await reader.read();
      assert.match(first.value ?? "", /^retry: 3000\nevent: state\ndata: \{/);
      const status = await launcher.stop();
      stopped = true;
      assert.equal(status.code, 0);
      for (;;) {
        const { done } = await within(5_000, "the event stream to end", reader.read());
        if (done) break;
      }
    });
  } finally {
    if (!stopped) await launcher.stop();
    await Deno.remove(launcher.dir, { recursive: true });
  }
});

Deno.test("the dashboard stops a session that is still starting; its launch fails as stopped and its process is gone", async () => {
  const token = "a-dashboard-token-0123456789";
  const launcher = await startLauncher((dir) =>
    specConfig(dir, { never: { cmd: ["sh", "-c", "exec sleep 600"], timeout: 120 } }, {
      admin_token: token,
    })
  );
  const headers = { authorization: `Bearer ${token}` };
  const dashboard = `${launcher.base}/_dashboard`;
  try {
    const launch = launcher.post({ application: "never" });
    // The state as the page gets it: pushed at once, then on every change.
    const events = await fetch(`${dashboard}/api/events`, { headers });
    const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader();
    let starting: { id: string; pid: number } | undefined;
    await within(
      10_000,
      "the session to be listed as starting with its pid",
      (async () => {
        let text = "";
        while (!starting) {
          const { value, done } = await reader.read();
          if (done) throw new Error("the event stream ended");
          text += value;
          for (const m of text.matchAll(/^data: (.*)$/gm)) {
            const state = JSON.parse(m[1]);
            starting = state.sessions.find((s: { state: string; pid: number | null }) =>
              s.state === "starting" && s.pid !== null
            );
          }
        }
      })(),
    );
    await reader.cancel();
    const stop = await fetch(`${dashboard}/api/sessions/${starting!.id}/stop`, {
      method: "POST",
      headers,
    });
    assert.equal(stop.status, 200);
    assert.deepEqual(await stop.json(), { id: starting!.id, stopped: true });
    const post = await within(10_000, "the launch's answer", launch);
    assert.equal(post.status, 503);
    assert.equal(post.json.error, 'application "never" was stopped before it was ready');
    assert.ok(!processRuns(starting!.pid), "its process runs on");
    await launcher.waitForLog(new RegExp(`session ${starting!.id} ended: `));
  } finally {
    await launcher.stop();
    await Deno.remove(launcher.dir, { recursive: true });
  }
});
