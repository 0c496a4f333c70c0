/**
 * A small Prometheus registry: counters, gauges and fixed-bucket histograms with labels,
 * written in the text exposition format (version 0.0.4) without a client library.
 *
 * Series are written sorted by label values and families in registration order, so the same
 * state always gives the same text, whatever the order of the events that made it.
 *
 * @example
 * ```ts
 * import { Counter, Registry } from "./prometheus.ts";
 *
 * const registry = new Registry();
 * const requests = registry.register(new Counter("requests_total", "Requests.", ["method"]));
 * requests.inc({ method: "GET" });
 * registry.render(); // "# HELP requests_total Requests.\n# TYPE requests_total counter\n..."
 * ```
 *
 * @module
 */

/** Label names to label values, for one series of a metric. */
export type Labels = Readonly<Record<string, string>>;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Writes a sample value as Prometheus reads it (`+Inf`, `-Inf`, `NaN`, decimal otherwise).
 *
 * @param value the number
 * @returns its text form
 */
export function formatValue(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/**
 * Escapes a label value: backslash, double quote and newline.
 *
 * @param value the raw value
 * @returns the value to put between double quotes
 */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => c === "\n" ? "\\n" : `\\${c}`);
}

function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => c === "\n" ? "\\n" : "\\\\");
}

function formatLabels(names: readonly string[], values: readonly string[]): string {
  if (names.length === 0) return "";
  return `{${names.map((n, i) => `${n}="${escapeLabelValue(values[i])}"`).join(",")}}`;
}

function compareValues(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

/** The series of one family, keyed by label values, each holding a state `S`. */
class SeriesTable<S> {
  readonly #series = new Map<string, { values: string[]; state: S }>();

  constructor(
    readonly name: string,
    readonly labelNames: readonly string[],
    readonly initial: () => S,
  ) {
    if (!METRIC_NAME.test(name)) throw new TypeError(`invalid metric name "${name}"`);
    for (const l of labelNames) {
      if (!LABEL_NAME.test(l) || l.startsWith("__")) {
        throw new TypeError(`invalid label name "${l}" on ${name}`);
      }
    }
  }

  /** The state of the series with these labels, created on first use. */
  get(labels: Labels): S {
    const given = Object.keys(labels);
    if (given.length !== this.labelNames.length || !this.labelNames.every((n) => n in labels)) {
      throw new TypeError(`${this.name} takes labels {${this.labelNames}}, got {${given}}`);
    }
    const values = this.labelNames.map((n) => labels[n]);
    const key = JSON.stringify(values);
    let entry = this.#series.get(key);
    if (!entry) this.#series.set(key, entry = { values, state: this.initial() });
    return entry.state;
  }

  /** Every series, sorted by label values so the output never depends on event order. */
  sorted(): { values: string[]; state: S }[] {
    // An unlabelled metric has its one series from the start: it reads 0, not absent.
    if (this.labelNames.length === 0) this.get({});
    return [...this.#series.values()].sort((a, b) => compareValues(a.values, b.values));
  }
}

function header(name: string, help: string, type: string): string[] {
  return [`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`];
}

function scalarLines(table: SeriesTable<{ value: number }>): string[] {
  return table.sorted().map(({ values, state }) =>
    `${table.name}${formatLabels(table.labelNames, values)} ${formatValue(state.value)}`
  );
}

/** A number that only goes up (its name should end in `_total`). */
export class Counter {
  readonly #table: SeriesTable<{ value: number }>;

  /**
   * Makes a counter.
   *
   * @param name metric name
   * @param help what it counts
   * @param labelNames its label names, in output order
   * @throws {TypeError} when a name is not a valid Prometheus name
   */
  constructor(readonly name: string, readonly help: string, labelNames: readonly string[] = []) {
    this.#table = new SeriesTable(name, labelNames, () => ({ value: 0 }));
  }

  /**
   * Adds to the series with these labels.
   *
   * @param labels a value for every label name
   * @param by how much, not negative
   * @throws {RangeError} when `by` is negative
   * @throws {TypeError} when the labels are not the counter's label names
   */
  inc(labels: Labels = {}, by = 1): void {
    if (!(by >= 0)) throw new RangeError(`${this.name} cannot be increased by ${by}`);
    this.#table.get(labels).value += by;
  }

  /**
   * Sets the series to a total kept elsewhere (a byte count read at scrape time); the total
   * must never decrease while the process lives.
   *
   * @param labels a value for every label name
   * @param total the running total
   * @throws {TypeError} when the labels are not the counter's label names
   */
  setTotal(labels: Labels, total: number): void {
    this.#table.get(labels).value = total;
  }

  /**
   * Writes the family: its HELP and TYPE lines, then a line per series.
   *
   * @returns the lines, each without its newline
   */
  lines(): string[] {
    return header(this.name, this.help, "counter").concat(scalarLines(this.#table));
  }
}

/** A number that goes up and down. */
export class Gauge {
  readonly #table: SeriesTable<{ value: number }>;

  /**
   * Makes a gauge.
   *
   * @param name metric name
   * @param help what it measures
   * @param labelNames its label names, in output order
   * @throws {TypeError} when a name is not a valid Prometheus name
   */
  constructor(readonly name: string, readonly help: string, labelNames: readonly string[] = []) {
    this.#table = new SeriesTable(name, labelNames, () => ({ value: 0 }));
  }

  /**
   * Sets the series with these labels.
   *
   * @param labels a value for every label name
   * @param value the new value
   * @throws {TypeError} when the labels are not the gauge's label names
   */
  set(labels: Labels, value: number): void {
    this.#table.get(labels).value = value;
  }

  /** Sets every series seen so far to 0, so that a state nobody is in reads 0, not absent. */
  zero(): void {
    for (const { state } of this.#table.sorted()) state.value = 0;
  }

  /**
   * Writes the family: its HELP and TYPE lines, then a line per series.
   *
   * @returns the lines, each without its newline
   */
  lines(): string[] {
    return header(this.name, this.help, "gauge").concat(scalarLines(this.#table));
  }
}

/** A distribution counted into fixed buckets, with a sum and a count. */
export class Histogram {
  readonly #bounds: readonly number[];
  readonly #table: SeriesTable<{ counts: number[]; sum: number }>;

  /**
   * Makes a histogram.
   *
   * @param name metric name, without `_bucket`, `_sum` or `_count`
   * @param help what it measures
   * @param buckets upper bounds, strictly increasing; `+Inf` is always added
   * @param labelNames its label names (not `le`), in output order
   * @throws {TypeError} when a name is invalid or the buckets are not strictly increasing
   */
  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[],
    labelNames: readonly string[] = [],
  ) {
    if (labelNames.includes("le")) throw new TypeError(`${name}: the label "le" is reserved`);
    const bounds = buckets.filter((b) => b !== Infinity);
    if (bounds.some((b, i) => Number.isNaN(b) || (i > 0 && b <= bounds[i - 1]))) {
      throw new TypeError(`${name}: buckets must be strictly increasing numbers`);
    }
    this.#bounds = [...bounds, Infinity];
    this.#table = new SeriesTable(name, labelNames, () => ({
      counts: this.#bounds.map(() => 0),
      sum: 0,
    }));
  }

  /**
   * Counts a value into the series with these labels.
   *
   * @param labels a value for every label name
   * @param value the observed value
   * @throws {TypeError} when the labels are not the histogram's label names
   */
  observe(labels: Labels, value: number): void {
    const s = this.#table.get(labels);
    const i = this.#bounds.findIndex((b) => value <= b);
    s.counts[i === -1 ? s.counts.length - 1 : i]++;
    s.sum += value;
  }

  /**
   * Writes the family: its HELP and TYPE lines, then per series its cumulative buckets (`le`
   * up to `+Inf`), `_sum` and `_count`.
   *
   * @returns the lines, each without its newline
   */
  lines(): string[] {
    const { name, labelNames } = this.#table;
    const withLe = [...labelNames, "le"];
    return header(name, this.help, "histogram").concat(
      this.#table.sorted().flatMap(({ values, state }) => {
        let cumulative = 0;
        const buckets = this.#bounds.map((b, i) => {
          cumulative += state.counts[i];
          return `${name}_bucket${formatLabels(withLe, [...values, formatValue(b)])} ${cumulative}`;
        });
        const labels = formatLabels(labelNames, values);
        return buckets.concat(
          `${name}_sum${labels} ${formatValue(state.sum)}`,
          `${name}_count${labels} ${cumulative}`,
        );
      }),
    );
  }
}
/** Any metric family a {@linkcode Registry} can write. */
export type Metric = Counter | Gauge | Histogram;

/** Metric families, written in the order they were registered. */
export class Registry {
  readonly #metrics: Metric[] = [];

  /**
   * Adds a family.
   *
   * @param metric the family
   * @returns the same family, for `const c = registry.register(new Counter(...))`
   * @throws {TypeError} when a family of that name is registered already
   */
  register<M extends Metric>(metric: M): M {
    if (this.#metrics.some((m) => m.name === metric.name)) {
      throw new TypeError(`metric ${metric.name} is registered twice`);
    }
    this.#metrics.push(metric);
    return metric;
  }

  /**
   * Writes every family in the text exposition format.
   *
   * @returns the text, ending with a newline
   */
  render(): string {
    return this.#metrics.flatMap((m) => m.lines()).map((l) => `${l}\n`).join("");
  }
}
