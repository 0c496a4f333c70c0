/**
 * "Did you mean ...?" for misspelt names: the nearest candidate by edit distance.
 *
 * @module
 */

/**
 * Counts the single-character insertions, deletions and substitutions that turn `a` into `b`
 * (Levenshtein distance), case-sensitively.
 *
 * @param a one string
 * @param b the other string
 * @returns the edit distance, 0 when the strings are equal
 */
export function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * Picks the candidate nearest to `word`, if one is near enough to be a likely misspelling.
 * Case differences count as one edit each but never make a candidate worse than its
 * case-insensitive distance plus one, so `sessionUrl` still finds `sessionURL`.
 *
 * @example
 * ```ts
 * suggest("wait_lines", ["wait_line", "timeout"]); // "wait_line"
 * suggest("colour", ["cmd", "dir"]); // undefined
 * ```
 *
 * @param word the unknown name
 * @param candidates the known names
 * @param maxDistance the largest edit distance still suggested; @default 1 for words of up
 *   to 3 characters, 2 for longer ones
 * @returns the nearest candidate (the first one on a tie), or undefined when none is near
 */
export function suggest(
  word: string,
  candidates: readonly string[],
  maxDistance: number = word.length <= 3 ? 1 : 2,
): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = Math.min(
      levenshtein(word, candidate),
      levenshtein(word.toLowerCase(), candidate.toLowerCase()) + 1,
    );
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= maxDistance ? best : undefined;
}
