/**
 * The file operations that drop the start of a session log while its process keeps appending
 * to it (through its own descriptor, opened with O_APPEND, so that its next write always goes
 * to the end, wherever the end now is). Files are opened without following symlinks.
 *
 * @module
 */

import {
  closeSync,
  constants,
  fstatSync,
  ftruncateSync,
  openSync,
  readSync,
  writeSync,
} from "node:fs";
import type { Libc } from "./libc.ts";

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
  /** The file's size and room on disk; undefined when missing, a symlink or not a file. */
  measure(path: string): LogMeasure | undefined;
  /** Removes the first `bytes` and moves the rest to the start, atomically (ext4, XFS). */
  collapse(path: string, bytes: number): boolean;
  /** Frees the disk space of the first `bytes`, which then read as zeros (tmpfs, btrfs). */
  punch(path: string, bytes: number): boolean;
  /**
   * Keeps only the last `keep` bytes after `marker`, by copying them and emptying the file: a
   * writer's output in the meantime may be lost or land before the marker. The last resort.
   */
  rewrite(path: string, keep: number, marker: string): boolean;
}

function open(path: string, flags: number): number | undefined {
  try {
    return openSync(path, flags | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined; // gone, a symlink, or not ours
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

/**
 * The real trimmer.
 *
 * @param libc the C library, for `fallocate`; without it only {@linkcode LogTrimmer.rewrite}
 *   works
 * @returns the trimmer
 */
export function createLogTrimmer(libc: Libc | undefined): LogTrimmer {
  return {
    measure: (path) =>
      withFile(path, constants.O_RDONLY, undefined, (fd) => {
        const st = fstatSync(fd);
        if (!st.isFile()) return undefined;
        return { size: st.size, disk: (st.blocks ?? 0) * 512, block: st.blksize || 4096 };
      }),
    collapse: (path, bytes) =>
      !!libc && withFile(path, constants.O_WRONLY, false, (fd) => libc.collapseStart(fd, bytes)),
    punch: (path, bytes) =>
      !!libc && withFile(path, constants.O_WRONLY, false, (fd) => libc.punchStart(fd, bytes)),
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
