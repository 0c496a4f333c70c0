/**
 * Keeps every session log within `max_log_size`. A session's process writes its log itself,
 * through a descriptor it holds (so that it outlives the launcher), and the launcher cannot
 * stand between it and the file: instead, when a log passes the limit, its older half is
 * dropped from the start of the file while the process goes on appending at its end.
 *
 * How, in order of preference: `fallocate(COLLAPSE_RANGE)` removes the start in place,
 * atomically with respect to the appending process (ext4, XFS); else `PUNCH_HOLE` frees the
 * start's disk space (tmpfs, btrfs), the file's size going on growing over a hole that reads
 * as zeros; else the newest half is copied and the file emptied (output written at that very
 * moment may be lost), which is never done to a log whose ready line is still awaited.
 *
 * The ready line is never lost: of a starting session's log only what its follower has read
 * is dropped. Logs are checked when the folder's watch says they were written to, and every
 * second in case an event was lost.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { basename } from "node:path";
import type { LogTrimmer } from "../os/mod.ts";

/** How far the follower of a starting session's log has read it ({@linkcode DirectoryFollower}). */
export interface ReadPositions {
  /** Bytes of the file read so far, or undefined when no one follows it. */
  consumed(path: string): number | undefined;
  /** The first `bytes` of the file were removed. */
  collapsed(path: string, bytes: number): void;
}

/** How the cap is set up. */
export interface LogCapOptions {
  /** Most bytes a log may hold. */
  maxBytes: number;
  /** The logs of the live sessions. */
  files: () => Iterable<string>;
  /** Drops the start of a file. */
  trimmer: LogTrimmer;
  /** The follower, whose unread bytes must stay. */
  positions: ReadPositions;
  /** How often every live log is checked, in ms. @default 1000 */
  intervalMs?: number;
}

const logger = () => getLogger(["pvw-launcher", "sessions"]);

/** Keeps the live sessions' logs within the limit. */
export class LogCap {
  readonly #max: number;
  readonly #keep: number;
  readonly #options: LogCapOptions;
  readonly #live = new Map<string, string>();
  readonly #said = new Set<string>();
  /** How each log is trimmed, once a better way failed on it. */
  readonly #modes = new Map<string, "collapse" | "punch" | "rewrite">();
  #refreshedAt = -Infinity;
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * Makes the cap; {@linkcode LogCap.start} starts its periodic checks.
   *
   * @param options the limit, the live logs, how to trim, and the follower
   */
  constructor(options: LogCapOptions) {
    this.#options = options;
    this.#max = options.maxBytes;
    this.#keep = Math.floor(options.maxBytes / 2);
  }

  /** Checks every live log every `intervalMs`. */
  start(): void {
    this.#timer ??= setInterval(() => this.sweep(), this.#options.intervalMs ?? 1000);
  }

  /** Stops the periodic checks. */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * A file of the log folder was written to: checks it, if it is a live session's log.
   *
   * @param name its name in the folder
   */
  changed(name: string): void {
    if (!this.#live.has(name) && performance.now() - this.#refreshedAt > 100) this.#refresh();
    const path = this.#live.get(name);
    if (path !== undefined) this.check(path);
  }

  /** Checks every live log (and forgets the logs of ended sessions). */
  sweep(): void {
    this.#refresh();
    for (const path of this.#live.values()) this.check(path);
  }

  /**
   * Drops the older half of a log that holds more than the limit.
   *
   * @param path the log
   */
  check(path: string): void {
    const m = this.#options.trimmer.measure(path);
    if (!m) return;
    let mode = this.#modes.get(path) ?? "collapse";
    // A punched log's size goes on growing over the hole: what it takes on disk counts then.
    if ((mode === "punch" ? m.disk : m.size) <= this.#max) return;
    const consumed = this.#options.positions.consumed(path);
    const cut = Math.floor(Math.min(m.size - this.#keep, consumed ?? Infinity) / m.block) * m.block;
    if (cut <= 0) return;
    const { trimmer, positions } = this.#options;
    if (mode === "collapse") {
      if (trimmer.collapse(path, cut)) {
        positions.collapsed(path, cut);
        return this.#say(path);
      }
      this.#modes.set(path, mode = "punch");
    }
    if (mode === "punch") {
      if (m.disk <= this.#max) return;
      if (trimmer.punch(path, cut)) return this.#say(path);
      this.#modes.set(path, mode = "rewrite");
    }
    // The last resort may lose what is written meanwhile: never while the follower still
    // needs every byte (it is done once the session is ready).
    const marker = "[pvw-launcher: older output dropped]\n";
    if (consumed === undefined && trimmer.rewrite(path, this.#keep, marker)) this.#say(path);
  }

  #say(path: string): void {
    if (this.#said.has(path)) return;
    this.#said.add(path);
    logger().info(
      `session ${basename(path, ".log")}'s log passed ${this.#max} bytes: its older output is ` +
        "dropped from now on (max_log_size)",
    );
  }

  #refresh(): void {
    this.#refreshedAt = performance.now();
    this.#live.clear();
    for (const path of this.#options.files()) this.#live.set(basename(path), path);
    for (const path of this.#said) if (!this.#live.has(basename(path))) this.#said.delete(path);
    for (const path of this.#modes.keys()) {
      if (!this.#live.has(basename(path))) this.#modes.delete(path);
    }
  }
}
