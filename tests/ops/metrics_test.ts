import assert from "node:assert/strict";
import type { LaunchOutcome } from "../../lib/http/mod.ts";
import {
  LauncherMetrics,
  type Metrics,
  type MetricsSnapshot,
  READY_BUCKETS,
} from "../../lib/ops/metrics.ts";
import { type Exposition, parseExposition, sampleValue } from "../exposition.ts";
import { NullMetrics } from "../fakes.ts";

const OUTCOMES = [
  "ready",
  "timeout",
  "exited",
  "spawn_error",
  "no_capacity",
  "bad_request",
  "stopped",
  "map_error",
  "state_error",
  "queue_timeout",
  "job_ended",
  "error",
] as const satisfies readonly LaunchOutcome[];
// Fails to type-check when http.ts grows an outcome this list (and the docs) do not know.
const everyOutcome: [Exclude<LaunchOutcome, typeof OUTCOMES[number]>] extends [never] ? true
  : false = true;
assert.ok(everyOutcome);

const REASONS = [
  "deleted",
  "exited",
  "idle",
  "lifetime",
  "shutdown",
  "launch_failed",
  "dashboard",
  "interrupted",
  "job_ended",
  "evicted",
  "surplus",
];

/** Every family the launcher documents, in the order it writes them. */
const DOCUMENTED: [string, string][] = [
  ["pvw_launcher_up", "gauge"],
  ["pvw_launcher_sessions", "gauge"],
  ["pvw_launcher_batch_sessions", "gauge"],
  ["pvw_launcher_launches_total", "counter"],
  ["pvw_launcher_time_to_ready_seconds", "histogram"],
  ["pvw_launcher_session_stops_total", "counter"],
  ["pvw_launcher_free_ports", "gauge"],
  ["pvw_launcher_ports", "gauge"],
  ["pvw_launcher_max_sessions", "gauge"],
  ["pvw_launcher_proxy_connections", "gauge"],
  ["pvw_launcher_proxy_bytes_total", "counter"],
  ["pvw_launcher_file_stale", "gauge"],
  ["pvw_launcher_file_write_errors_total", "counter"],
  ["pvw_launcher_warm_processes", "gauge"],
  ["pvw_launcher_warm_requests_total", "counter"],
  ["pvw_launcher_tls_certificate_expiry_seconds", "gauge"],
  ["pvw_launcher_tls_reloads_total", "counter"],
  ["process_resident_memory_bytes", "gauge"],
  ["process_start_time_seconds", "gauge"],
];

function snapshot(over: Partial<MetricsSnapshot> = {}): MetricsSnapshot {
  return {
    sessions: [],
    freePorts: 10,
    totalPorts: 10,
    maxSessions: 8,
    proxy: { connections: 0, bytesToSessions: 0, bytesFromSessions: 0 },
    ...over,
  };
}

function metrics(): LauncherMetrics {
  return new LauncherMetrics({ clock: () => 1_700_000_000_500, residentMemory: () => 52_428_800 });
}

function scrape(m: Metrics, s: MetricsSnapshot = snapshot()): Exposition {
  return parseExposition(m.render(s));
}

Deno.test("LauncherMetrics.render() writes every documented metric after some launches and ends", () => {
  const m = metrics();
  m.launched("visualizer", "ready", 1.5);
  m.launched("", "bad_request");
  m.ended("visualizer", "deleted");
  const parsed = scrape(
    m,
    snapshot({
      sessions: [
        { application: "visualizer", state: "ready" },
        { application: "gpu", state: "ready", job: { phase: "running", node: "n1" } },
      ],
      files: [{ file: "state", stale: false, failures: 0 }],
      warm: [{ application: "visualizer", waiting: 2, starting: 0, hits: 1, misses: 0 }],
      tls: {
        file: "/etc/pvw/fullchain.pem",
        notAfterSeconds: 1_800_000_000,
        reloads: 2,
        refused: 1,
      },
    }),
  );
  assert.deepStrictEqual([...parsed.types], DOCUMENTED);
  for (const [name] of DOCUMENTED) {
    assert.ok(
      parsed.samples.some((s) => s.name === name || s.name.startsWith(`${name}_`)),
      `${name} has no sample`,
    );
    assert.ok(parsed.help.get(name), `${name} has no HELP`);
  }
});

Deno.test("LauncherMetrics.render() counts batch sessions queued and running, by partition and node", () => {
  const m = metrics();
  const job = (phase: string, partition: string, node?: string) => ({ phase, partition, node });
  const parsed = scrape(
    m,
    snapshot({
      sessions: [
        { application: "viz", state: "starting", job: job("queued", "tiny") },
        { application: "viz", state: "starting", job: job("queued", "tiny") },
        { application: "viz", state: "starting", job: job("running", "viz", "n2") },
        { application: "viz", state: "ready", job: job("running", "viz", "n2") },
        { application: "viz", state: "ready", job: job("running", "viz", "n1") },
        { application: "viz", state: "stopping", job: job("ended", "viz", "n3") },
        { application: "local", state: "ready" },
      ],
    }),
  );
  const batch = (state: string, partition: string, node: string) =>
    sampleValue(parsed, "pvw_launcher_batch_sessions", { state, partition, node });
  assert.deepEqual(
    [batch("queued", "tiny", ""), batch("running", "viz", "n2"), batch("running", "viz", "n1")],
    [2, 2, 1],
  );
  const sessions = (state: string) =>
    sampleValue(parsed, "pvw_launcher_sessions", { application: "viz", state });
  assert.deepEqual(
    [sessions("queued"), sessions("starting"), sessions("ready"), sessions("stopping")],
    [2, 1, 2, 1],
  );
  const later = scrape(m, snapshot({ sessions: [] }));
  assert.equal(
    sampleValue(later, "pvw_launcher_batch_sessions", {
      state: "queued",
      partition: "tiny",
      node: "",
    }),
    0,
    "an emptied series reads 0",
  );
});

Deno.test("LauncherMetrics names follow the Prometheus conventions", () => {
  const m = metrics();
  m.launched("a", "ready", 1);
  m.ended("a", "idle");
  const parsed = scrape(m);
  for (const [name, type] of parsed.types) {
    assert.match(name, /^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
    assert.match(name, /^(pvw_launcher_|process_)/);
    assert.strictEqual(name.endsWith("_total"), type === "counter", name);
    if (type === "histogram") assert.match(name, /_seconds$/);
  }
  for (const s of parsed.samples) {
    for (const label of Object.keys(s.labels)) assert.match(label, /^[a-zA-Z_][a-zA-Z0-9_]*$/);
  }
});

Deno.test("LauncherMetrics.launched() counts launches by application and outcome", async (t) => {
  await t.step("every outcome", () => {
    const m = metrics();
    OUTCOMES.forEach((outcome, i) => {
      for (let n = 0; n <= i; n++) m.launched("viz", outcome);
    });
    const parsed = scrape(m);
    OUTCOMES.forEach((outcome, i) =>
      assert.strictEqual(
        sampleValue(parsed, "pvw_launcher_launches_total", { application: "viz", outcome }),
        i + 1,
        outcome,
      )
    );
  });
  await t.step('a bad request without a valid application reads application=""', () => {
    const m = metrics();
    m.launched("", "bad_request");
    m.launched("", "bad_request");
    const text = m.render(snapshot());
    assert.ok(
      text.includes('pvw_launcher_launches_total{application="",outcome="bad_request"} 2\n'),
    );
  });
});

Deno.test("LauncherMetrics.launched() observes time to ready only for ready launches", () => {
  const m = metrics();
  m.launched("viz", "ready", 0.003);
  m.launched("viz", "ready", 0.75);
  m.launched("viz", "ready", 90);
  m.launched("viz", "timeout", 60);
  m.launched("viz", "exited");
  m.launched("viz", "ready");
  m.launched("other", "no_capacity");
  const parsed = scrape(m);
  const buckets = parsed.samples.filter((s) =>
    s.name === "pvw_launcher_time_to_ready_seconds_bucket"
  );
  assert.deepStrictEqual(
    buckets.map((s) => [s.labels.application, s.labels.le]),
    [...READY_BUCKETS.map(String), "+Inf"].map((le) => ["viz", le]),
    "a series for viz only, with every bucket",
  );
  const le = (bound: string) =>
    sampleValue(parsed, "pvw_launcher_time_to_ready_seconds_bucket", {
      application: "viz",
      le: bound,
    });
  assert.deepStrictEqual([le("0.001"), le("0.005"), le("0.5"), le("1"), le("60"), le("+Inf")], [
    undefined,
    1,
    1,
    2,
    2,
    3,
  ]);
  const labels = { application: "viz" };
  assert.strictEqual(sampleValue(parsed, "pvw_launcher_time_to_ready_seconds_count", labels), 3);
  assert.strictEqual(
    sampleValue(parsed, "pvw_launcher_time_to_ready_seconds_sum", labels),
    0.003 + 0.75 + 90,
  );
});

Deno.test("READY_BUCKETS rise strictly from a fake app's few ms to a slow server's minute", () => {
  assert.ok(READY_BUCKETS.length >= 8, "enough buckets to tell launches apart");
  for (let i = 1; i < READY_BUCKETS.length; i++) {
    assert.ok(READY_BUCKETS[i] > READY_BUCKETS[i - 1], `bucket ${i} rises`);
    // No bucket more than 3 times the one before: each tells times apart.
    assert.ok(READY_BUCKETS[i] <= 3 * READY_BUCKETS[i - 1], `bucket ${i} is fine enough`);
  }
  assert.ok(READY_BUCKETS[0] > 0 && READY_BUCKETS[0] <= 0.005);
  assert.ok(READY_BUCKETS.at(-1)! >= 60);
});

Deno.test("LauncherMetrics.ended() counts stops by application and reason", () => {
  const m = metrics();
  REASONS.forEach((reason, i) => {
    for (let n = 0; n <= i; n++) m.ended("viz", reason);
  });
  m.ended("other", "idle");
  const parsed = scrape(m);
  REASONS.forEach((reason, i) =>
    assert.strictEqual(
      sampleValue(parsed, "pvw_launcher_session_stops_total", { application: "viz", reason }),
      i + 1,
    )
  );
  assert.strictEqual(
    sampleValue(parsed, "pvw_launcher_session_stops_total", {
      application: "other",
      reason: "idle",
    }),
    1,
  );
});

Deno.test("LauncherMetrics.render() counts the snapshot's sessions by application and state", async (t) => {
  const m = metrics();
  const value = (parsed: Exposition, application: string, state: string) =>
    sampleValue(parsed, "pvw_launcher_sessions", { application, state });
  await t.step("sessions are counted at scrape time", () => {
    const parsed = scrape(
      m,
      snapshot({
        sessions: [
          { application: "viz", state: "ready" },
          { application: "viz", state: "ready" },
          { application: "viz", state: "starting" },
          { application: "cone", state: "stopping" },
        ],
      }),
    );
    assert.strictEqual(value(parsed, "viz", "ready"), 2);
    assert.strictEqual(value(parsed, "viz", "starting"), 1);
    assert.strictEqual(value(parsed, "cone", "stopping"), 1);
    assert.strictEqual(value(parsed, "cone", "ready"), undefined);
  });
  await t.step("a state that emptied reads 0 rather than vanishing", () => {
    const parsed = scrape(m, snapshot({ sessions: [{ application: "viz", state: "ready" }] }));
    assert.strictEqual(value(parsed, "viz", "ready"), 1);
    assert.strictEqual(value(parsed, "viz", "starting"), 0);
    assert.strictEqual(value(parsed, "cone", "stopping"), 0);
  });
});

Deno.test("LauncherMetrics.render() reads ports, capacity and the proxy from the snapshot", () => {
  const parsed = scrape(
    metrics(),
    snapshot({
      freePorts: 97,
      totalPorts: 100,
      maxSessions: 50,
      proxy: { connections: 4, bytesToSessions: 1234, bytesFromSessions: 5_000_000_000 },
    }),
  );
  assert.strictEqual(sampleValue(parsed, "pvw_launcher_up"), 1);
  assert.strictEqual(sampleValue(parsed, "pvw_launcher_free_ports"), 97);
  assert.strictEqual(sampleValue(parsed, "pvw_launcher_ports"), 100);
  assert.strictEqual(sampleValue(parsed, "pvw_launcher_max_sessions"), 50);
  assert.strictEqual(sampleValue(parsed, "pvw_launcher_proxy_connections"), 4);
  const bytes = (direction: string) =>
    sampleValue(parsed, "pvw_launcher_proxy_bytes_total", { direction });
  assert.strictEqual(bytes("to_session"), 1234);
  assert.strictEqual(bytes("from_session"), 5_000_000_000);
});

Deno.test("LauncherMetrics.render() reads the warm pools: processes by state, hits and misses", () => {
  const parsed = scrape(
    metrics(),
    snapshot({
      warm: [
        { application: "pv", waiting: 3, starting: 1, hits: 40, misses: 2 },
        { application: "trame", waiting: 0, starting: 2, hits: 0, misses: 7 },
      ],
    }),
  );
  const warm = (application: string, state: string) =>
    sampleValue(parsed, "pvw_launcher_warm_processes", { application, state });
  const requests = (application: string, result: string) =>
    sampleValue(parsed, "pvw_launcher_warm_requests_total", { application, result });
  assert.deepStrictEqual(
    [warm("pv", "waiting"), warm("pv", "starting"), warm("trame", "waiting")],
    [3, 1, 0],
  );
  assert.deepStrictEqual([requests("pv", "hit"), requests("trame", "miss")], [40, 7]);
});

Deno.test("LauncherMetrics process metrics come from the injected clock and memory", () => {
  let rss = 1000;
  let now = 1_700_000_000_500;
  const m = new LauncherMetrics({ clock: () => now, residentMemory: () => rss });
  now += 60_000;
  rss = 2000;
  const parsed = scrape(m);
  assert.strictEqual(sampleValue(parsed, "process_start_time_seconds"), 1_700_000_000.5);
  assert.strictEqual(sampleValue(parsed, "process_resident_memory_bytes"), 2000);
});

Deno.test("LauncherMetrics by default reads the real memory and the current time", () => {
  const before = Date.now() / 1000;
  const parsed = scrape(new LauncherMetrics());
  const start = sampleValue(parsed, "process_start_time_seconds")!;
  assert.ok(start >= before && start <= Date.now() / 1000, String(start));
  assert.ok(sampleValue(parsed, "process_resident_memory_bytes")! > 0);
});

Deno.test("LauncherMetrics.render() gives the same text for the same state", () => {
  const m = metrics();
  m.launched("b", "ready", 2);
  m.launched("a", "timeout");
  const s = snapshot({ sessions: [{ application: "b", state: "ready" }] });
  assert.strictEqual(m.render(s), m.render(s));
});

for (
  const [kind, make] of [["LauncherMetrics", metrics], [
    "NullMetrics",
    () => new NullMetrics(),
  ]] as const
) {
  Deno.test(`${kind} keeps the Metrics contract: any event, then a well-formed exposition`, () => {
    const m: Metrics = make();
    for (const outcome of OUTCOMES) m.launched('odd "app"\\\n', outcome, 0.5);
    m.launched("", "bad_request");
    for (const reason of REASONS) m.ended('odd "app"\\\n', reason);
    const parsed = scrape(
      m,
      snapshot({ sessions: [{ application: 'odd "app"\\\n', state: "ready" }] }),
    );
    for (const s of parsed.samples) assert.ok(!Number.isNaN(s.value), s.name);
  });
}

Deno.test("LauncherMetrics.render() says which kept files are behind, and counts failed writes", () => {
  const parsed = scrape(
    metrics(),
    snapshot({
      files: [{ file: "map", stale: true, failures: 3 }, {
        file: "state",
        stale: false,
        failures: 0,
      }],
    }),
  );
  assert.equal(sampleValue(parsed, "pvw_launcher_file_stale", { file: "map" }), 1);
  assert.equal(sampleValue(parsed, "pvw_launcher_file_stale", { file: "state" }), 0);
  assert.equal(sampleValue(parsed, "pvw_launcher_file_write_errors_total", { file: "map" }), 3);
});

Deno.test("LauncherMetrics.render() exposes the TLS certificate's end and its reloads, only with TLS", () => {
  const m = metrics();
  const plain = scrape(m);
  assert.strictEqual(sampleValue(plain, "pvw_launcher_tls_certificate_expiry_seconds"), undefined);
  assert.strictEqual(sampleValue(plain, "pvw_launcher_tls_reloads_total"), undefined);
  const file = "/etc/letsencrypt/live/example.org/fullchain.pem";
  const parsed = scrape(
    m,
    snapshot({ tls: { file, notAfterSeconds: 1_800_000_000, reloads: 3, refused: 1 } }),
  );
  assert.strictEqual(
    sampleValue(parsed, "pvw_launcher_tls_certificate_expiry_seconds", { file }),
    1_800_000_000,
  );
  const reloads = (outcome: string) =>
    sampleValue(parsed, "pvw_launcher_tls_reloads_total", { outcome });
  assert.deepStrictEqual([reloads("reloaded"), reloads("refused")], [3, 1]);
});
