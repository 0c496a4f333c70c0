/**
 * Follows the log files of starting sessions, event-driven: one `Deno.watchFs` (inotify on
 * Linux) on the followed files, and on them only, wakes the follower of a file whenever its
 * process wrote to it, and the follower reads what was appended. A ready line is seen within a
 * few milliseconds of being written. Once a session is ready its log is no longer followed nor
 * watched: a session that writes without pause then costs the launcher nothing (a watch on the
 * whole folder would wake it at every write of every session).
 *
 * The watch is made again whenever the set of followed files that exist changes (a watch is
 * given its paths once), at most once per turn of the event loop, and the files are read once
 * after each change, so that nothing written meanwhile waits for the next event.
 *
 * Events can be lost: the kernel's queue overflows under a flood of writes, a watch cannot be
 * made (too many inotify instances), or the file was replaced. So while any file is followed
 * every followed file is also read every `pollMs` (half a second by default): a lost event
 * delays a ready line by that much at most, never until the session's timeout.
 *
 * @module
 */

import { closeSync, existsSync, readSync } from "node:fs";
import { basename, join, resolve } from "node:path";
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

/** What a watch of files yields: `Deno.watchFs` in production. */
export interface FolderWatch extends AsyncIterable<Deno.FsEvent> {
  /** Ends the watch. */
  close(): void;
}

/** How a follower is set up. */
export interface DirectoryFollowerOptions {
  /** Watches files (each exists when it is asked for). @default Deno.watchFs */
  watch?: (paths: string[]) => FolderWatch;
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
  #onOpen: () => void;
  /** Bytes read from the start of the file. */
  position = 0;

  constructor(path: string, onChunk: ChunkHandler, hooks: { open(): void; close(): void }) {
    this.#path = path;
    this.#onChunk = onChunk;
    this.#onOpen = hooks.open;
    this.#onClose = hooks.close;
  }

  /** Whether the file was found: only then can it be watched. */
  get opened(): boolean {
    return this.#fd !== undefined;
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
      this.#onOpen();
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
 * Follows files of one directory with a single inotify watch on the followed files, and reads
 * them now and then whatever the watch says.
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
  #watch: (paths: string[]) => FolderWatch;
  #watcher: { watch: FolderWatch; names: string } | undefined;
  #loops = new Set<Promise<void>>();
  #rewatch: ReturnType<typeof setTimeout> | undefined;
  #rewatchAgain = false;
  #pollMs: number;
  #poll: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  private constructor(dir: string, options: DirectoryFollowerOptions) {
    this.#dir = resolve(dir);
    this.#pollMs = options.pollMs ?? 500;
    this.#watch = options.watch ?? ((paths) => Deno.watchFs(paths, { recursive: false }));
  }

  /**
   * Makes a follower of a directory's files; nothing is watched until a file is followed.
   *
   * @param dir the directory whose files will be followed
   * @param options how to watch them, and how often to read without an event
   * @returns the follower
   */
  static open(dir: string, options: DirectoryFollowerOptions = {}): DirectoryFollower {
    return new DirectoryFollower(dir, options);
  }

  async #dispatch(watch: FolderWatch): Promise<void> {
    try {
      for await (const event of watch) {
        // An overflowed queue says so with a rescan flag: anything may have changed.
        if (event.flag === "rescan") this.#drainAll();
        for (const path of event.paths) {
          for (const f of this.#follows.get(basename(path)) ?? []) f.drain().catch(() => {});
        }
      }
    } catch {
      // the watch was closed
    }
  }

  #drainAll(): void {
    for (const set of this.#follows.values()) for (const f of set) f.drain().catch(() => {});
  }

  /**
   * The followed files that exist changed: watch them instead. The first change after a quiet
   * spell is watched at the end of this turn (a new session's ready line, a millisecond after
   * its spawn, must not wait for a timer); the changes that follow it within the next turn of
   * timers are watched together, once (a burst of launches makes one watch, not hundreds).
   */
  #changed(): void {
    if (this.#closed) return;
    if (this.#rewatch !== undefined) {
      this.#rewatchAgain = true;
      return;
    }
    this.#rewatchAgain = false;
    queueMicrotask(() => this.#watchFollowed());
    this.#rewatch = setTimeout(() => {
      this.#rewatch = undefined;
      if (this.#rewatchAgain) this.#changed();
    }, 0);
  }

  #watchFollowed(): void {
    if (this.#closed) return;
    const names = [...this.#follows].filter(([, set]) => [...set].some((f) => f.opened))
      .map(([name]) => name).sort();
    if (this.#watcher?.names === names.join("/")) return;
    const previous = this.#watcher;
    this.#watcher = undefined;
    if (names.length > 0 && !this.#watchFiles(names, names)) {
      // A file removed meanwhile cannot be watched: the others still are.
      this.#watchFiles(names, names.filter((name) => existsSync(join(this.#dir, name))));
    }
    closeWatch(previous?.watch);
    // Written between the last event of the old watch and the new one's start.
    this.#drainAll();
  }

  /** Watches `list` for the followed `names`; false when it cannot (read by polling then). */
  #watchFiles(names: string[], list: string[]): boolean {
    try {
      const watch = this.#watch(list.map((name) => join(this.#dir, name)));
      this.#watcher = { watch, names: names.join("/") };
      const loop = this.#dispatch(watch);
      this.#loops.add(loop);
      loop.then(() => this.#loops.delete(loop));
      return true;
    } catch {
      return false; // no inotify instance left, or a file gone
    }
  }

  follow(path: string, onChunk: ChunkHandler): Follow {
    const name = basename(path);
    const set = this.#follows.get(name) ?? new Set();
    this.#follows.set(name, set);
    const follow: FileFollow = new FileFollow(resolve(this.#dir, name), onChunk, {
      open: () => this.#changed(),
      close: () => {
        set.delete(follow);
        if (set.size === 0) this.#follows.delete(name);
        if (this.#follows.size === 0) this.#stopPolling();
        this.#changed();
      },
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
    this.#closed = true;
    clearTimeout(this.#rewatch);
    this.#stopPolling();
    for (const set of [...this.#follows.values()]) for (const f of [...set]) f.close();
    closeWatch(this.#watcher?.watch);
    this.#watcher = undefined;
  }

  /** Settles once the watch loops have ended after {@linkcode DirectoryFollower.close}. */
  async closed(): Promise<void> {
    await Promise.all([...this.#loops]);
  }
}

function closeWatch(watch: FolderWatch | undefined): void {
  try {
    watch?.close();
  } catch {
    // already closed
  }
}
