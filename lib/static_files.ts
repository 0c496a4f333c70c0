/**
 * Serves the static files of the wslink `content` directory (the page that starts sessions),
 * never anything outside it.
 *
 * @module
 */

import { extname, join, normalize, sep } from "node:path";
import { NotFoundError } from "./errors.ts";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".ico": "image/x-icon",
  ".wasm": "application/wasm",
  ".txt": "text/plain; charset=utf-8",
  ".map": "application/json; charset=utf-8",
};

/**
 * Answers a GET or HEAD for a file under `root`. `/` redirects to `/index.html`, as the
 * wslink launcher does.
 *
 * @param root absolute directory of the files
 * @param pathname the request path as in a URL, still percent-encoded
 * @param head answer without a body
 * @returns the file, or a redirect
 * @throws {NotFoundError} when there is no such file under `root`
 */
export async function serveFile(
  root: string,
  pathname: string,
  head = false,
  search = "",
): Promise<Response> {
  if (pathname === "/") {
    return new Response(null, { status: 302, headers: { location: `/index.html${search}` } });
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    throw new NotFoundError(pathname); // malformed %-escapes name no file
  }
  const relative = normalize(decoded).replace(/^[/\\]+/, "");
  const path = join(root, relative);
  if (relative.startsWith("..") || relative.includes("\0") || !path.startsWith(root + sep)) {
    throw new NotFoundError(pathname);
  }
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch {
    throw new NotFoundError(pathname);
  }
  const info = await file.stat();
  if (!info.isFile) {
    file.close();
    throw new NotFoundError(pathname);
  }
  const headers = {
    "content-type": TYPES[extname(path).toLowerCase()] ?? "application/octet-stream",
    "content-length": String(info.size),
  };
  if (head) {
    file.close();
    return new Response(null, { headers });
  }
  return new Response(file.readable, { headers });
}
