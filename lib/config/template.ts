/**
 * Templates with the semantics of Python's `string.Template`, the syntax of wslink launcher
 * configs: `$name` and `${name}` are replaced by a value, `$$` is a literal `$`. Names are
 * ASCII identifiers (`[_A-Za-z][_A-Za-z0-9]*`); `$name` takes the longest such name, so `$portx`
 * names `portx`. Any other `$` (before a digit, `!`, `*`, `@`, `#`, `?`, `-`, a space, the end,
 * or a `{` that does not close a name) is a literal `$`, as in the wslink launcher's
 * `safe_substitute`: `sh -c 'exec app "$0"'` is a common cmd.
 *
 * The output is a plain string: nothing is quoted or escaped, because commands are passed to
 * the process as an argv and never through a shell. Compile a template once when the config
 * is loaded, then render it for each session.
 *
 * @example
 * ```ts
 * import { compileTemplate, renderTemplate } from "./template.ts";
 *
 * const t = compileTemplate("--port=${port} --cost=$$5 $1");
 * const values: Record<string, string> = { port: "9001" };
 * renderTemplate(t, (name) => values[name], "application \"trame\"");
 * // => "--port=9001 --cost=$5 $1"
 * ```
 *
 * @module
 */

import { BadRequestError } from "../errors/mod.ts";

/**
 * A parsed template, ready to be rendered many times. The text between placeholders is
 * `literals`, the placeholders are `names`: the output is `literals[0] + value(names[0]) +
 * literals[1] + ... + literals[names.length]`, with `$$` already turned into `$`.
 */
export interface CompiledTemplate {
  /** The template text as written. */
  readonly source: string;
  /** Every variable the template names, once each, in order of first use. */
  readonly variables: readonly string[];
  /** The text around the placeholders; always one more than `names`. */
  readonly literals: readonly string[];
  /** The variable of each placeholder, in order, repeats included. */
  readonly names: readonly string[];
  /** Each placeholder as written (`$name` or `${name}`), in the order of `names`. */
  readonly placeholders: readonly string[];
}

// Python's Template.pattern with its ASCII identifier: escaped, named, braced, else a literal $.
// matchAll() iterates over a copy, so this shared regex's lastIndex never changes.
const PLACEHOLDER = /\$(?:(\$)|([_A-Za-z][_A-Za-z0-9]*)|\{([_A-Za-z][_A-Za-z0-9]*)\})?/g;

/**
 * Parses a template.
 *
 * @param source the template text
 * @returns the template, ready for {@linkcode renderTemplate}
 */
export function compileTemplate(source: string): CompiledTemplate {
  const literals: string[] = [];
  const names: string[] = [];
  const placeholders: string[] = [];
  let text = "";
  let last = 0;
  for (const match of source.matchAll(PLACEHOLDER)) {
    const [whole, escaped, named, braced] = match;
    text += source.slice(last, match.index);
    last = match.index + whole.length;
    if (named !== undefined || braced !== undefined) {
      literals.push(text);
      names.push(named ?? braced);
      placeholders.push(whole);
      text = "";
    } else {
      text += escaped ?? whole; // `$$` is one `$`; a lone `$` stays itself
    }
  }
  literals.push(text + source.slice(last));
  return Object.freeze({
    source,
    variables: Object.freeze([...new Set(names)]),
    literals: Object.freeze(literals),
    names: Object.freeze(names),
    placeholders: Object.freeze(placeholders),
  });
}

/**
 * Finds a `${` that does not close a name (`${1}`, `${port`): a literal `$` for Python, but more
 * often a typo, worth a warning.
 *
 * @param source the template text
 * @returns the fragment, such as `${port`, or undefined when there is none
 */
export function doubtfulBrace(source: string): string | undefined {
  for (const match of source.matchAll(PLACEHOLDER)) {
    if (match[0] === "$" && source[match.index + 1] === "{") {
      return source.slice(match.index).match(/^\$\{[^}\s]{0,12}\}?/)![0];
    }
  }
  return undefined;
}

/** What rendering does with a variable that has no value. */
export type MissingValues = "refuse" | "keep";

/**
 * Renders a template: every placeholder is replaced by the value that `lookup` gives for its
 * name, as is.
 *
 * @param template a compiled template, or template text to compile first
 * @param lookup gives the value of a variable, or undefined when it has none
 * @param where what is being rendered, for the error message, such as `application "loader"`
 * @param missing `"refuse"` (throw), or `"keep"` to leave a placeholder without a value as written
 *   (as the wslink launcher does)
 * @returns the rendered text
 * @throws {MissingVariableError} for the first placeholder whose variable has no value, unless
 *   `missing` is `"keep"`
 */
export function renderTemplate(
  template: CompiledTemplate | string,
  lookup: (name: string) => string | undefined,
  where: string,
  missing: MissingValues = "refuse",
): string {
  const { literals, names, placeholders } = typeof template === "string"
    ? compileTemplate(template)
    : template;
  let out = literals[0];
  for (let i = 0; i < names.length; i++) {
    let value = lookup(names[i]);
    if (value === undefined) {
      if (missing === "refuse") throw new MissingVariableError(names[i], where);
      value = placeholders[i];
    }
    out += value + literals[i + 1];
  }
  return out;
}

/** A template names a variable that has no value (HTTP 400). */
export class MissingVariableError extends BadRequestError {
  /** The variable without a value. */
  readonly variable: string;
  /** What was being rendered. */
  readonly where: string;
  /**
   * Makes the error.
   *
   * @param variable the variable without a value
   * @param where what was being rendered, such as `application "loader"`
   */
  constructor(variable: string, where: string) {
    super(`${where} needs a value for "${variable}", and the request gave none`);
    this.name = "MissingVariableError";
    this.variable = variable;
    this.where = where;
  }
}
