/**
 * Python `re` patterns (the wslink launcher's `sanitize` rules) as JavaScript regular
 * expressions with the same meaning for what configs use: named groups `(?P<name>...)` and
 * back references `(?P=name)`, `\A` and `\Z`, and the Unicode classes of Python 3's `str`
 * patterns: `\w` is any letter, digit or `_` in any script (`données` is a word), `\d` any
 * decimal digit. JavaScript's own `\w` and `\d` are ASCII only, even with the `u` flag.
 *
 * @module
 */

const WORD = String.raw`\p{L}\p{N}_`;

/** What each Python escape is, outside and inside a character class. */
const CLASSES: Record<string, [outside: string, inside: string | undefined]> = {
  w: [`[${WORD}]`, WORD],
  W: [`[^${WORD}]`, undefined],
  d: [String.raw`\p{Nd}`, String.raw`\p{Nd}`],
  D: [String.raw`\P{Nd}`, String.raw`\P{Nd}`],
};

/**
 * Translates a Python `re` pattern to JavaScript source for a RegExp with the `u` flag.
 *
 * @param source the Python pattern
 * @returns the JavaScript pattern source
 * @example
 * ```ts
 * import { pythonPattern } from "./python_regexp.ts";
 * new RegExp(`^(?:${pythonPattern("[-\\w./]+")})$`, "u").test("données/can.ex2"); // true
 * ```
 */
export function pythonPattern(source: string): string {
  const named = source.replaceAll("(?P<", "(?<").replace(/\(\?P=(\w+)\)/g, "\\k<$1>");
  let out = "";
  let classStart = -1; // index in `out` just after the "[" or "[^" of the open class
  for (let i = 0; i < named.length; i++) {
    const c = named[i];
    const inClass = classStart >= 0;
    if (c === "\\" && i + 1 < named.length) {
      out += escape(named[++i], inClass);
    } else if (c === "[" && !inClass) {
      out += named[i + 1] === "^" ? (i++, "[^") : "[";
      classStart = out.length;
    } else if (c === "]" && inClass && out.length === classStart) {
      out += "\\]"; // Python reads a "]" first in a class as itself; JavaScript would end it
    } else if (c === "]" && inClass) {
      out += "]";
      classStart = -1;
    } else {
      out += c;
    }
  }
  return out;
}

/** An escape's JavaScript form; JavaScript's `u` flag refuses Python's harmless `\-` and the like. */
function escape(next: string, inClass: boolean): string {
  const cls = CLASSES[next];
  if (cls && (!inClass || cls[1] !== undefined)) return inClass ? cls[1]! : cls[0];
  if (!inClass && next === "A") return "^";
  if (!inClass && next === "Z") return "$";
  if (/[A-Za-z0-9]/.test(next) || SYNTAX.includes(next) || (inClass && next === "-")) {
    return `\\${next}`;
  }
  return next;
}

const SYNTAX = "^$\\.*+?()[]{}|/";
