/**
 * Turns config text into a JSONC syntax tree, or into syntax problems with 1-based line and
 * column. `//` and `/* *\/` comments and trailing commas are accepted; the usual mistakes
 * (`#` comments, single quotes, unquoted keys) get a pointed message from
 * {@linkcode scanHints}, and only the first other error of a line is kept, since the rest of a
 * line after a syntax error is mostly the parser's confusion.
 *
 * @module
 */

import { findNodeAtLocation, type ParseError, parseTree, printParseErrorCode } from "jsonc-parser";
import type { ConfigProblem } from "./problems.ts";
import { scanHints, type SyntaxHint } from "./hints.ts";

/** A node of the JSONC syntax tree: the shape of jsonc-parser's `Node`. */
export interface SyntaxNode {
  /** What the node holds; a `property` node's children are its key and its value. */
  readonly type: "object" | "array" | "property" | "string" | "number" | "boolean" | "null";
  /** The decoded value of a string, number, boolean or null node. */
  readonly value?: unknown;
  /** 0-based offset of the node's first character. */
  readonly offset: number;
  /** Length of the node's text. */
  readonly length: number;
  /** The enclosing node. */
  readonly parent?: SyntaxNode;
  /** Members of an object, items of an array, key and value of a property. */
  readonly children?: SyntaxNode[];
}

/** Maps 0-based offsets of a text to 1-based lines and columns (in UTF-16 code units). */
export class LineIndex {
  readonly #starts: number[] = [0];

  /**
   * Indexes the line starts of a text.
   *
   * @param text the text whose offsets are mapped
   */
  constructor(text: string) {
    for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) {
      this.#starts.push(i + 1);
    }
  }

  /**
   * Finds the line and column of an offset.
   *
   * @param offset 0-based offset into the text
   * @returns the 1-based line and column
   */
  locate(offset: number): { line: number; column: number } {
    let low = 0;
    let high = this.#starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.#starts[mid] <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: offset - this.#starts[low] + 1 };
  }
}

/** The outcome of {@linkcode parseSource}. */
export interface ParsedSource {
  /** The syntax tree; only present when there are no problems. */
  root?: SyntaxNode;
  /** Syntax errors in text order; empty when the text parses. */
  problems: ConfigProblem[];
  /** Offsets to lines and columns, for later problems. */
  lines: LineIndex;
}

/**
 * Parses JSONC text; a leading byte order mark is ignored.
 *
 * @param text the config text
 * @param file the file name that problems name
 * @returns the tree, or the syntax problems
 */
export function parseSource(text: string, file: string): ParsedSource {
  text = withoutBom(text);
  const lines = new LineIndex(text);
  const { hints, repaired } = scanHints(text);
  const errors: ParseError[] = [];
  const root = parseTree(repaired, errors, { allowTrailingComma: true });
  const problems = locateProblems(text, file, lines, hints, errors);
  return problems.length === 0 && root ? { root, problems, lines } : { problems, lines };
}

/**
 * Keeps one hint of each kind per line, and one parser error per line, unless the line has
 * a hint that the repair could not fix (the parser's errors there only echo the hint).
 */
function locateProblems(
  text: string,
  file: string,
  lines: LineIndex,
  hints: SyntaxHint[],
  errors: ParseError[],
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const hinted = new Set<string>();
  const flaggedLines = new Set<number>();
  for (const hint of hints) {
    const at = lines.locate(hint.offset);
    if (hinted.has(`${hint.kind}:${at.line}`)) continue;
    hinted.add(`${hint.kind}:${at.line}`);
    if (!hint.repaired) flaggedLines.add(at.line);
    problems.push({ file, ...at, severity: "error", path: "", message: hint.message });
  }
  for (const error of withoutEchoes(text, errors)) {
    const at = lines.locate(error.offset);
    if (flaggedLines.has(at.line)) continue;
    flaggedLines.add(at.line);
    const message = parseErrorMessage(text, error);
    problems.push({ file, ...at, severity: "error", path: "", message });
  }
  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}

/**
 * Drops the parser errors that only echo an earlier one: everything after a comment that is
 * never closed (it runs to the end), and a "missing comma" right after an unclosed string.
 */
function withoutEchoes(text: string, errors: ParseError[]): ParseError[] {
  const kept: ParseError[] = [];
  let previous: ParseError | undefined;
  for (const error of errors) {
    const code = previous && printParseErrorCode(previous.error);
    if (code === "UnexpectedEndOfComment") break;
    const gap = previous ? text.slice(previous.offset + previous.length, error.offset) : "";
    if (code !== "UnexpectedEndOfString" || gap.trim() !== "") kept.push(error);
    previous = error;
  }
  return kept;
}

/**
 * Removes a leading byte order mark, which editors do not count as a column.
 *
 * @param text the text as read
 * @returns the text without a BOM
 */
export function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function parseErrorMessage(text: string, error: ParseError): string {
  const found = text.slice(error.offset, error.offset + Math.max(error.length, 1));
  const shown = found === "" ? "the end of the file" : JSON.stringify(found.slice(0, 24));
  switch (printParseErrorCode(error.error)) {
    case "InvalidSymbol":
      return `unexpected ${shown}; expected a JSON value`;
    case "InvalidNumberFormat":
      return `invalid number ${shown}`;
    case "PropertyNameExpected":
      return `expected a key in double quotes, found ${shown}`;
    case "ValueExpected":
      return text.trim() === ""
        ? "the file is empty; expected a JSON object"
        : `expected a value, found ${shown}`;
    case "ColonExpected":
      return `expected ":" after the key, found ${shown}`;
    case "CommaExpected":
      return `missing "," before ${shown}`;
    case "CloseBraceExpected":
      return `expected "," or "}", found ${shown}`;
    case "CloseBracketExpected":
      return `expected "," or "]", found ${shown}`;
    case "EndOfFileExpected":
      return `unexpected ${shown} after the end of the top-level value`;
    case "UnexpectedEndOfComment":
      return "this /* comment is never closed with */";
    case "UnexpectedEndOfString":
      return 'this string is never closed; strings end with " on the same line';
    case "InvalidUnicode":
      return "invalid \\u escape; write \\u and four hex digits";
    case "InvalidEscapeCharacter":
      return "invalid escape in a string; write \\\\ for a backslash";
    case "InvalidCharacter":
      return "control character in a string; write \\n or \\t instead";
    default:
      return `syntax error at ${shown}`;
  }
}

/**
 * Makes a problem about a setting, placed at its key: the first of `candidates` (key paths,
 * such as `["configuration", "log_dir"]`) the file has, else the top-level object, with
 * `whenMissing` added to the message.
 */
export type KeyLocator = (
  candidates: string[][],
  severity: ConfigProblem["severity"],
  message: string,
  whenMissing?: string,
) => ConfigProblem;

/**
 * Places problems about settings at their keys in a config's text.
 *
 * @param text the config's text
 * @param file the file name that problems name
 * @returns the locator
 */
export function keyLocator(text: string, file: string): KeyLocator {
  const clean = withoutBom(text);
  const root = parseTree(clean, [], { allowTrailingComma: true });
  const lines = new LineIndex(clean);
  return (candidates, severity, message, whenMissing = "") => {
    const found = candidates.map((keys) => ({ keys, node: root && findNodeAtLocation(root, keys) }))
      .find((c) => c.node) ?? { keys: candidates[0], node: undefined };
    const keyNode = found.node?.parent?.children?.[0];
    const at = lines.locate(keyNode?.offset ?? root?.offset ?? 0);
    const path = found.keys.join(".");
    return { file, ...at, severity, path, message: keyNode ? message : message + whenMissing };
  };
}
