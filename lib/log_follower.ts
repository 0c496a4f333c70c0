/**
 * Follows the log files of starting sessions, event-driven: one `Deno.watchFs` (inotify on
 * Linux) on the log directory wakes the follower of a file whenever its process wrote to it,
 * and the follower reads what was appended. No fixed polling interval: a ready line is seen
 * within a few milliseconds of being written.
 *
 * @module
 */

import { closeSync, readSync } from "node:fs";
import { basename, resolve } from "node:path";
import { openForReading } from "./regular_file.ts";

/** Receives the bytes appended to a followed file, in order. */
export type ChunkHandler = (chunk: Uint8Array) => void;

/** One followed file. */
export interface Follow {
  /** Reads everything written so far and hands it to the handler. */
  drain(): Promise<void>;
  /** Stops following and closes the file. */
  close(): void;
}

/** Something that can follow files as they grow. */
export interface LogFollower {
  /**
   * Starts following `path`; the file may not exist yet.
   *
   * @param path absolute path of the file
   * @param onChunk receives appended bytes
   */
  follow(path: string, onChunk: ChunkHandler): Follow;
  /** Stops watching; every follow is closed. */
  close(): void;
}

const READ_SIZE = 16 * 1024;
const MAX_READ = 4 * 1024 * 1024;

class FileFollow implements Follow {
  #buffer: Uint8Array | undefined;
  #path: string;
  #onChunk: ChunkHandler;
  #fd: number | undefined;
  #more: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #onClose: () => void;

  constructor(path: string, onChunk: ChunkHandler, onClose: () => void) {
    this.#path = path;
    this.#onChunk = onChunk;
    this.#onClose = onClose;
  }

  drain(): Promise<void> {
    try {
      this.#read();
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  // Synchronous reads of a regular file: each async file operation would cost a round trip
  // through Deno's thread pool, on the path from ready line to answer. A process that has
  // written a lot is read at most MAX_READ at a time, yielding to the event loop between.
  // A link or special file put in place of the log is never read (openForReading throws).
  #read(): void {
    if (this.#closed || this.#more !== undefined) return;
    if (this.#fd === undefined) {
      try {
        this.#fd = openForReading(this.#path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
        throw err;
      }
    }
    const buffer = this.#buffer ??= new Uint8Array(READ_SIZE);
    for (let total = 0; !this.#closed;) {
      const n = readSync(this.#fd, buffer, 0, buffer.length, null);
      if (n === 0) return;
      this.#onChunk(buffer.slice(0, n));
      total += n;
      if (total >= MAX_READ && !this.#closed) {
        this.#more = setTimeout(() => {
          this.#more = undefined;
          this.#read();
        }, 0);
        return;
      }
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#more);
    this.#onClose();
    try {
      if (this.#fd !== undefined) closeSync(this.#fd);
    } catch {
      // already closed
    }
    this.#fd = undefined;
  }
}

/**
 * Follows files of one directory with a single inotify watch.
 *
 * @example
 * ```ts ignore
 * const follower = DirectoryFollower.open("/var/log/pvw");
 * const f = follower.follow("/var/log/pvw/abc.log", (bytes) => console.log(bytes.length));
 * await f.drain();
 * f.close();
 * follower.close();
 * ```
 */
export class DirectoryFollower implements LogFollower {
  #dir: string;
  #follows = new Map<string, Set<FileFollow>>();
  #watcher: Deno.FsWatcher;
  #loop: Promise<void>;

  private constructor(dir: string) {
    this.#dir = resolve(dir);
    this.#watcher = Deno.watchFs(this.#dir, { recursive: false });
    this.#loop = this.#dispatch();
  }

  /**
   * Starts watching a directory.
   *
   * @param dir the directory whose files will be followed; must exist
   * @returns the follower
   */
  static open(dir: string): DirectoryFollower {
    return new DirectoryFollower(dir);
  }

  async #dispatch(): Promise<void> {
    try {
      for await (const event of this.#watcher) {
        if (event.kind !== "modify" && event.kind !== "create") continue;
        for (const path of event.paths) {
          for (const f of this.#follows.get(basename(path)) ?? []) f.drain().catch(() => {});
        }
      }
    } catch {
      // the watcher was closed
    }
  }

  follow(path: string, onChunk: ChunkHandler): Follow {
    const name = basename(path);
    const set = this.#follows.get(name) ?? new Set();
    this.#follows.set(name, set);
    const follow: FileFollow = new FileFollow(resolve(this.#dir, name), onChunk, () => {
      set.delete(follow);
      if (set.size === 0) this.#follows.delete(name);
    });
    set.add(follow);
    return follow;
  }

  /** Number of files followed now. */
  get size(): number {
    return this.#follows.size;
  }

  close(): void {
    for (const set of [...this.#follows.values()]) for (const f of [...set]) f.close();
    try {
      this.#watcher.close();
    } catch {
      // already closed
    }
  }

  /** Settles once the watch loop has ended after {@linkcode DirectoryFollower.close}. */
  closed(): Promise<void> {
    return this.#loop;
  }
}
