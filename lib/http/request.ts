/**
 * Reading and checking what a client POSTs: a JSON object of bounded size whose values are
 * safe to put in an argv.
 *
 * @module
 */

import { BadRequestError } from "../errors/mod.ts";
import { PayloadTooLargeError, RequestTimeoutError } from "./errors.ts";

/** Limits on a launch request. */
export interface RequestLimits {
  /** Largest body in bytes. @default 1 MiB */
  maxBodyBytes: number;
  /** Most keys in the object. @default 64 */
  maxKeys: number;
  /** Longest value, in characters of its JSON form for non-strings. @default 4096 */
  maxValueLength: number;
  /** How long the body may take to arrive, in ms. @default no limit */
  bodyTimeoutMs?: number;
}

/** The limits used unless told otherwise. */
export const DEFAULT_LIMITS: RequestLimits = {
  maxBodyBytes: 1024 * 1024,
  maxKeys: 64,
  maxValueLength: 4096,
};

/**
 * Reads a request body, refusing more than `limit` bytes without reading them all.
 *
 * @param req the request
 * @param limit most bytes accepted
 * @param timeoutMs how long the whole body may take to arrive; none when undefined
 * @returns the body as text
 * @throws {PayloadTooLargeError} when the body is larger
 * @throws {RequestTimeoutError} when it does not arrive in time (a client holding the
 *   connection by sending nothing, or a byte at a time)
 * @throws {BadRequestError} when the body cannot be read to its end or is not UTF-8
 */
export async function readBody(req: Request, limit: number, timeoutMs?: number): Promise<string> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > limit) {
    await req.body?.cancel();
    throw new PayloadTooLargeError(limit);
  }
  if (!req.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  const late = Promise.withResolvers<"late">();
  const timer = timeoutMs === undefined
    ? undefined
    : setTimeout(() => late.resolve("late"), timeoutMs);
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array> | "late";
      try {
        chunk = await Promise.race([reader.read(), late.promise]);
      } catch {
        // The client hung up or broke the framing mid-body; the answer is likely never read.
        throw new BadRequestError("the request body ended before it was complete");
      }
      if (chunk === "late") {
        await reader.cancel().catch(() => {});
        throw new RequestTimeoutError(timeoutMs! / 1000);
      }
      const { done, value } = chunk;
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel();
        throw new PayloadTooLargeError(limit);
      }
      chunks.push(value);
    }
  } finally {
    clearTimeout(timer);
  }
  return decode(chunks, size);
}

function decode(chunks: Uint8Array[], size: number): string {
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new BadRequestError("the request body is not valid UTF-8");
  }
}

// C0 controls, DEL and the C1 controls (tab, CR and LF included): no argv or log line should
// carry them; terminals and some log readers act on C1 ones (CSI, NEL). Also Unicode's whole
// Bidi_Control set (embeddings, overrides, isolates and the marks U+200E, U+200F, U+061C),
// which make text display in another order than it is read ("Trojan Source"); the line and
// paragraph separators, which some readers break at; and lone surrogates (JSON lets "\ud800"
// through), which are no text at all: an app's UTF-8 encoder would fail on them or mangle them.
const CONTROL = /[\p{Cc}\p{Bidi_Control}\u2028\u2029\p{Cs}]/u;

function jsonLength(key: string, value: unknown): number {
  try {
    return typeof value === "string" ? value.length : JSON.stringify(value).length;
  } catch {
    throw new BadRequestError(`value of "${key}" is nested too deeply`);
  }
}

function checkValue(key: string, value: unknown, limits: RequestLimits): void {
  if (jsonLength(key, value) > limits.maxValueLength) {
    throw new BadRequestError(
      `value of "${key}" is longer than ${limits.maxValueLength} characters`,
    );
  }
  if (hasControl(value)) {
    throw new BadRequestError(`value of "${key}" contains control characters`);
  }
}

// A loop over an explicit stack, not recursion: JSON.parse and JSON.stringify take values
// nested far deeper than the call stack allows, and a stack overflow here would be a 500.
function hasControl(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length) {
    const v = pending.pop();
    if (typeof v === "string") {
      if (CONTROL.test(v)) return true;
    } else if (Array.isArray(v)) {
      for (const item of v) pending.push(item);
    } else if (v !== null && typeof v === "object") {
      for (const [k, item] of Object.entries(v)) pending.push(k, item);
    }
  }
  return false;
}

/**
 * Parses a launch request body.
 *
 * @param text the body
 * @param limits size limits
 * @returns the client's keys and values
 * @throws {BadRequestError} for anything but a JSON object within the limits
 */
export function parseLaunchBody(
  text: string,
  limits: RequestLimits = DEFAULT_LIMITS,
): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new BadRequestError(`the request body is not valid JSON: ${(err as Error).message}`);
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new BadRequestError("the request body must be a JSON object");
  }
  const entries = Object.entries(body);
  if (entries.length > limits.maxKeys) {
    throw new BadRequestError(`the request has more than ${limits.maxKeys} keys`);
  }
  for (const [key, value] of entries) {
    if (key.length > 256 || CONTROL.test(key)) {
      throw new BadRequestError("the request has a key that is too long or has control characters");
    }
    checkValue(key, value, limits);
  }
  return body as Record<string, unknown>;
}
