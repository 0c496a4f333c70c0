/**
 * Opening a file of the static content folder without trusting what sits at its path: the
 * file must be a regular file inside the folder once symlinks are followed (a link may lead
 * elsewhere in the folder, never out of it), and no dotfile. A FIFO or a device is refused
 * before it is opened, and the open itself never waits (a FIFO swapped in after the checks
 * would wait for a writer for ever); the file opened must be the one that was checked.
 *
 * @module
 */

import { closeSync, constants, read } from "node:fs";
import { sep } from "node:path";
import { type OpenFile, openRegularFile } from "./regular_file.ts";

/** A regular file opened for serving. */
export interface ContentFile {
  /** Its size in bytes. */
  readonly size: number;
  /** Its bytes; reading them to the end closes the file. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Closes it without reading it. */
  close(): void;
}

/**
 * Opens a regular file inside a folder.
 *
 * @param root the folder, an absolute path
 * @param path the file, an absolute path inside `root`
 * @returns the open file, or undefined when there is no such file for serving
 */
export type ContentOpener = (root: string, path: string) => Promise<ContentFile | undefined>;

/**
 * Whether a relative path has a part that starts with a dot (`.env`, `.git/config`).
 *
 * @param relative a path relative to the content folder
 * @returns true when a part of it is hidden
 */
export function hasDotSegment(relative: string): boolean {
  return relative.split(/[/\\]/).some((part) => part.startsWith("."));
}

/**
 * The real opener: {@linkcode ContentOpener} on the file system.
 *
 * @param root the folder, an absolute path
 * @param path the file, an absolute path inside `root`
 * @returns the open file, or undefined when it is missing, leads out of the folder, is a
 *   dotfile, is not a regular file, or was replaced between the checks and the open
 */
export async function openContentFile(
  root: string,
  path: string,
): Promise<ContentFile | undefined> {
  const found = await regularFileWithin(root, path);
  if (!found) return undefined;
  let file: OpenFile;
  try {
    // Never waits: a FIFO put in place since the checks is refused, not opened.
    file = openRegularFile(found.path, constants.O_RDONLY);
  } catch {
    return undefined;
  }
  // Replaced between the checks and the open: not the file that was checked.
  if (file.stat.ino !== found.info.ino || file.stat.dev !== found.info.dev) {
    closeSync(file.fd);
    return undefined;
  }
  return fileStream(file.fd, file.stat.size);
}

/** The bytes of an open file, read as they are asked for; the end or a cancel closes it. */
function fileStream(fd: number, size: number): ContentFile {
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    closeSync(fd);
  };
  let position = 0;
  const readable = new ReadableStream<Uint8Array>({
    type: "bytes",
    async pull(controller) {
      const chunk = new Uint8Array(64 * 1024);
      const n = await readAt(fd, chunk, position);
      position += n;
      if (n > 0) controller.enqueue(chunk.subarray(0, n));
      if (n === 0 || position >= size) {
        close();
        controller.close();
      }
    },
    cancel: close,
  });
  return { size, readable, close };
}

function readAt(fd: number, buffer: Uint8Array, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buffer, 0, buffer.length, position, (err, n) => err ? reject(err) : resolve(n));
  });
}

/** The real path of a regular file under `root` that is no dotfile, or undefined. */
async function regularFileWithin(
  root: string,
  path: string,
): Promise<{ path: string; info: Deno.FileInfo } | undefined> {
  try {
    const [realRoot, real] = await Promise.all([Deno.realPath(root), Deno.realPath(path)]);
    if (!real.startsWith(realRoot + sep) || hasDotSegment(real.slice(realRoot.length + 1))) {
      return undefined;
    }
    const info = await Deno.stat(real);
    return info.isFile ? { path: real, info } : undefined;
  } catch {
    return undefined; // missing, or a link to nowhere
  }
}
