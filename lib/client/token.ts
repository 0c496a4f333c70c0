/**
 * Secret tokens (`api_token`, `admin_token`) and the bearer credentials that carry them.
 * Tokens are compared by their SHA-256 digests, in constant time: the comparison takes the
 * same time whatever the lengths and contents compared, so timing tells an attacker nothing.
 *
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * The token of an `Authorization: Bearer <token>` header.
 *
 * @param header the header's value
 * @returns the token, or undefined when the header is not a bearer credential
 */
export function bearerToken(header: string): string | undefined {
  return header.match(BEARER)?.[1];
}

/** A secret token, which candidates are compared with in constant time. */
export class SecretToken {
  readonly #digest: Uint8Array;

  /**
   * Keeps the token's digest.
   *
   * @param token the secret
   */
  constructor(token: string) {
    this.#digest = digest(token);
  }

  /**
   * Compares a candidate with the token in constant time.
   *
   * @param candidate what a client sent
   * @returns true when it is the token
   */
  matches(candidate: string): boolean {
    return timingSafeEqual(digest(candidate), this.#digest);
  }

  /**
   * Checks an `Authorization` header.
   *
   * @param header the header's value, or null when the request has none
   * @returns `missing` without a header, `invalid` unless it is `Bearer <this token>`, and
   *   undefined when it is
   */
  checkBearer(header: string | null): "missing" | "invalid" | undefined {
    if (header === null) return "missing";
    const token = bearerToken(header);
    return token !== undefined && this.matches(token) ? undefined : "invalid";
  }
}

function digest(text: string): Uint8Array {
  return createHash("sha256").update(text).digest();
}
