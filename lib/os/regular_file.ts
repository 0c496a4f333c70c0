/**
 * Opening session logs without trusting what sits at their path: a symbolic link put in
 * place of `<id>.log` would make the launcher read or truncate any file it may open, and a
 * FIFO would hang it. Every open refuses a link as the last part of the path (`O_NOFOLLOW`),
 * does not wait (`O_NONBLOCK`), and then checks that it got a regular file. Deno's own open
 * takes no such flags, so these use `node:fs` file descriptors.
 *
 * @module
 */

import { closeSync, constants, fstatSync, ftruncateSync, openSync } from "node:fs";

const NO_SURPRISES = constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** The path holds something other than a regular file (a link, a FIFO, a folder, ...). */
export class NotRegularFileError extends Error {
  /** The path. */
  readonly path: string;
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
  }
}

function checked(path: string, open: () => number, oneLink = false): number {
  let fd: number;
  try {
    fd = open();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ELOOP") throw new NotRegularFileError(path, "a symbolic link");
    // A FIFO opened for writing with no reader: it is not a log anyway.
    if (code === "ENXIO") throw new NotRegularFileError(path, "a FIFO");
    throw err;
  }
  const info = fstatSync(fd);
  const problem = !info.isFile()
    ? "a special file"
    : oneLink && info.nlink > 1
    ? "a hard link to another file"
    : undefined;
  if (problem) {
    closeSync(fd);
    throw new NotRegularFileError(path, problem);
  }
  return fd;
}

/**
 * Opens a regular file for reading.
 *
 * @param path the file
 * @returns its file descriptor, for `node:fs` reads; the caller closes it
 * @throws {NotRegularFileError} when the path is a symbolic link or not a regular file
 * @throws {Error} with `code` `ENOENT` and the like when it cannot be opened
 */
export function openForReading(path: string): number {
  return checked(path, () => openSync(path, constants.O_RDONLY | NO_SURPRISES));
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
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | NO_SURPRISES;
  const fd = checked(path, () => openSync(path, flags, mode), true);
  try {
    ftruncateSync(fd, 0);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}
