/**
 * Opening a file of the static content folder without trusting what sits at its path: the
 * file must be a regular file inside the folder once symlinks are followed (a link may lead
 * elsewhere in the folder, never out of it), and no dotfile. A FIFO or a device is refused
 * before it is opened, since opening a FIFO would wait for a writer for ever; the file opened
 * must be the one that was checked.
 *
 * @module
 */

import { sep } from "node:path";

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
  let file: Deno.FsFile;
  try {
    file = await Deno.open(found.path, { read: true });
  } catch {
    return undefined;
  }
  const info = await file.stat();
  // Replaced between the checks and the open: not the file that was checked.
  if (!info.isFile || info.ino !== found.info.ino || info.dev !== found.info.dev) {
    file.close();
    return undefined;
  }
  return { size: info.size, readable: file.readable, close: () => file.close() };
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
