import assert from "node:assert/strict";
import {
  Counter,
  escapeLabelValue,
  formatValue,
  Gauge,
  Histogram,
  Registry,
} from "../../lib/ops/prometheus.ts";
import { parseExposition, sampleValue } from "../exposition.ts";

/** A registry of one of each kind, fed the same events in the given order. */
function smallRegistry(order: "forward" | "backward" = "forward"): Registry {
  const registry = new Registry();
  const requests = registry.register(
    new Counter("http_requests_total", "Requests handled.", ["method", "code"]),
  );
  const temperature = registry.register(new Gauge("temperature_celsius", "Current temperature."));
  const latency = registry.register(
    new Histogram("latency_seconds", "Request latency.", [0.25, 1], ["path"]),
  );
  const events = [
    () => requests.inc({ method: "post", code: "200" }),
    () => requests.inc({ method: "get", code: "200" }, 2),
    () => requests.inc({ method: "get", code: "404" }),
    () => temperature.set({}, -3.5),
    () => latency.observe({ path: "/b" }, 0.5),
    () => latency.observe({ path: "/a" }, 0.25),
    () => latency.observe({ path: "/a" }, 0.5),
    () => latency.observe({ path: "/a" }, 4),
  ];
  for (const event of order === "forward" ? events : events.reverse()) event();
  return registry;
}

const GOLDEN = `# HELP http_requests_total Requests handled.
# TYPE http_requests_total counter
http_requests_total{method="get",code="200"} 2
http_requests_total{method="get",code="404"} 1
http_requests_total{method="post",code="200"} 1
# HELP temperature_celsius Current temperature.
# TYPE temperature_celsius gauge
temperature_celsius -3.5
# HELP latency_seconds Request latency.
# TYPE latency_seconds histogram
latency_seconds_bucket{path="/a",le="0.25"} 1
latency_seconds_bucket{path="/a",le="1"} 2
latency_seconds_bucket{path="/a",le="+Inf"} 3
latency_seconds_sum{path="/a"} 4.75
latency_seconds_count{path="/a"} 3
latency_seconds_bucket{path="/b",le="0.25"} 0
latency_seconds_bucket{path="/b",le="1"} 1
latency_seconds_bucket{path="/b",le="+Inf"} 1
latency_seconds_sum{path="/b"} 0.5
latency_seconds_count{path="/b"} 1
`;

Deno.test("Registry.render() writes the text exposition format exactly", () => {
  assert.strictEqual(smallRegistry().render(), GOLDEN);
});

Deno.test("Registry.render() output does not depend on the order of events", () => {
  assert.strictEqual(smallRegistry("backward").render(), GOLDEN);
});

Deno.test("Registry.render() output reads back to the same families and values", () => {
  const parsed = parseExposition(smallRegistry().render());
  assert.deepStrictEqual([...parsed.types], [
    ["http_requests_total", "counter"],
    ["temperature_celsius", "gauge"],
    ["latency_seconds", "histogram"],
  ]);
  assert.strictEqual(parsed.help.get("latency_seconds"), "Request latency.");
  assert.strictEqual(sampleValue(parsed, "http_requests_total", { method: "get", code: "200" }), 2);
  assert.strictEqual(sampleValue(parsed, "temperature_celsius"), -3.5);
  assert.strictEqual(sampleValue(parsed, "latency_seconds_sum", { path: "/a" }), 4.75);
});

Deno.test("label values escape backslash, double quote and newline", async (t) => {
  const cases: [string, string, string][] = [
    ["backslash", "C:\\data", "C:\\\\data"],
    ["double quote", 'say "hi"', 'say \\"hi\\"'],
    ["newline", "two\nlines", "two\\nlines"],
    ["all three, in order", '\\"\n', '\\\\\\"\\n'],
    ["nothing to escape, braces and commas included", "a,b}{=", "a,b}{="],
    ["empty", "", ""],
  ];
  for (const [what, raw, escaped] of cases) {
    await t.step(what, () => {
      assert.strictEqual(escapeLabelValue(raw), escaped);
      const registry = new Registry();
      registry.register(new Counter("c_total", "C.", ["v"])).inc({ v: raw });
      const text = registry.render();
      assert.ok(text.includes(`c_total{v="${escaped}"} 1\n`), text);
      assert.deepStrictEqual(parseExposition(text).samples, [
        { name: "c_total", labels: { v: raw }, value: 1 },
      ]);
    });
  }
});

Deno.test("HELP text escapes backslash and newline but not double quotes", () => {
  const registry = new Registry();
  registry.register(new Gauge("g", 'a\\b\n"c"'));
  const text = registry.render();
  assert.strictEqual(text.split("\n")[0], '# HELP g a\\\\b\\n"c"');
  assert.strictEqual(parseExposition(text).help.get("g"), 'a\\b\n"c"');
});

Deno.test("Histogram buckets are cumulative, inclusive, and +Inf equals _count", async (t) => {
  const bounds = [0.005, 0.01, 0.1, 1, 10];
  const table: [string, number[], number[]][] = [
    ["no observation yet", [], [0, 0, 0, 0, 0, 0]],
    ["a value on a bound counts in that bucket", [0.01], [0, 1, 1, 1, 1, 1]],
    ["a value above every bound counts only in +Inf", [11], [0, 0, 0, 0, 0, 1]],
    ["many values", [0.001, 0.005, 0.05, 0.5, 0.5, 5, 100], [2, 2, 3, 5, 6, 7]],
  ];
  for (const [what, values, expected] of table) {
    await t.step(what, () => {
      const registry = new Registry();
      const h = registry.register(new Histogram("h_seconds", "H.", bounds));
      for (const v of values) h.observe({}, v);
      const parsed = parseExposition(registry.render());
      const buckets = parsed.samples.filter((s) => s.name === "h_seconds_bucket");
      assert.deepStrictEqual(buckets.map((s) => s.labels.le), [...bounds.map(String), "+Inf"]);
      assert.deepStrictEqual(buckets.map((s) => s.value), expected);
      assert.strictEqual(sampleValue(parsed, "h_seconds_count"), values.length);
      assert.strictEqual(sampleValue(parsed, "h_seconds_bucket", { le: "+Inf" }), values.length);
      assert.strictEqual(sampleValue(parsed, "h_seconds_sum"), values.reduce((a, b) => a + b, 0));
    });
  }
});

Deno.test("an unlabelled metric reads 0 from the start; a labelled one has no series", () => {
  const registry = new Registry();
  registry.register(new Counter("plain_total", "Plain."));
  registry.register(new Counter("labelled_total", "Labelled.", ["kind"]));
  assert.strictEqual(
    registry.render(),
    "# HELP plain_total Plain.\n# TYPE plain_total counter\nplain_total 0\n" +
      "# HELP labelled_total Labelled.\n# TYPE labelled_total counter\n",
  );
});

Deno.test("Gauge.zero() keeps every series seen, at 0", () => {
  const registry = new Registry();
  const g = registry.register(new Gauge("g", "G.", ["k"]));
  g.set({ k: "a" }, 3);
  g.set({ k: "b" }, 4);
  g.zero();
  g.set({ k: "b" }, 1);
  const parsed = parseExposition(registry.render());
  assert.strictEqual(sampleValue(parsed, "g", { k: "a" }), 0);
  assert.strictEqual(sampleValue(parsed, "g", { k: "b" }), 1);
});

Deno.test("Counter.setTotal() writes a total kept elsewhere", () => {
  const registry = new Registry();
  const c = registry.register(new Counter("bytes_total", "B.", ["direction"]));
  c.setTotal({ direction: "in" }, 1e12);
  c.setTotal({ direction: "in" }, 2e12);
  assert.strictEqual(
    sampleValue(parseExposition(registry.render()), "bytes_total", {
      direction: "in",
    }),
    2e12,
  );
});

Deno.test("formatValue() writes numbers as Prometheus reads them", async (t) => {
  const cases: [number, string][] = [
    [0, "0"],
    [1, "1"],
    [-3.5, "-3.5"],
    [0.005, "0.005"],
    [1e-7, "1e-7"],
    [1e21, "1e+21"],
    [Infinity, "+Inf"],
    [-Infinity, "-Inf"],
    [NaN, "NaN"],
  ];
  for (const [value, text] of cases) {
    await t.step(text, () => assert.strictEqual(formatValue(value), text));
  }
});

Deno.test("metrics refuse what would make an invalid exposition", async (t) => {
  const cases: [string, () => unknown, ErrorConstructor][] = [
    ["a metric name starting with a digit", () => new Counter("1_total", "x"), TypeError],
    ["a metric name with a dash", () => new Gauge("a-b", "x"), TypeError],
    ["a label name with a dot", () => new Gauge("g", "x", ["a.b"]), TypeError],
    ["a reserved label name", () => new Gauge("g", "x", ["__name"]), TypeError],
    ["le on a histogram", () => new Histogram("h", "x", [1], ["le"]), TypeError],
    ["buckets out of order", () => new Histogram("h", "x", [1, 0.5]), TypeError],
    ["a repeated bucket", () => new Histogram("h", "x", [1, 1]), TypeError],
    ["a missing label", () => new Counter("c_total", "x", ["a", "b"]).inc({ a: "1" }), TypeError],
    ["an unknown label", () => new Gauge("g", "x").set({ a: "1" }, 1), TypeError],
    ["a negative increment", () => new Counter("c_total", "x").inc({}, -1), RangeError],
    ["a NaN increment", () => new Counter("c_total", "x").inc({}, NaN), RangeError],
    ["a family registered twice", () => {
      const registry = new Registry();
      registry.register(new Gauge("g", "x"));
      registry.register(new Counter("g", "y"));
    }, TypeError],
  ];
  for (const [what, make, error] of cases) {
    await t.step(what, () => assert.throws(make, error));
  }
});

Deno.test("the test reader rejects what a scraper would reject", async (t) => {
  const cases: [string, string][] = [
    ["a sample before its TYPE", "g 1\n# TYPE g gauge\n"],
    ["a family split in two", "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n"],
    ["an unescaped quote", '# TYPE g gauge\ng{v="a"b"} 1\n'],
    ["a raw newline escape missing", '# TYPE g gauge\ng{v="a\\x"} 1\n'],
    ["a bad value", "# TYPE g gauge\ng one\n"],
    ["Infinity instead of +Inf", "# TYPE g gauge\ng Infinity\n"],
    ["no final newline", "# TYPE g gauge\ng 1"],
    ["_bucket of a gauge", "# TYPE g gauge\ng_bucket 1\n"],
  ];
  for (const [what, text] of cases) {
    await t.step(what, () => assert.throws(() => parseExposition(text), SyntaxError));
  }
});
