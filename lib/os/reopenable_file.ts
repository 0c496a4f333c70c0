/**
 * The launcher's own log file, re-opened on request (SIGHUP), so logrotate can move it away
 * and the launcher goes on writing to a new file at the same path.
 *
 * @module
 */

/** An append-only log file that can be re-opened at its path. */
export class ReopenableLogFile {
  #path: string;
  #file: Deno.FsFile;

  /**
   * Opens (or creates, mode 0640) the file for appending.
   *
   * @param path the log file
   * @throws {Deno.errors.NotFound} and other file system errors when it cannot be opened
   */
  constructor(path: string) {
    this.#path = path;
    this.#file = ReopenableLogFile.#open(path);
  }

  static #open(path: string): Deno.FsFile {
    return Deno.openSync(path, { append: true, create: true, mode: 0o640 });
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
    return this.#file.writeSync(bytes);
  }

  /**
   * Opens the path again, for a file that was moved away; the old handle is closed once the
   * new one is open, so no line is lost if the path cannot be opened.
   *
   * @throws {Deno.errors.NotFound} and other file system errors when it cannot be opened
   */
  reopen(): void {
    const next = ReopenableLogFile.#open(this.#path);
    this.#file.close();
    this.#file = next;
  }

  /** Closes the file. */
  close(): void {
    this.#file.close();
  }
}
