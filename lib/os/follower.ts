/**
 * Follows the log files of starting sessions, event-driven: one `Deno.watchFs` (inotify on
 * Linux) on the log directory wakes the follower of a file whenever its process wrote to it,
 * and the follower reads what was appended. A ready line is seen within a few milliseconds of
 * being written.
 *
 * Events can be lost: the kernel's queue overflows under a flood of writes, and a watch on a
 * folder that was replaced (moved away and made again) sees nothing more. So while any file is
 * followed every followed file is also read every `pollMs` (half a second by default): a lost
 * event delays a ready line by that much at most, never until the session's timeout.
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

/** What a watch of a folder yields: `Deno.watchFs` in production. */
export interface FolderWatch extends AsyncIterable<Deno.FsEvent> {
  /** Ends the watch. */
  close(): void;
}

/** How a follower is set up. */
export interface DirectoryFollowerOptions {
  /** Watches the folder. @default Deno.watchFs, not recursive */
  watch?: (dir: string) => FolderWatch;
  /** How often followed files are read even without an event, in ms. @default 500 */
  pollMs?: number;
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
  /** Bytes read from the start of the file. */
  position = 0;

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

  /** The first `bytes` of the file were removed and the rest moved to its start. */
  collapsed(bytes: number): void {
    this.position = Math.max(0, this.position - bytes);
  }

  // Synchronous reads of a regular file: each async file operation would cost a round trip
  // through Deno's thread pool, on the path from ready line to answer. A process that has
  // written a lot is read at most MAX_READ at a time, yielding to the event loop between.
  #read(): void {
    if (this.#closed || this.#more !== undefined) return;
    // A link or special file put in place of the log is never read (openForReading throws).
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
      const n = readSync(this.#fd, buffer, 0, buffer.length, this.position);
      if (n === 0) return;
      this.position += n;
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
 * Follows files of one directory with a single inotify watch, and reads them now and then
 * whatever the watch says.
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
  #watcher: FolderWatch;
  #loop: Promise<void>;
  #pollMs: number;
  #poll: ReturnType<typeof setInterval> | undefined;
  readonly #changeListeners = new Set<(name: string) => void>();

  private constructor(dir: string, options: DirectoryFollowerOptions) {
    this.#dir = resolve(dir);
    this.#pollMs = options.pollMs ?? 500;
    const watch = options.watch ?? ((d: string) => Deno.watchFs(d, { recursive: false }));
    this.#watcher = watch(this.#dir);
    this.#loop = this.#dispatch();
  }

  /**
   * Starts watching a directory.
   *
   * @param dir the directory whose files will be followed; must exist
   * @param options how to watch it, and how often to read without an event
   * @returns the follower
   */
  static open(dir: string, options: DirectoryFollowerOptions = {}): DirectoryFollower {
    return new DirectoryFollower(dir, options);
  }

  async #dispatch(): Promise<void> {
    try {
      for await (const event of this.#watcher) {
        // An overflowed queue says so with a rescan flag: anything may have changed.
        if (event.flag === "rescan") this.#drainAll();
        if (event.kind !== "modify" && event.kind !== "create") continue;
        for (const path of event.paths) {
          const name = basename(path);
          for (const f of this.#follows.get(name) ?? []) f.drain().catch(() => {});
          for (const listener of this.#changeListeners) listener(name);
        }
      }
    } catch {
      // the watcher was closed
    }
  }

  #drainAll(): void {
    for (const set of this.#follows.values()) for (const f of set) f.drain().catch(() => {});
  }

  /**
   * Tells a listener of every file of the folder that is written to from now on, followed
   * or not (the log cap).
   *
   * @param listener told the file's name in the folder
   */
  onChange(listener: (name: string) => void): void {
    this.#changeListeners.add(listener);
  }

  follow(path: string, onChunk: ChunkHandler): Follow {
    const name = basename(path);
    const set = this.#follows.get(name) ?? new Set();
    this.#follows.set(name, set);
    const follow: FileFollow = new FileFollow(resolve(this.#dir, name), onChunk, () => {
      set.delete(follow);
      if (set.size === 0) this.#follows.delete(name);
      if (this.#follows.size === 0) this.#stopPolling();
    });
    set.add(follow);
    this.#poll ??= setInterval(() => this.#drainAll(), this.#pollMs);
    return follow;
  }

  #stopPolling(): void {
    clearInterval(this.#poll);
    this.#poll = undefined;
  }

  /** Number of files followed now. */
  get size(): number {
    return this.#follows.size;
  }

  /**
   * How far the follows of a file have read it: what may be dropped from its start.
   *
   * @param path the file
   * @returns the fewest bytes any of its follows has read, or undefined when none follows it
   */
  consumed(path: string): number | undefined {
    const set = this.#follows.get(basename(path));
    if (!set?.size) return undefined;
    return Math.min(...[...set].map((f) => f.position));
  }

  /**
   * Tells the follows of a file that its first `bytes` were removed (by the log cap).
   *
   * @param path the file
   * @param bytes how many bytes were removed from its start
   */
  collapsed(path: string, bytes: number): void {
    for (const f of this.#follows.get(basename(path)) ?? []) f.collapsed(bytes);
  }

  close(): void {
    this.#stopPolling();
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
