/**
 * Reads the end of a log file without reading the rest: a seek, then at most the bytes asked
 * for, however large the file has grown.
 *
 * @module
 */

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
 *
 * @param path the file
 * @param maxBytes most bytes read
 * @returns the tail; an empty one when the file does not exist
 * @throws {Deno.errors.PermissionDenied} and other file system errors except NotFound
 */
export async function readTail(path: string, maxBytes: number): Promise<LogTail> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { text: "", size: 0, truncated: false };
    throw err;
  }
  try {
    const { size } = await file.stat();
    const start = Math.max(0, size - maxBytes);
    // One byte more, before the tail, tells whether the tail starts a line.
    const from = Math.max(0, start - 1);
    await file.seek(from, Deno.SeekMode.Start);
    const buf = new Uint8Array(size - from);
    let filled = 0;
    while (filled < buf.length) {
      const n = await file.read(buf.subarray(filled));
      if (n === null) break;
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
    file.close();
  }
}

function decode(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
