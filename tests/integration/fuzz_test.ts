/**
 * Throws thousands of malformed and hostile requests at a live launcher, then checks that it
 * still works and holds nothing it should not: no process, no descriptor, no port, and an
 * intact map file. The requests come from a seeded PRNG; a failure prints the seed, and
 * `FUZZ_SEED=<seed>` replays the same requests (any other number explores new ones).
 * `FUZZ_COUNT` sets how many: by default 12,000 in CI (`CI` set), and 2,000 elsewhere, so
 * that the suite stays quick to run while working.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type FuzzCase, fuzzCases } from "./fuzz_cases.ts";
import { ECHO_APP, specConfig, startLauncher, within } from "./harness.ts";
import {
  childrenOf,
  describeFds,
  filesIn,
  openFds,
  portsOutsideEphemeral,
  tcpConnectionsOf,
  until,
} from "./procfs.ts";
import { rawExchange } from "./raw_http.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 20240611);
const COUNT = Number(Deno.env.get("FUZZ_COUNT") ?? (Deno.env.get("CI") ? 12_000 : 2_000));
const CONCURRENCY = 16;
const PORTS = 20;

const READY = ["sh", "-c", "echo Starting factory; exec sleep 600", "viz"];
const ECHO = ECHO_APP;

/** How one request ended. */
interface Outcome {
  status?: number;
  contentType?: string;
  body: Uint8Array;
  failure?: string;
}

/** What the launcher answered, read as JSON. */
interface Answer {
  status: number;
  json: Record<string, string>;
  headers: Headers;
}

function isJsonError(o: Outcome): boolean {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(o.body));
    return typeof parsed?.error === "string" && /application\/json/.test(o.contentType ?? "");
  } catch {
    return false;
  }
}

/** Why an outcome breaks its case's promise, or undefined when it keeps it. */
function violation(c: FuzzCase, o: Outcome): string | undefined {
  if (o.status === 500) return "answered 500";
  if (new TextDecoder().decode(o.body).includes("root:x:0:0")) return "leaked /etc/passwd";
  if (c.expect === "any") return undefined;
  if (o.status === undefined) {
    return c.expect === "json" ? `no answer (${o.failure ?? "connection closed"})` : undefined;
  }
  if (o.status >= 400) {
    // A HEAD answer has no body: its headers must still say JSON.
    const head = c.via === "fetch" && c.method === "HEAD";
    const json = head ? /application\/json/.test(o.contentType ?? "") : isJsonError(o);
    if (!json) return `a ${o.status} that is not JSON {"error"}`;
  }
  return undefined;
}

function describeCase(c: FuzzCase): string {
  const shown = (s: string) => JSON.stringify(s.length > 300 ? `${s.slice(0, 300)}...` : s);
  if (c.via === "fetch") {
    const body = typeof c.body === "string" ? c.body : c.body ? "<bytes>" : "";
    return `fetch ${c.method} ${shown(c.path)} ${JSON.stringify(c.headers)} ${shown(body)}`;
  }
  const bytes = c.parts()[0] ?? new Uint8Array();
  return `raw ${shown(new TextDecoder("latin1").decode(bytes.subarray(0, 300)))}`;
}

/** Sends one case and says how it ended; a slow one is reported (it should not be). */
async function send(c: FuzzCase, base: string, client: Deno.HttpClient): Promise<Outcome> {
  const started = performance.now();
  try {
    if (c.via === "raw") {
      const answer = await rawExchange(Number(new URL(base).port), c.parts(), {
        abort: c.abort,
        deadlineMs: c.expect === "any" ? 2_000 : 10_000,
      });
      return {
        status: answer.status,
        contentType: answer.headers["content-type"],
        body: answer.body,
      };
    }
    const res = await fetch(base + c.path, {
      method: c.method,
      headers: c.headers,
      body: c.body,
      client,
      redirect: "manual",
    });
    const body = new Uint8Array(await res.arrayBuffer());
    return { status: res.status, contentType: res.headers.get("content-type") ?? "", body };
  } catch (err) {
    return { body: new Uint8Array(), failure: String(err) };
  } finally {
    const ms = performance.now() - started;
    if (ms > 1000) console.log(`slow (${Math.round(ms)} ms): ${describeCase(c)}`);
  }
}

/** Runs `fn` over `items`, `n` at a time. */
async function pool<T, R>(items: T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  }));
  return out;
}

Deno.test(`fuzz: ${COUNT.toLocaleString("en-US")} hostile requests leave the launcher working, with no process, fd, port or map line to spare`, async () => {
  console.log(`fuzz seed ${SEED}: FUZZ_SEED=${SEED} repeats these requests`);
  const launcher = await startLauncher((dir) =>
    specConfig(dir, {
      viz: { cmd: READY },
      echo: { cmd: ECHO },
      dies: { cmd: ["sh", "-c", "exit 3"] },
      ghost: { cmd: [join(dir, "no-such-program")] },
    }, {
      allowed_origins: ["https://app.example.com"],
      resources: [{ host: "127.0.0.1", port: portsOutsideEphemeral(PORTS) }],
    })
  );
  const pid = launcher.process.pid;
  const port = Number(new URL(launcher.base).port);
  const mapFile = join(launcher.dir, "proxy.map");
  // No pooled connections: a reused connection the server has just closed would fail a
  // request for a reason that is the client's, not the launcher's.
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  const call = async (method: string, path: string, body?: unknown): Promise<Answer> => {
    const res = await fetch(launcher.base + path, {
      method,
      client,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: await res.json(), headers: res.headers };
  };
  const launch = async (application: string) => {
    const res = await call("POST", "/paraview", { application });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    return res.json;
  };
  const settled = () =>
    until(
      () => tcpConnectionsOf(pid).length === 0,
      10_000,
      () => `the launcher still holds connections: ${tcpConnectionsOf(pid).join(", ")}`,
    );
  try {
    // Warm up every path the run takes, so that what the runtime opens once is open before
    // the descriptors are counted.
    const warm = await launch("echo");
    const proxied = await fetch(`${launcher.base}/proxy/${warm.id}/x`, { client });
    assert.equal(proxied.status, 200);
    await proxied.body?.cancel();
    const ws = new WebSocket(`ws${launcher.base.slice(4)}/proxy/${warm.id}/ws`);
    await within(5_000, "a proxied WebSocket", new Promise((r) => ws.onopen = r));
    const wsClosed = new Promise((r) => ws.onclose = r);
    ws.close();
    await within(5_000, "its close", wsClosed);
    assert.equal((await call("DELETE", `/paraview/${warm.id}`)).status, 200);
    assert.equal((await call("POST", "/paraview", { application: "dies" })).status, 503);
    assert.equal((await call("POST", "/paraview", { application: "ghost" })).status, 503);
    await settled();
    const fdsBefore = openFds(pid);
    assert.deepEqual(childrenOf(pid), []);

    const live = await launch("echo");
    const liveChildren = childrenOf(pid);
    assert.equal(liveChildren.length, 1);
    const mapBefore = await Deno.readTextFile(mapFile);
    assert.match(mapBefore, new RegExp(`^${live.id} 127\\.0\\.0\\.1:\\d+$`, "m"));

    const cases = fuzzCases(SEED, COUNT, {
      endpoint: "/paraview",
      host: `127.0.0.1:${port}`,
      liveId: live.id,
    });
    const started = performance.now();
    const outcomes = await pool(cases, CONCURRENCY, (c) => send(c, launcher.base, client));
    const seconds = (performance.now() - started) / 1000;

    const statuses: Record<string, number> = {};
    for (const o of outcomes) {
      const key = String(o.status ?? "none");
      statuses[key] = (statuses[key] ?? 0) + 1;
    }
    const broken = cases.flatMap((c, i) => {
      const why = violation(c, outcomes[i]);
      return why ? [`#${i} ${c.kind}: ${why}: ${describeCase(c)}`] : [];
    });
    assert.deepEqual(
      broken.slice(0, 20),
      [],
      `seed ${SEED}: ${broken.length} of ${COUNT} requests broke their promise`,
    );
    const raw = cases.filter((c) => c.via === "raw").length;

    // Still the same launcher, holding the same session, process and map file.
    assert.equal((await call("GET", "/healthz")).status, 200);
    await until(
      () => String(childrenOf(pid)) === String(liveChildren),
      10_000,
      () => `children ${childrenOf(pid)} instead of ${liveChildren}`,
    );
    assert.equal(await Deno.readTextFile(mapFile), mapBefore, "the map file is unchanged");
    assert.deepEqual(
      (await filesIn(launcher.dir)).filter((n) => n.endsWith(".tmp")),
      [],
      "no temporary file is left",
    );
    assert.equal((await call("DELETE", `/paraview/${live.id}`)).status, 200);

    // A real round trip.
    const session = await launch("viz");
    assert.equal((await call("GET", `/paraview/${session.id}`)).json.id, session.id);
    assert.equal((await call("DELETE", `/paraview/${session.id}`)).status, 200);
    assert.equal((await call("GET", `/paraview/${session.id}`)).status, 404);

    // Every port of the range can be taken again, and no more.
    const all = await Promise.all(Array.from({ length: PORTS }, () => launch("viz")));
    assert.equal(new Set(all.map((s) => s.sessionURL)).size, PORTS);
    const full = await call("POST", "/paraview", { application: "viz" });
    assert.equal(full.status, 503);
    assert(full.headers.get("retry-after"));
    await Promise.all(all.map(async (s) => {
      assert.equal((await call("DELETE", `/paraview/${s.id}`)).status, 200);
    }));
    assert.deepEqual(childrenOf(pid), []);
    const withoutLive = mapBefore.replace(new RegExp(`^${live.id} .*\n`, "m"), "");
    assert.equal(await Deno.readTextFile(mapFile), withoutLive, "the map file lists no session");

    client.close();
    await settled();
    await until(
      () => openFds(pid) <= fdsBefore,
      10_000,
      () =>
        `${openFds(pid)} descriptors open, ${fdsBefore} before:\n${describeFds(pid).join("\n")}`,
    );
    const fdsAfter = openFds(pid);
    const status = await launcher.stop();
    assert.equal(status.code, 0, "it shuts down cleanly on SIGTERM");
    const errors = launcher.log.split("\n").filter((l) =>
      /\bERR\b|unexpected error|Deno\.serve/.test(l)
    );
    assert.deepEqual(errors.slice(0, 5), [], `seed ${SEED}: ${errors.length} errors logged`);
    console.log(
      `fuzz: ${COUNT} requests (${COUNT - raw} fetch, ${raw} raw TCP) in ${
        seconds.toFixed(1)
      } s, ` +
        `${CONCURRENCY} at a time; statuses ${JSON.stringify(statuses)}; ` +
        `fds ${fdsBefore} before, ${fdsAfter} after; seed ${SEED}`,
    );
  } finally {
    try {
      client.close();
    } catch {
      // closed already
    }
    // When a check failed before the launcher stopped: kill it, then the sessions it leaves.
    const sessions = childrenOf(pid);
    await launcher.stop("SIGKILL").catch(() => {});
    for (const group of sessions) {
      try {
        Deno.kill(-group, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await Deno.remove(launcher.dir, { recursive: true });
  }
});
