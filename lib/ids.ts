/**
 * Session ids and secrets: random bytes from the platform CSPRNG, base64url-encoded.
 *
 * @module
 */

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
