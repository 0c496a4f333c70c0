/**
 * The launcher's own log file, re-opened on request (SIGHUP), so logrotate can move it away
 * and the launcher goes on writing to a new file at the same path.
 *
 * The log holds the dashboard's login URL, token included: the file is created 0600, opened
 * without following a link ({@linkcode openRegularFile}), and refused when another user owns
 * it or may write to it, who could otherwise have made the launcher append to a file of their
 * choosing, or read the token.
 *
 * @module
 */

import { closeSync, constants, writeSync } from "node:fs";
import { currentUid } from "./folder_checks.ts";
import { openRegularFile } from "./regular_file.ts";

/** An append-only log file that can be re-opened at its path. */
export class ReopenableLogFile {
  #path: string;
  #fd: number;

  /**
   * Opens (or creates, mode 0600) the file for appending.
   *
   * @param path the log file
   * @throws {NotRegularFileError} when the path is a symbolic link, a hard link or no file
   * @throws {Error} when another user owns the file or may write to it, and file system
   *   errors when it cannot be opened
   */
  constructor(path: string) {
    this.#path = path;
    this.#fd = ReopenableLogFile.#open(path);
  }

  static #open(path: string): number {
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND;
    const { fd, stat } = openRegularFile(path, flags, { mode: 0o600, oneLink: true });
    const uid = currentUid();
    const problem = stat.uid !== uid
      ? `it belongs to user ${stat.uid}, not to the launcher's user (${uid}); remove it, or ` +
        `run "chown ${uid} ${path}"`
      : (stat.mode & 0o022) !== 0
      ? `other users may write to it (mode 0${(stat.mode & 0o777).toString(8)}); run ` +
        `"chmod 600 ${path}"`
      : undefined;
    if (problem) {
      closeSync(fd);
      throw new Error(`${path}: ${problem}`);
    }
    return fd;
  }

  /** The file's path. */
  get path(): string {
    return this.#path;
  }

  /**
   * Writes bytes at the end of the file.
   *
   * @param bytes what to write
   * @returns how many bytes were written
   */
  writeSync(bytes: Uint8Array): number {
    return writeSync(this.#fd, bytes);
  }

  /**
   * Opens the path again, for a file that was moved away; the old file is closed once the
   * new one is open, so no line is lost if the path cannot be opened.
   *
   * @throws what the constructor throws
   */
  reopen(): void {
    const next = ReopenableLogFile.#open(this.#path);
    closeSync(this.#fd);
    this.#fd = next;
  }

  /** Closes the file. */
  close(): void {
    closeSync(this.#fd);
  }
}
