/**
 * Plain HTTP requests to a session's app, for the built-in proxy, passed through as they are.
 * `fetch` cannot do this: it adds `Accept-Encoding: gzip,br`, `Accept-Language` and
 * `User-Agent` to every request, and decompresses every answer while keeping its
 * `Content-Encoding` and `Content-Length`, so a browser would get plain bytes labelled gzip.
 * `node:http` sends the headers it is given (and `Host`) and hands the body over as it came.
 *
 * @module
 */

import { type IncomingMessage, request as httpRequest } from "node:http";
import { Readable } from "node:stream";

/** A request to a session's app. */
export interface UpstreamRequest {
  /** The address to dial (an IPv6 address without brackets). */
  host: string;
  /** The app's port. */
  port: number;
  /** The method, as the client sent it. */
  method: string;
  /** The path and query, as the app should see them. */
  path: string;
  /** The headers to send, exactly (`Host` is set to the app's address). */
  headers: Headers;
  /** The body to send, if any. */
  body: ReadableStream<Uint8Array> | null;
  /** Aborts the request (the client went away). */
  signal?: AbortSignal;
}

/**
 * Sends a request to a session's app and answers what it answered.
 *
 * @param request the request
 * @returns the app's answer: its status, headers and body, none of them changed
 * @throws {Error} when the app cannot be reached or its answer is no HTTP answer
 */
export type UpstreamHttp = (request: UpstreamRequest) => Promise<Response>;

/** Statuses whose answers have no body. */
const NO_BODY = new Set([204, 205, 304]);

/**
 * The real {@linkcode UpstreamHttp}: one connection per request (a session's port may belong
 * to another session tomorrow, so no connection is kept).
 *
 * @param request the request
 * @returns the app's answer, as it came
 */
export function forwardHttp(request: UpstreamRequest): Promise<Response> {
  const { promise, resolve, reject } = Promise.withResolvers<Response>();
  let outgoing;
  try {
    outgoing = httpRequest({
      host: request.host,
      port: request.port,
      method: request.method,
      path: request.path,
      headers: Object.fromEntries(request.headers),
      agent: false,
    }, (res) => {
      try {
        resolve(answerOf(res, request.method));
      } catch (err) {
        res.destroy();
        reject(err);
      }
    });
  } catch (err) {
    return Promise.reject(err); // a header or path node refuses
  }
  outgoing.on("error", reject);
  const abort = () => outgoing.destroy(new Error("the client went away"));
  if (request.signal?.aborted) abort();
  request.signal?.addEventListener("abort", abort, { once: true });
  outgoing.on("close", () => request.signal?.removeEventListener("abort", abort));
  if (request.body) {
    Readable.fromWeb(request.body as Parameters<typeof Readable.fromWeb>[0])
      .on("error", (err) => outgoing.destroy(err))
      .pipe(outgoing);
  } else outgoing.end();
  return promise;
}

function answerOf(res: IncomingMessage, method: string): Response {
  const status = res.statusCode ?? 0;
  if (status < 200 || status > 599) throw new Error(`the app answered status ${status}`);
  const headers = new Headers();
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
    headers.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
  }
  if (method === "HEAD" || NO_BODY.has(status)) {
    res.resume();
    return new Response(null, { status, statusText: res.statusMessage, headers });
  }
  const body = Readable.toWeb(res) as ReadableStream<Uint8Array>;
  return new Response(body, { status, statusText: res.statusMessage, headers });
}
