/**
 * The HTTP token (RFC 9110, 5.6.2): what a header name, a `Connection` option, a WebSocket
 * subprotocol and an unquoted `Forwarded` value must be.
 *
 * @module
 */

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Whether a text is an HTTP token.
 *
 * @param text the text
 * @returns true when it is one (non-empty, of token characters only)
 */
export function isHttpToken(text: string): boolean {
  return TOKEN.test(text);
}
