/**
 * Launches that do not wait, through the real launcher and local sessions: `Prefer:
 * respond-async` gets 202 with the id and a Location at once; GET of the Location says where
 * the start is; `<endpoint>/<id>/events` streams `starting`, then `ready` with the answer,
 * or `failed` with the error; a POST without the header still waits.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type Launcher, specConfig, startLauncher, within } from "./harness.ts";
import { EventReader } from "./sse.ts";

/** An app that prints its ready line only once the test writes to its FIFO. */
function heldApp(fifo: string): string[] {
  return ["/bin/sh", "-c", 'cat "$0" >/dev/null; echo Starting factory; exec sleep 600', fifo];
}

/** Lets the app of `heldApp` go on: opening the FIFO for writing and closing it ends its cat. */
async function release(fifo: string): Promise<void> {
  const file = await Deno.open(fifo, { write: true });
  file.close();
}

async function launcherWithHeldApp(): Promise<{ launcher: Launcher; fifo: string }> {
  let fifo = "";
  const launcher = await startLauncher((dir) => {
    fifo = join(dir, "go");
    return specConfig(dir, {
      held: { cmd: heldApp(fifo) },
      broken: { cmd: ["/bin/sh", "-c", "echo starting; exit 3"] },
    });
  });
  const mk = await new Deno.Command("mkfifo", { args: [fifo] }).output();
  assert.ok(mk.success, "mkfifo");
  return { launcher, fifo };
}

async function postAsync(launcher: Launcher, body: unknown) {
  const res = await fetch(launcher.endpoint, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { prefer: "respond-async, wait=5" },
  });
  return { status: res.status, headers: res.headers, json: await res.json() };
}

Deno.test("Prefer: respond-async answers 202 at once; the events stream starting, then ready with the answer", async () => {
  const { launcher, fifo } = await launcherWithHeldApp();
  try {
    const accepted = await postAsync(launcher, { application: "held", node: 7 });
    assert.equal(accepted.status, 202);
    const id = accepted.json.id as string;
    assert.match(id, /^[a-z2-7]{26}$/);
    const location = `/paraview/${id}`;
    assert.equal(accepted.headers.get("location"), location);
    assert.equal(accepted.headers.get("preference-applied"), "respond-async");
    assert.equal(accepted.json.events, `${location}/events`);

    const pending = await launcher.request("GET", launcher.base + location);
    assert.equal(pending.status, 202, "not ready: GET says where it is");
    assert.deepEqual(pending.json, { id, application: "held", state: "starting" });

    const events = await EventReader.open(`${launcher.base}${location}/events`);
    assert.equal(events.status, 200);
    assert.equal(events.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const starting = await events.next();
    assert.equal(starting?.event, "starting");
    assert.equal(starting?.data.id, id);
    assert.equal(starting?.data.host, "127.0.0.1");

    await release(fifo);
    const ready = await events.next();
    assert.equal(ready?.event, "ready");
    assert.equal(ready?.data.id, id);
    assert.equal(ready?.data.node, 7);
    assert.match(ready?.data.secret as string, /^[A-Za-z0-9_-]{32}$/);
    assert.equal(await events.next(), undefined, "the stream ends once ready");

    const get = await launcher.request("GET", launcher.base + location);
    assert.equal(get.status, 200);
    assert.equal(get.json.sessionURL, ready?.data.sessionURL);
    const later = await EventReader.open(`${launcher.base}${location}/events`);
    assert.deepEqual(
      (await later.rest()).map((e) => e.event),
      ["starting", "ready"],
      "what happened, to a client that asks once it is ready",
    );
    assert.equal((await launcher.request("DELETE", launcher.base + location)).status, 200);
  } finally {
    await launcher.stop();
    await Deno.remove(launcher.dir, { recursive: true });
  }
});

Deno.test("an accepted launch that fails streams failed with the error, also to a client that asks after", async () => {
  const { launcher } = await launcherWithHeldApp();
  try {
    const accepted = await postAsync(launcher, { application: "broken" });
    assert.equal(accepted.status, 202);
    const path = `${launcher.base}${accepted.headers.get("location")}/events`;
    const events = await (await EventReader.open(path)).rest();
    const failed = events.at(-1)!;
    assert.equal(failed.event, "failed");
    assert.equal(failed.data.status, 503);
    assert.match(failed.data.error as string, /exited with code 3 before it was ready/);
    const again = await (await EventReader.open(path)).rest();
    assert.deepEqual(again.map((e) => e.event), ["starting", "failed"]);
    assert.deepEqual(again.at(-1), failed);
    const gone = await launcher.request(
      "GET",
      `${launcher.base}${accepted.headers.get("location")}`,
    );
    assert.equal(gone.status, 404, "the session itself is gone");
    const metrics = await (await fetch(`${launcher.base}/metrics`)).text();
    assert.match(
      metrics,
      /pvw_launcher_launches_total\{application="broken",outcome="exited"\} 1\n/,
      "counted once, when its outcome was known",
    );
  } finally {
    await launcher.stop();
    await Deno.remove(launcher.dir, { recursive: true });
  }
});

Deno.test("a launch refused before it has an id is answered as without the header; without it POST waits", async () => {
  const { launcher, fifo } = await launcherWithHeldApp();
  try {
    const unknown = await postAsync(launcher, { application: "nope" });
    assert.equal(unknown.status, 400);
    assert.match(unknown.json.error as string, /unknown application "nope"/);
    assert.equal((await launcher.request("GET", `${launcher.endpoint}/nope/events`)).status, 404);

    let answered = false;
    const waiting = launcher.post({ application: "held" }).then((r) => (answered = true, r));
    await within(
      10_000,
      "the session to be starting",
      (async () => {
        const starting = /pvw_launcher_sessions\{application="held",state="starting"\} 1\n/;
        while (!starting.test(await (await fetch(`${launcher.base}/metrics`)).text())) {
          await new Promise((r) => setTimeout(r, 20));
        }
      })(),
    );
    assert.equal(answered, false, "a POST without the header waits for the ready line");
    await release(fifo);
    const post = await waiting;
    assert.equal(post.status, 200);
    assert.equal(
      (await launcher.request("DELETE", `${launcher.endpoint}/${post.json.id}`)).status,
      200,
    );
  } finally {
    await launcher.stop();
    await Deno.remove(launcher.dir, { recursive: true });
  }
});

Deno.test("DELETE of an accepted session that is still starting stops it", async () => {
  const { launcher } = await launcherWithHeldApp();
  try {
    const accepted = await postAsync(launcher, { application: "held" });
    const location = `${launcher.base}${accepted.headers.get("location")}`;
    const events = await EventReader.open(`${location}/events`);
    assert.equal((await events.next())?.event, "starting");
    const deleted = await launcher.request("DELETE", location);
    assert.equal(deleted.status, 200);
    const failed = await events.next();
    assert.equal(failed?.event, "failed");
    assert.equal(failed?.data.error, 'application "held" was stopped before it was ready');
    assert.equal((await launcher.request("GET", location)).status, 404);
  } finally {
    await launcher.stop();
    await Deno.remove(launcher.dir, { recursive: true });
  }
});

Deno.test("Prefer: respond-async with a warm process waiting: 202, and the stream says ready at once", async () => {
  const launcher = await startLauncher((dir) =>
    specConfig(dir, {
      warm: { cmd: ["sh", "-c", "echo Starting factory; exec sleep 600"], warm: 1 },
    })
  );
  try {
    await within(
      10_000,
      "a warm process waiting",
      (async () => {
        const waiting = /pvw_launcher_warm_processes\{application="warm",state="waiting"\} 1\n/;
        while (!waiting.test(await (await fetch(`${launcher.base}/metrics`)).text())) {
          await new Promise((r) => setTimeout(r, 20));
        }
      })(),
    );
    const accepted = await postAsync(launcher, { application: "warm" });
    assert.equal(accepted.status, 202);
    const location = `${launcher.base}${accepted.headers.get("location")}`;
    const events = await (await EventReader.open(`${location}/events`)).rest();
    assert.equal(events.at(-1)?.event, "ready");
    assert.equal(events.at(-1)?.data.id, accepted.json.id);
    assert.equal((await launcher.request("GET", location)).status, 200);
    assert.equal((await launcher.request("DELETE", location)).status, 200);
  } finally {
    await launcher.stop();
    await Deno.remove(launcher.dir, { recursive: true });
  }
});
