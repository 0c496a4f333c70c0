/**
 * The file operations that drop the start of a session log while its process keeps appending
 * to it (through its own descriptor, opened with O_APPEND, so that its next write always goes
 * to the end, wherever the end now is). Files are opened as session logs always are
 * ({@linkcode openRegularFile}: no link, no special file).
 *
 * @module
 */

import { closeSync, constants, fstatSync, ftruncateSync, readSync, writeSync } from "node:fs";
import type { Libc } from "./libc.ts";
import { openRegularFile } from "./regular_file.ts";

/** A log file's size and room on disk. */
export interface LogMeasure {
  /** Its size in bytes. */
  size: number;
  /** Bytes it takes on disk (less than its size once its start was punched out). */
  disk: number;
  /** The file system's block size, which removed ranges must be multiples of. */
  block: number;
}

/** Drops the start of a file, in one of three ways. */
export interface LogTrimmer {
  /** The file's size and room on disk; undefined when missing, a link or not a file. */
  measure(path: string): LogMeasure | undefined;
  /**
   * Removes the first `bytes` and moves the rest to the start, atomically (ext4, XFS): off the
   * event loop, unless `followed` (the launcher reads the file too, and must never read it
   * half-way through the move): then it is done before `collapse` returns.
   */
  collapse(path: string, bytes: number, followed?: boolean): Promise<boolean>;
  /**
   * Frees the disk space of the first `bytes`, which then read as zeros (tmpfs, btrfs), off
   * the event loop.
   */
  punch(path: string, bytes: number): Promise<boolean>;
  /**
   * Keeps only the last `keep` bytes after `marker`, by copying them and emptying the file: a
   * writer's output in the meantime may be lost or land before the marker. The last resort.
   */
  rewrite(path: string, keep: number, marker: string): boolean;
}

function open(path: string, flags: number): number | undefined {
  try {
    return openRegularFile(path, flags, { oneLink: true }).fd;
  } catch {
    return undefined; // gone, a link, or not ours
  }
}

function withFile<T>(path: string, flags: number, fallback: T, fn: (fd: number) => T): T {
  const fd = open(path, flags);
  if (fd === undefined) return fallback;
  try {
    return fn(fd);
  } catch {
    return fallback;
  } finally {
    closeSync(fd);
  }
}

/** As {@linkcode withFile}, the file open until `fn`'s promise settles. */
async function withFileAsync(
  path: string,
  flags: number,
  fn: (fd: number) => Promise<boolean>,
): Promise<boolean> {
  const fd = open(path, flags);
  if (fd === undefined) return false;
  try {
    return await fn(fd);
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/**
 * The real trimmer.
 *
 * @param libc the C library, for `fallocate`; without it only {@linkcode LogTrimmer.rewrite}
 *   works
 * @returns the trimmer
 */
export function createLogTrimmer(libc: Libc | undefined): LogTrimmer {
  const none = () => Promise.resolve(false);
  return {
    measure: (path) =>
      withFile(path, constants.O_RDONLY, undefined, (fd) => {
        const st = fstatSync(fd);
        return { size: st.size, disk: (st.blocks ?? 0) * 512, block: st.blksize || 4096 };
      }),
    collapse: (path, bytes, followed) =>
      libc
        ? withFileAsync(path, constants.O_WRONLY, (fd) => libc.collapseStart(fd, bytes, followed))
        : none(),
    punch: (path, bytes) =>
      libc ? withFileAsync(path, constants.O_WRONLY, (fd) => libc.punchStart(fd, bytes)) : none(),
    rewrite: (path, keep, marker) =>
      withFile(path, constants.O_RDWR | constants.O_APPEND, false, (fd) => {
        const size = fstatSync(fd).size;
        const tail = new Uint8Array(Math.min(keep, size));
        const n = readSync(fd, tail, 0, tail.length, size - tail.length);
        ftruncateSync(fd, 0);
        writeSync(fd, new TextEncoder().encode(marker));
        writeSync(fd, tail.subarray(0, n));
        return true;
      }),
  };
}
