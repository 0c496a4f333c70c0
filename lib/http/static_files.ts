/**
 * Serves the static files of the wslink `content` directory (the page that starts sessions):
 * regular files inside it only. A symlink may lead elsewhere in the folder, never out of it;
 * dotfiles (`.env`, `.git/`) are not served, nor FIFOs, sockets or devices.
 *
 * @module
 */

import { extname, join, normalize, sep } from "node:path";
import { type ContentOpener, hasDotSegment, openContentFile } from "../os/mod.ts";
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
 * @param search the request's query string, kept on the redirect
 * @param open opens a regular file inside `root`
 * @returns the file, or a redirect
 * @throws {NotFoundError} when there is no such regular file under `root`, or it is a dotfile
 */
export async function serveFile(
  root: string,
  pathname: string,
  head = false,
  search = "",
  open: ContentOpener = openContentFile,
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
  if (hasDotSegment(relative)) throw new NotFoundError(pathname);
  const file = await open(root, path);
  if (!file) throw new NotFoundError(pathname);
  const headers = {
    "content-type": TYPES[extname(path).toLowerCase()] ?? "application/octet-stream",
    "content-length": String(file.size),
  };
  if (head) {
    file.close();
    return new Response(null, { headers });
  }
  return new Response(file.readable, { headers });
}
