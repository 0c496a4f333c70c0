/**
 * Templates with the semantics of Python's `string.Template`, the syntax of wslink launcher
 * configs: `$name` and `${name}` are replaced by a value, `$$` is a literal `$`, and any other
 * `$` is a syntax error. Names are ASCII identifiers (`[_A-Za-z][_A-Za-z0-9]*`); `$name` takes
 * the longest such name, so `$portx` names `portx`.
 *
 * The output is a plain string: nothing is quoted or escaped, because commands are passed to
 * the process as an argv and never through a shell. Compile a template once when the config
 * is loaded, then render it for each session.
 *
 * @example
 * ```ts
 * import { compileTemplate, renderTemplate } from "./template.ts";
 *
 * const t = compileTemplate("--port=${port} --cost=$$5");
 * const values: Record<string, string> = { port: "9001" };
 * renderTemplate(t, (name) => values[name], "application \"trame\"");
 * // => "--port=9001 --cost=$5"
 * ```
 *
 * @module
 */

import { MissingVariableError } from "./errors.ts";

/** A `$` that starts neither `$$`, `$name` nor `${name}`. */
export class TemplateSyntaxError extends Error {
  /** 0-based index in {@linkcode TemplateSyntaxError.template} of the offending `$`. */
  readonly index: number;
  /** The whole template text. */
  readonly template: string;

  /**
   * Points at the offending `$`.
   *
   * @param template the whole template text
   * @param index 0-based index of the offending `$`
   */
  constructor(template: string, index: number) {
    const before = template.slice(0, index);
    const line = before.split("\n").length;
    const column = index - before.lastIndexOf("\n");
    super(
      `invalid placeholder at line ${line}, column ${column} of template ${
        JSON.stringify(template)
      }: use $name, \${name}, or $$ for a literal $`,
    );
    this.name = "TemplateSyntaxError";
    this.index = index;
    this.template = template;
  }
}

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
}

// Python's Template.pattern with its ASCII identifier: escaped, named, braced, else invalid.
// matchAll() iterates over a copy, so this shared regex's lastIndex never changes.
const PLACEHOLDER = /\$(?:(\$)|([_A-Za-z][_A-Za-z0-9]*)|\{([_A-Za-z][_A-Za-z0-9]*)\}|)/g;

/**
 * Parses a template.
 *
 * @param source the template text
 * @returns the template, ready for {@linkcode renderTemplate}
 * @throws {TemplateSyntaxError} when a `$` starts neither `$$`, `$name` nor `${name}`
 */
export function compileTemplate(source: string): CompiledTemplate {
  const literals: string[] = [];
  const names: string[] = [];
  let text = "";
  let last = 0;
  for (const match of source.matchAll(PLACEHOLDER)) {
    const [whole, escaped, named, braced] = match;
    text += source.slice(last, match.index);
    last = match.index + whole.length;
    if (escaped !== undefined) {
      text += "$";
    } else if (named !== undefined || braced !== undefined) {
      literals.push(text);
      names.push(named ?? braced);
      text = "";
    } else {
      throw new TemplateSyntaxError(source, match.index);
    }
  }
  literals.push(text + source.slice(last));
  return Object.freeze({
    source,
    variables: Object.freeze([...new Set(names)]),
    literals: Object.freeze(literals),
    names: Object.freeze(names),
  });
}

/**
 * Renders a template: every placeholder is replaced by the value that `lookup` gives for its
 * name, as is.
 *
 * @param template a compiled template, or template text to compile first
 * @param lookup gives the value of a variable, or undefined when it has none
 * @param where what is being rendered, for the error message, such as `application "loader"`
 * @returns the rendered text
 * @throws {MissingVariableError} for the first placeholder whose variable has no value
 * @throws {TemplateSyntaxError} when `template` is text with an invalid placeholder
 */
export function renderTemplate(
  template: CompiledTemplate | string,
  lookup: (name: string) => string | undefined,
  where: string,
): string {
  const { literals, names } = typeof template === "string" ? compileTemplate(template) : template;
  let out = literals[0];
  for (let i = 0; i < names.length; i++) {
    const value = lookup(names[i]);
    if (value === undefined) throw new MissingVariableError(names[i], where);
    out += value + literals[i + 1];
  }
  return out;
}
