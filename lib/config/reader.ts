/**
 * Typed reading of a JSONC syntax tree that records a problem, with the key path and the
 * line and column of the offending value, instead of stopping at the first one. Readers
 * return `undefined` for a value they reported, so callers fall back to a default and keep
 * going: the user sees every problem in one run.
 *
 * @module
 */

import type { ConfigProblem } from "./problems.ts";
import type { LineIndex, SyntaxNode } from "./source.ts";
import { suggest } from "./suggest.ts";

/** Collects the problems of one config file. */
export class ProblemList {
  readonly #file: string;
  readonly #lines: LineIndex;
  readonly #problems: { offset: number; problem: ConfigProblem }[] = [];

  /**
   * Starts an empty list.
   *
   * @param file the file name that problems name
   * @param lines maps offsets of the file's text to lines and columns
   */
  constructor(file: string, lines: LineIndex) {
    this.#file = file;
    this.#lines = lines;
  }

  /**
   * Records a problem.
   *
   * @param severity whether the problem stops the launcher
   * @param offset 0-based offset of the offending text
   * @param path key path of the offending value
   * @param message what is wrong and what to write instead
   */
  add(severity: ConfigProblem["severity"], offset: number, path: string, message: string): void {
    const at = this.#lines.locate(offset);
    this.#problems.push({ offset, problem: { file: this.#file, ...at, severity, path, message } });
  }

  /** Whether any recorded problem is an error. */
  get hasErrors(): boolean {
    return this.#problems.some(({ problem }) => problem.severity === "error");
  }

  /** Every recorded problem, in file order. */
  get all(): ConfigProblem[] {
    return this.#problems.toSorted((a, b) => a.offset - b.offset).map(({ problem }) => problem);
  }
}

/** A value of the tree with its key path, read with typed accessors. */
export class Value {
  /**
   * Wraps a syntax node.
   *
   * @param problems where problems are recorded
   * @param node the value's syntax node
   * @param path the value's key path, such as `applications.loader.cmd[2]`
   * @param keyNode the node of the key that names the value, if it is an object member
   */
  constructor(
    readonly problems: ProblemList,
    readonly node: SyntaxNode,
    readonly path: string,
    readonly keyNode?: SyntaxNode,
  ) {}

  /** The key that names the value in its object; empty for a list item or the root. */
  get key(): string {
    return typeof this.keyNode?.value === "string" ? this.keyNode.value : "";
  }

  /**
   * Records an error at the value.
   *
   * @param message what is wrong
   * @returns undefined, so that a reader can `return value.error(...)`
   */
  error(message: string): undefined {
    this.problems.add("error", this.node.offset, this.path, message);
  }

  /**
   * Records a warning at the value.
   *
   * @param message what is suspicious
   */
  warn(message: string): void {
    this.problems.add("warning", this.node.offset, this.path, message);
  }

  /**
   * Records a problem at the key that names the value, or at the value when it has none.
   *
   * @param severity whether the problem stops the launcher
   * @param message what is wrong
   */
  atKey(severity: ConfigProblem["severity"], message: string): void {
    this.problems.add(severity, (this.keyNode ?? this.node).offset, this.path, message);
  }

  /**
   * Records an "expected ..., found ..." error.
   *
   * @param expected what the value should be, such as `a string`
   * @returns undefined
   */
  expected(expected: string): undefined {
    return this.error(`expected ${expected}, found ${describe(this.node)}`);
  }

  /**
   * Reads a string.
   *
   * @returns the string, or undefined after recording an error
   */
  string(): string | undefined {
    return this.node.type === "string" ? this.node.value as string : this.expected("a string");
  }

  /**
   * Reads an integer.
   *
   * @returns the integer, or undefined after recording an error
   */
  integer(): number | undefined {
    const n = this.node.type === "number" ? this.node.value as number : undefined;
    return n !== undefined && Number.isInteger(n) ? n : this.expected("an integer");
  }

  /**
   * Reads a list.
   *
   * @returns the list's items, or undefined after recording an error
   */
  list(): Value[] | undefined {
    if (this.node.type !== "array") return this.expected("a list");
    return (this.node.children ?? []).map((item, i) =>
      new Value(this.problems, item, `${this.path}[${i}]`)
    );
  }

  /**
   * Reads an object whose keys are free names (applications, properties, environment).
   * A repeated key is a warning; the last one counts.
   *
   * @returns the members by key, or undefined after recording an error
   */
  entries(): Map<string, Value> | undefined {
    if (this.node.type !== "object") return this.expected("an object");
    const members = new Map<string, Value>();
    for (const property of this.node.children ?? []) {
      const [keyNode, valueNode] = property.children ?? [];
      if (!keyNode || !valueNode) continue;
      const key = keyNode.value as string;
      const member = new Value(this.problems, valueNode, childPath(this.path, key), keyNode);
      if (members.has(key)) {
        member.atKey("warning", `duplicate key "${key}"; this one replaces the earlier one`);
        members.delete(key);
      }
      members.set(key, member);
    }
    return members;
  }

  /**
   * Reads an object with a fixed set of keys. Unknown keys are warnings that suggest the
   * nearest known key, or the key that `aliases` maps them to.
   *
   * @param known the keys this object may have
   * @param aliases suggestions for keys of the other format, such as `log_dir` → `log`
   * @returns the object's fields, or undefined after recording an error
   */
  fields(known: readonly string[], aliases: Record<string, string> = {}): Fields | undefined {
    const members = this.entries();
    if (!members) return undefined;
    for (const [key, member] of members) {
      if (known.includes(key)) continue;
      const hint = Object.hasOwn(aliases, key) ? aliases[key] : suggest(key, known);
      const advice = hint === undefined ? "; it is ignored" : `; did you mean "${hint}"?`;
      member.atKey("warning", `unknown key "${key}"${advice}`);
    }
    return new Fields(this, members);
  }
}

/** The members of an object read with {@linkcode Value.fields}. */
export class Fields {
  /**
   * Wraps the members of an object.
   *
   * @param owner the object itself
   * @param members its members by key
   */
  constructor(readonly owner: Value, readonly members: Map<string, Value>) {}

  /**
   * Gets a member.
   *
   * @param key a member's key
   * @returns the member, or undefined when absent
   */
  get(key: string): Value | undefined {
    return this.members.get(key);
  }

  /**
   * Reads a member if it is present.
   *
   * @param key the member's key
   * @param reader how to read it
   * @returns what the reader returned, or undefined when the member is absent
   */
  read<T>(key: string, reader: (value: Value) => T | undefined): T | undefined {
    const member = this.members.get(key);
    return member === undefined ? undefined : reader(member);
  }

  /**
   * Gets a member that must be present.
   *
   * @param key the member's key
   * @returns the member, or undefined after recording an error at the object
   */
  require(key: string): Value | undefined {
    const member = this.members.get(key);
    if (member) return member;
    const path = childPath(this.owner.path, key);
    this.owner.problems.add("error", this.owner.node.offset, path, `missing required key "${key}"`);
  }

  /**
   * Gets one of interchangeable members, such as `wait_line` and `ready_line`.
   *
   * @param keys the accepted keys, the preferred one first
   * @param required whether a missing member is an error naming the preferred key
   * @returns the member given, or undefined when none is, or more than one (an error)
   */
  oneOf(keys: readonly string[], required = false): Value | undefined {
    const given = keys.map((key) => this.members.get(key)).filter((m) => m !== undefined);
    if (given.length === 0 && required) return this.require(keys[0]);
    if (given.length > 1) {
      const names = keys.map((k) => `"${k}"`).join(" or ");
      given[1].atKey("error", `give either ${names}, not both`);
      return undefined;
    }
    return given[0];
  }
}

/**
 * Builds the key path of an object member: `a.b`, or `a["odd key"]` for a key that is not a
 * plain name.
 *
 * @param parent the object's path, empty for the root
 * @param key the member's key
 * @returns the member's path
 */
export function childPath(parent: string, key: string): string {
  if (!/^[A-Za-z_][\w-]*$/.test(key)) return `${parent}[${JSON.stringify(key)}]`;
  return parent === "" ? key : `${parent}.${key}`;
}

/**
 * Describes what a syntax node holds, for "expected ..., found ..." messages.
 *
 * @param node the node
 * @returns such as `the number 3`, `a list`, `the string "abc"`
 */
export function describe(node: SyntaxNode): string {
  switch (node.type) {
    case "object":
      return "an object";
    case "array":
      return "a list";
    case "string": {
      const s = node.value as string;
      return `the string ${JSON.stringify(s.length > 40 ? `${s.slice(0, 37)}...` : s)}`;
    }
    case "number":
      return `the number ${node.value}`;
    default:
      return String(node.value ?? node.type);
  }
}
