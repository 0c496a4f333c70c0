/**
 * Reads the end of a log file without reading the rest: a seek, then at most the bytes asked
 * for, however large the file has grown.
 *
 * @module
 */

import { closeSync, fstatSync, readSync } from "node:fs";
import { openForReading } from "./regular_file.ts";

/** The end of a log file. */
export interface LogTail {
  /** The text, starting at a line boundary when the file was cut. */
  text: string;
  /** The file's size in bytes when it was read (0 when it does not exist). */
  size: number;
  /** Whether the file holds more than `text`. */
  truncated: boolean;
}

/**
 * Reads at most the last `maxBytes` bytes of a file. When that cuts the file, the partial
 * first line (and any split UTF-8 character in it) is left out, unless it is the only line;
 * zero bytes (a start punched out by the log cap) and what comes before them are left out.
 * A symbolic link or anything but a regular file at `path` is refused, never read.
 *
 * @param path the file
 * @param maxBytes most bytes read
 * @returns the tail; an empty one when the file does not exist
 * @throws {NotRegularFileError} when the path holds a link, a FIFO or another special file
 * @throws {Error} other file system errors except a missing file
 */
export function readTail(path: string, maxBytes: number): Promise<LogTail> {
  try {
    return Promise.resolve(readTailSync(path, maxBytes));
  } catch (err) {
    return Promise.reject(err);
  }
}

// Synchronous reads: at most 1 MiB from the page cache, in a fraction of a millisecond.
function readTailSync(path: string, maxBytes: number): LogTail {
  let fd: number;
  try {
    fd = openForReading(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      return { text: "", size: 0, truncated: false };
    }
    throw err;
  }
  try {
    const { size } = fstatSync(fd);
    const start = Math.max(0, size - maxBytes);
    // One byte more, before the tail, tells whether the tail starts a line.
    const from = Math.max(0, start - 1);
    const buf = new Uint8Array(size - from);
    let filled = 0;
    while (filled < buf.length) {
      const n = readSync(fd, buf, filled, buf.length - filled, from + filled);
      if (n === 0) break;
      filled += n;
    }
    let bytes = buf.subarray(0, filled);
    // A log whose start the log cap punched out reads as zeros there: they are no output.
    const hole = bytes.lastIndexOf(0);
    if (hole >= 0) return { text: decode(bytes.subarray(hole + 1)), size, truncated: true };
    if (start > 0) {
      const newline = bytes.indexOf(0x0a);
      // Drop the byte before the tail and, unless it ended a line, the partial first line.
      bytes = newline >= 0 && newline < bytes.length - 1
        ? bytes.subarray(newline + 1)
        : bytes.subarray(1);
    }
    return { text: decode(bytes), size, truncated: start > 0 };
  } finally {
    closeSync(fd);
  }
}

function decode(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
