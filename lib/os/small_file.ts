/**
 * Reading a small regular file whole, with its owner and mode: certificates and keys.
 *
 * @module
 */

/** A file's text and who may read it. */
export interface SmallFile {
  /** Its content. */
  text: string;
  /** Its owner. */
  uid: number;
  /** Its mode bits (permissions and type). */
  mode: number;
}

/**
 * Reads a small file. It is checked to be a regular file before it is opened (a FIFO or a
 * device would block or never end), and its owner and mode are those of the very file read
 * (`fstat` on the open descriptor; symbolic links are followed, as certbot's `live/` needs).
 *
 * @param path the file
 * @param maxBytes the largest file read
 * @returns its text, owner and mode
 * @throws {Error} with a message saying what is wrong: not a regular file, too large, or the
 *   file system's own error
 */
export async function readSmallFile(path: string, maxBytes: number): Promise<SmallFile> {
  if (!(await Deno.stat(path)).isFile) throw new Error("not a regular file");
  using file = await Deno.open(path, { read: true });
  const stat = await file.stat();
  if (!stat.isFile) throw new Error("not a regular file");
  if (stat.size > maxBytes) throw new Error(`over ${maxBytes} bytes`);
  const bytes = new Uint8Array(stat.size);
  let filled = 0;
  while (filled < bytes.length) {
    const n = await file.read(bytes.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  const text = new TextDecoder().decode(bytes.subarray(0, filled));
  return { text, uid: stat.uid ?? -1, mode: stat.mode ?? 0 };
}
