/**
 * Finds a "ready line" in the output of a session's process: the process is ready once one
 * line of its output contains one of the needles. The line need not be finished: real wslink
 * servers print `wslink: Starting factory` without a newline and then wait for clients.
 *
 * The output is decoded as a UTF-8 stream, so needles split across chunks, even inside a
 * multi-byte character, are found. `\n`, `\r\n` and a lone `\r` all end a line, as in
 * Python's universal newlines. Memory stays bounded whatever the output: between chunks only
 * the last `longest needle - 1` characters are kept.
 *
 * @example
 * ```ts
 * import { LineMatcher } from "./line_matcher.ts";
 *
 * const matcher = new LineMatcher(["wslink: Starting factory", "App running at"]);
 * const bytes = new TextEncoder().encode("loading...\nwslink: Starting fac");
 * matcher.push(bytes.subarray(0, 20)); // => undefined
 * matcher.push(bytes.subarray(20)); // => undefined, the needle is not complete yet
 * matcher.push(new TextEncoder().encode("tory")); // => "wslink: Starting factory"
 * ```
 *
 * @module
 */

/** Watches a byte stream for the first line that contains any of a set of needles. */
export class LineMatcher {
  #needles: readonly string[];
  #keep: number;
  #decoder = new TextDecoder();
  #carry = "";
  #matched: string | undefined;

  /**
   * Starts watching for the needles.
   *
   * @param needles what a ready line contains; at least one, none empty, none with a line break
   * @throws {RangeError} when `needles` is empty, or a needle is empty or holds `\n` or `\r`
   */
  constructor(needles: readonly string[]) {
    if (needles.length === 0) throw new RangeError("LineMatcher needs at least one needle");
    for (const needle of needles) {
      if (needle === "" || /[\r\n]/.test(needle)) {
        throw new RangeError(
          `a ready line must be non-empty text without line breaks, got ${JSON.stringify(needle)}`,
        );
      }
    }
    this.#needles = [...needles];
    this.#keep = Math.max(...needles.map((n) => n.length)) - 1;
  }

  /** The needle that was found, or undefined while none has been. */
  get matched(): string | undefined {
    return this.#matched;
  }

  /**
   * Feeds the next chunk of output.
   *
   * @param chunk the bytes, as read; may end inside a line or inside a UTF-8 character
   * @returns the needle found, or undefined; once one is found, always that one
   */
  push(chunk: Uint8Array): string | undefined {
    if (this.#matched === undefined) this.#scan(this.#decoder.decode(chunk, { stream: true }));
    return this.#matched;
  }

  /**
   * Ends the stream: decodes what is left of an incomplete UTF-8 sequence and checks it.
   *
   * @returns the needle found, or undefined when the output held none
   */
  end(): string | undefined {
    if (this.#matched === undefined) this.#scan(this.#decoder.decode());
    this.#carry = "";
    return this.#matched;
  }

  #scan(text: string): void {
    if (text === "") return;
    // A needle holds no line break, so any occurrence lies within one line: a line ending
    // inside the carry needs no special handling. Only the seam between the carry and the
    // text is searched as a joined string; the text itself is searched in place, uncopied.
    const seam = this.#carry === "" ? "" : this.#carry + text.slice(0, this.#keep);
    let best = Infinity;
    for (const needle of this.#needles) {
      const end = firstEnd(seam, needle, this.#carry.length) ?? firstEnd(text, needle, 0);
      // The needle whose occurrence ends first completes first whatever the chunking;
      // on a tie the earlier needle wins.
      if (end !== undefined && end < best) {
        best = end;
        this.#matched = needle;
      }
    }
    this.#carry = text.length >= this.#keep
      ? text.slice(text.length - this.#keep)
      : (this.#carry + text).slice(-this.#keep);
  }
}

/** Where the first occurrence of `needle` in `haystack` ends, counted from `origin`. */
function firstEnd(haystack: string, needle: string, origin: number): number | undefined {
  const at = haystack.indexOf(needle);
  return at < 0 ? undefined : at + needle.length - origin;
}
