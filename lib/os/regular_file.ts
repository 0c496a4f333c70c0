/**
 * Opening files without trusting what sits at their path: a symbolic link put in place of
 * `<id>.log` would make the launcher read or truncate any file it may open, a hard link would
 * show another file's content as a session's log, and a FIFO would hang it. Every open of the
 * launcher's session logs, their trimming and the static content's files goes through
 * {@linkcode openRegularFile}: it refuses a link as the last part of the path (`O_NOFOLLOW`),
 * does not wait (`O_NONBLOCK`), and then checks that it got a regular file. Deno's own open
 * takes no such flags, so these use `node:fs` file descriptors.
 *
 * @module
 */

import { closeSync, constants, fstatSync, ftruncateSync, openSync, type Stats } from "node:fs";

/** The path holds something other than a regular file (a link, a FIFO, a folder, ...). */
export class NotRegularFileError extends Error {
  /** The path. */
  readonly path: string;
  /** What the path holds instead, such as "a symbolic link". */
  readonly what: string;
  /**
   * Makes the error.
   *
   * @param path the path
   * @param what what it holds instead, such as "a symbolic link"
   */
  constructor(path: string, what: string) {
    super(`${path} is ${what}, not a regular file; it is left alone`);
    this.name = "NotRegularFileError";
    this.path = path;
    this.what = what;
  }
}

/** How {@linkcode openRegularFile} opens a file. */
export interface OpenOptions {
  /** Permission bits of a file `O_CREAT` creates. @default 0o600 */
  mode?: number;
  /** Refuse a file with other hard links: another file's content under this name. */
  oneLink?: boolean;
}

/** An open regular file: its descriptor, for `node:fs` calls, and what `fstat` said. */
export interface OpenFile {
  /** The descriptor; the caller closes it. */
  fd: number;
  /** The file's status when it was opened. */
  stat: Stats;
}

/**
 * Opens a regular file, never through a symbolic link, never waiting for a FIFO's other end.
 *
 * @param path the file
 * @param flags `node:fs` `constants.O_*` flags (`O_NOFOLLOW` and `O_NONBLOCK` are added)
 * @param options the mode of a created file, and whether other hard links are refused
 * @returns the descriptor and its status
 * @throws {NotRegularFileError} when the path is a symbolic link, a special file or (with
 *   `oneLink`) a hard link to another file
 * @throws {Error} with `code` `ENOENT` and the like when it cannot be opened
 */
export function openRegularFile(path: string, flags: number, options: OpenOptions = {}): OpenFile {
  let fd: number;
  try {
    const safe = flags | constants.O_NOFOLLOW | constants.O_NONBLOCK;
    fd = openSync(path, safe, options.mode ?? 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ELOOP") throw new NotRegularFileError(path, "a symbolic link");
    // A FIFO opened for writing with no reader.
    if (code === "ENXIO") throw new NotRegularFileError(path, "a FIFO");
    throw err;
  }
  const stat = fstatSync(fd);
  const problem = !stat.isFile()
    ? "a special file"
    : options.oneLink && stat.nlink > 1
    ? "a hard link to another file"
    : undefined;
  if (problem) {
    closeSync(fd);
    throw new NotRegularFileError(path, problem);
  }
  return { fd, stat };
}

/**
 * Opens a session log for reading. A log is the launcher's own file: one with other hard links
 * is refused too.
 *
 * @param path the file
 * @returns its file descriptor, for `node:fs` reads; the caller closes it
 * @throws {NotRegularFileError} when the path is a symbolic link, a hard link to another
 *   file, or not a regular file
 * @throws {Error} with `code` `ENOENT` and the like when it cannot be opened
 */
export function openForReading(path: string): number {
  return openRegularFile(path, constants.O_RDONLY, { oneLink: true }).fd;
}

/**
 * Creates a file, or empties a regular one, for appending, with `mode` if it is created. A
 * file with other hard links is refused before it is emptied: it is another file's content.
 *
 * @param path the file
 * @param mode permission bits of a new file
 * @returns its file descriptor; the caller closes it
 * @throws {NotRegularFileError} when the path is a symbolic link, a hard link to another
 *   file, or not a regular file
 * @throws {Error} with `code` `ENOENT` and the like when it cannot be opened
 */
export function openForWriting(path: string, mode: number): number {
  // O_APPEND: each write goes to the end of the file, wherever the end is once the log cap has
  // dropped its start; without it a process would write on at its old offset, past the end.
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND;
  const { fd } = openRegularFile(path, flags, { mode, oneLink: true });
  try {
    ftruncateSync(fd, 0);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

/**
 * Makes a session's log empty, as {@linkcode openForWriting} does, without keeping it open:
 * for a log another host's process will append to (a Slurm job's output), so that its
 * follower reads and watches it from the start.
 *
 * @param path the file
 * @param mode permission bits of a new file
 * @throws {NotRegularFileError} and the like, as {@linkcode openForWriting}
 */
export function prepareLog(path: string, mode: number): void {
  closeSync(openForWriting(path, mode));
}
