import assert from "node:assert/strict";
import { specConfig, startLauncher, within } from "./harness.ts";

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
