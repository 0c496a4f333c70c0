/**
 * Pointed syntax hints for the mistakes people make when a config is written like a Python
 * dict or a JavaScript object: `#` comments, single-quoted strings, unquoted keys, `True`,
 * `False` and `None`. A small scanner finds them all in one pass and also returns a repaired
 * copy of the text, of the same length, so that the JSONC parser can still find the other,
 * unrelated syntax errors at their true offsets.
 *
 * @module
 */

/** One hint found by {@linkcode scanHints}. */
export interface SyntaxHint {
  /** Which mistake. */
  kind: "hash-comment" | "single-quote" | "unquoted-key" | "python-literal";
  /** 0-based offset of the mistake in the text. */
  offset: number;
  /** What is wrong and what to write instead. */
  message: string;
  /** Whether the repaired text fixes it; if not, the parser's errors on its line are noise. */
  repaired: boolean;
}

/** What {@linkcode scanHints} found. */
export interface HintScan {
  /** The hints, in text order. */
  hints: SyntaxHint[];
  /** The text with every hinted mistake replaced by valid JSON of the same length. */
  repaired: string;
}

const PYTHON_LITERALS: Record<string, string> = { True: "true", False: "false", None: "null" };
const IDENTIFIER = /[A-Za-z_$][\w$]*/y;
const NUMBER_LIKE = /[-+.\d][\w.+-]*/y;
const KEY_COLON = /\s*:/y;

/**
 * Scans JSONC text for the mistakes that deserve a pointed message.
 *
 * @param text the config text
 * @returns the hints and a same-length repaired text
 */
export function scanHints(text: string): HintScan {
  const scanner = new HintScanner(text);
  scanner.run();
  return { hints: scanner.hints, repaired: scanner.chars.join("") };
}

class HintScanner {
  readonly hints: SyntaxHint[] = [];
  readonly chars: string[];
  readonly #text: string;
  #pos = 0;

  constructor(text: string) {
    this.#text = text;
    // One entry per UTF-16 code unit, so that offsets in the repaired text stay true.
    this.chars = text.split("");
  }

  run(): void {
    const text = this.#text;
    while (this.#pos < text.length) {
      const c = text[this.#pos];
      if (c === '"') this.#pos = this.#skipString('"');
      else if (text.startsWith("//", this.#pos)) this.#pos = this.#lineEnd(this.#pos);
      else if (text.startsWith("/*", this.#pos)) this.#pos = this.#blockCommentEnd();
      else if (c === "#") this.#hashComment();
      else if (c === "'") this.#singleQuoted();
      else if (this.#word()) continue;
      else this.#pos++;
    }
  }

  #hashComment(): void {
    const start = this.#pos;
    const end = this.#lineEnd(start);
    this.#hint("hash-comment", start, "'#' comments are not allowed; use // for comments", true);
    this.#blank(start, end);
    this.#pos = end;
  }

  #singleQuoted(): void {
    const start = this.#pos;
    const end = this.#skipString("'");
    const closed = this.#text[end - 1] === "'" && end - start >= 2;
    const body = this.#text.slice(start + 1, closed ? end - 1 : end);
    const message = `strings and keys take double quotes: write ${JSON.stringify(body)}`;
    this.#hint("single-quote", start, message, closed);
    if (closed) this.#replace(start, `"${"x".repeat(end - start - 2)}"`);
    this.#pos = end;
  }

  /** Handles a bare word or number at the position; false when there is none. */
  #word(): boolean {
    const text = this.#text;
    const start = this.#pos;
    NUMBER_LIKE.lastIndex = start;
    if (NUMBER_LIKE.test(text)) {
      this.#pos = NUMBER_LIKE.lastIndex;
      return true;
    }
    IDENTIFIER.lastIndex = start;
    if (!IDENTIFIER.test(text)) return false;
    const end = IDENTIFIER.lastIndex;
    const word = text.slice(start, end);
    KEY_COLON.lastIndex = end;
    if (KEY_COLON.test(text)) {
      const message = `keys take double quotes: write "${word}"`;
      this.#hint("unquoted-key", start, message, this.#quoteKey(start, end));
    } else if (word in PYTHON_LITERALS) {
      const literal = PYTHON_LITERALS[word];
      this.#hint("python-literal", start, `JSON writes ${literal}, not ${word}`, true);
      this.#replace(start, literal);
    }
    this.#pos = end;
    return true;
  }

  /**
   * Replaces a bare key by a quoted one of the same length; a one-letter key borrows a
   * blank next to it to make room for `""`.
   */
  #quoteKey(start: number, end: number): boolean {
    const text = this.#text;
    const blank = (i: number) => text[i] === " " || text[i] === "\t";
    if (end - start >= 2) this.#replace(start, `"${"x".repeat(end - start - 2)}"`);
    else if (blank(start - 1)) this.#replace(start - 1, '""');
    else if (blank(end)) this.#replace(start, '""');
    else return false;
    return true;
  }

  /** Returns the offset just after the string that opens at the position. */
  #skipString(quote: string): number {
    const text = this.#text;
    let i = this.#pos + 1;
    while (i < text.length && text[i] !== quote && text[i] !== "\n") {
      i += text[i] === "\\" ? 2 : 1;
    }
    return text[i] === quote ? i + 1 : i;
  }

  #blockCommentEnd(): number {
    const end = this.#text.indexOf("*/", this.#pos + 2);
    return end < 0 ? this.#text.length : end + 2;
  }

  #lineEnd(from: number): number {
    const end = this.#text.indexOf("\n", from);
    return end < 0 ? this.#text.length : end;
  }

  #hint(kind: SyntaxHint["kind"], offset: number, message: string, repaired: boolean): void {
    this.hints.push({ kind, offset, message, repaired });
  }

  #replace(start: number, replacement: string): void {
    for (let i = 0; i < replacement.length; i++) this.chars[start + i] = replacement[i];
  }

  #blank(start: number, end: number): void {
    for (let i = start; i < end; i++) if (this.chars[i] !== "\r") this.chars[i] = " ";
  }
}
