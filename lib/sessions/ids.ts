/**
 * Session ids and secrets, from the platform CSPRNG.
 *
 * Ids are lower-case base32 because clients change their case: trame's client lower-cases the
 * whole `sessionURL` before it connects, and Apache's `RewriteMap txt:` lookups are
 * case-sensitive, so an id with capitals would never be found again. Secrets are never
 * re-cased, so they keep the denser base64url alphabet.
 *
 * @module
 */

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

/** Characters of a session id made by {@linkcode randomId}. */
export const SESSION_ID_LENGTH = 26;

/**
 * Makes a session id: 130 random bits as 26 characters of lower-case base32 (`[a-z2-7]`).
 * It reads the same after lower-casing, is safe in URLs, file names and map files, and never
 * starts with `-`.
 *
 * @returns a new id
 */
export function randomId(): string {
  const raw = crypto.getRandomValues(new Uint8Array(SESSION_ID_LENGTH));
  let id = "";
  for (const b of raw) id += BASE32[b & 31];
  return id;
}

/**
 * Whether a text has the shape of a session id, as this launcher makes them or as older ones
 * made them (URL-safe base64, with capitals): what a state entry's id or a log's name must be
 * before it is taken for a session's.
 *
 * @param id the text
 * @returns true when it could be a session id
 */
export function looksLikeSessionId(id: string): boolean {
  return /^[A-Za-z0-9_-]{1,64}$/.test(id);
}

/**
 * Makes a URL-safe random token.
 *
 * @param bytes how many random bytes it carries
 * @default 16
 * @returns `ceil(bytes * 4 / 3)` characters of `[A-Za-z0-9_-]`, never starting with `-`
 *   (a value like `--authKey -x3…` would read as an option to the app's argument parser)
 */
export function randomToken(bytes = 16): string {
  for (;;) {
    const raw = crypto.getRandomValues(new Uint8Array(bytes));
    let binary = "";
    for (const b of raw) binary += String.fromCharCode(b);
    const token = btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
    if (!token.startsWith("-")) return token;
  }
}
