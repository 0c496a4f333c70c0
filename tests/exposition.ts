/**
 * A strict reader of the Prometheus text exposition format, for asserting on values rather
 * than substrings. It throws on anything a scraper would reject or that our writer must never
 * produce: a sample before its TYPE, a family split in two, a malformed label or value.
 *
 * @module
 */

/** One sample line. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A parsed exposition. */
export interface Exposition {
  /** Family name to its TYPE, in the order the families appear. */
  types: Map<string, string>;
  /** Family name to its unescaped HELP text. */
  help: Map<string, string>;
  samples: Sample[];
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`);
const COMMENT = new RegExp(`^# (HELP|TYPE) (${NAME}) ?(.*)$`);
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function unescape(text: string, quote: boolean): string {
  return text.replace(quote ? /\\([\\"n])/g : /\\([\\n])/g, (_, c) => c === "n" ? "\n" : c);
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;
  while (label.lastIndex < text.length) {
    const m = label.exec(text);
    if (!m) throw new SyntaxError(`bad labels in: ${line}`);
    if (Object.hasOwn(labels, m[1])) throw new SyntaxError(`label ${m[1]} twice in: ${line}`);
    labels[m[1]] = unescape(m[2], true);
    if (m[3] === "" && label.lastIndex < text.length) throw new SyntaxError(`bad labels: ${line}`);
  }
  return labels;
}

function parseValue(text: string, line: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  if (!/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) {
    throw new SyntaxError(`bad value in: ${line}`);
  }
  return Number(text);
}

/** The family a sample belongs to: a histogram's `_bucket`, `_sum`, `_count` are its own. */
function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  return m && types.get(m[1]) === "histogram" ? m[1] : undefined;
}

/**
 * Parses an exposition.
 *
 * @param text the whole body, ending with a newline unless empty
 * @returns its families and samples
 * @throws {SyntaxError} on anything malformed
 */
export function parseExposition(text: string): Exposition {
  const out: Exposition = { types: new Map(), help: new Map(), samples: [] };
  if (text === "") return out;
  if (!text.endsWith("\n")) throw new SyntaxError("the exposition does not end with a newline");
  const closed = new Set<string>();
  let current: string | undefined;
  const enter = (family: string, line: string) => {
    if (family === current) return;
    if (closed.has(family)) throw new SyntaxError(`family ${family} split in two at: ${line}`);
    if (current) closed.add(current);
    current = family;
  };
  for (const line of text.slice(0, -1).split("\n")) {
    const comment = COMMENT.exec(line);
    if (comment) {
      const [, kind, name, rest] = comment;
      enter(name, line);
      if (kind === "HELP") out.help.set(name, unescape(rest, false));
      else if (!TYPES.has(rest) || out.types.has(name)) throw new SyntaxError(`bad TYPE: ${line}`);
      else out.types.set(name, rest);
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new SyntaxError(`not a sample: ${JSON.stringify(line)}`);
    const family = familyOf(m[1], out.types);
    if (!family) throw new SyntaxError(`sample before its TYPE: ${line}`);
    enter(family, line);
    out.samples.push({
      name: m[1],
      labels: parseLabels(m[2] ?? "", line),
      value: parseValue(m[3], line),
    });
  }
  return out;
}

/**
 * The value of the one sample with this name and exactly these labels.
 *
 * @param exposition a parsed exposition
 * @param name the sample's name
 * @param labels all its labels
 * @returns the value, or undefined when there is no such sample
 */
export function sampleValue(
  exposition: Exposition,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  const found = exposition.samples.filter((s) =>
    s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want
  );
  if (found.length > 1) throw new Error(`${name} ${want} appears ${found.length} times`);
  return found[0]?.value;
}
